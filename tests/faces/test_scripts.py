"""scripts/evaluate_faces.py and scripts/bench_faces.py on a handful of real photos (tests/fixtures/faces)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.photos import FACES

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import evaluate_faces  # noqa: E402

PAIRS = [  # (a, b, same)
    ("deepface_id01/img5.jpg", "deepface_id01/img11.jpg", 1),
    ("deepface_id03/img50.jpg", "deepface_id03/img51.jpg", 1),
    ("deepface_id05/img16.jpg", "deepface_id05/img17.jpg", 1),
    ("deepface_id01/img5.jpg", "deepface_id03/img50.jpg", 0),
    ("deepface_id10/img46.jpg", "deepface_id05/img16.jpg", 0),
    ("noface/skimage_rocket.jpg", "deepface_id10/img44.jpg", 1),  # no face: an error, never skipped
    ("deepface_id10/img44.jpg", "noface/skimage_brick.png", 0),  # an error too, although "different" is the truth
]


@pytest.fixture
def pairs_csv(tmp_path, models_dir, monkeypatch) -> Path:
    folder = tmp_path / "set"
    for a, b, _ in PAIRS:
        for rel in (a, b):
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(FACES / rel, folder / rel)
    path = folder / "pairs.csv"
    path.write_text("a,b,same\n" + "".join(f"{a},{b},{s}\n" for a, b, s in PAIRS))
    monkeypatch.setenv("MODELS_DIR", str(models_dir))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    return path


def test_evaluate_faces_json_counts_undetected_faces_as_errors(pairs_csv, capsys):
    assert evaluate_faces.main(["--pairs", str(pairs_csv), "--model", "sface", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("model_id", "pairs", "failed", "threshold", "accuracy", "fmr", "fnmr", "best_threshold",
                "best_accuracy", "ms_per_image"):
        assert key in out, key
    assert out["model_id"] == "sface-2021dec" and out["pairs"] == len(PAIRS)
    assert out["failed"] == 2 and out["failed_images"] == ["noface/skimage_brick.png", "noface/skimage_rocket.jpg"]
    assert out["pairs_with_failed_image"] == 2
    from server.faces.calibration import curve_for
    from server.faces.operating import one_to_one

    assert out["threshold"] == round(one_to_one(curve_for("sface-2021dec")).threshold, 4)  # the shipped 1:1 point
    assert out["accuracy"] == round(5 / 7, 4)  # the 5 pairs with faces are right; the 2 without count as wrong
    assert out["fmr"] == 0.0 and out["fnmr"] == 0.25  # 1 of 4 genuine pairs missed (the no-face one)
    assert out["best_accuracy"] == round(5 / 7, 4) and out["ms_per_image"] > 0


def test_evaluate_faces_at_a_given_threshold(pairs_csv, capsys):
    evaluate_faces.main(["--pairs", str(pairs_csv), "--model", "sface", "--threshold", "0.99", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["threshold"] == 0.99 and out["fnmr"] == 1.0 and out["fmr"] == 0.0
    assert out["accuracy"] == round(2 / 7, 4)  # only the two valid impostor pairs are right


LABELLED = [("deepface_id01/img5.jpg", "id01"), ("deepface_id01/img11.jpg", "id01"),
            ("deepface_id03/img50.jpg", "id03"), ("deepface_id03/img51.jpg", "id03"),
            ("deepface_id05/img16.jpg", "id05"), ("deepface_id05/img17.jpg", "id05"),
            ("deepface_id05/img61.jpg", "id05"), ("multi/img62.jpg", "id05"),
            ("deepface_id10/img44.jpg", "id10"), ("deepface_id10/img46.jpg", "id10"),
            ("lfw/Mark_Wahlberg_0004.jpg", "Mark_Wahlberg"), ("lfw/Hugo_Chavez_0027.jpg", "Hugo_Chavez"),
            ("lfw/Hugo_Chavez_0033.jpg", "Hugo_Chavez")]


@pytest.fixture
def labels_csv(pairs_csv) -> Path:
    """13 labelled single-subject photos of 7 people (img62 and Hugo_Chavez_0033 show someone else beside the
    subject, as LFW photos do), a multi-face photo (skipped) and a no-face one (its identity has no usable photo)."""
    folder = pairs_csv.parent
    rows = [*((rel, who, "") for rel, who in LABELLED), ("multi/couple.jpg", "", "2"),
            ("noface/skimage_rocket.jpg", "rocket", "1")]
    for rel, _, _ in rows:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FACES / rel, folder / rel)
    path = folder / "labels.csv"
    path.write_text("path,identity,n_faces\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))
    return path


def test_evaluate_faces_open_set_identify_fta_and_plot(labels_csv, tmp_path, capsys):
    plot = tmp_path / "det.png"
    assert evaluate_faces.main(["--open-set", str(labels_csv), "--identify", "--fta", "--plot", str(plot),
                                "--model", "sface", "--calibrate", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    o = out["open_set"]
    assert o["photos"] == 14 and o["identities"] == 7 and o["failed"] == 1  # the rocket has no face
    # genuine pairs: id01 1, id03 1, id05 6, id10 1, Hugo 1 = 10 (+0 for the rocket); impostor: every other pair made
    assert o["genuine_pairs"] == 10 and o["impostor_pairs"] == 13 * 12 // 2 - 10
    assert o["at_operating_point"]["fmr"] == 0.0 and o["at_operating_point"]["fnmr"] == 0.0
    assert set(o["at_fmr"]) == {"0.001", "0.0001", "1e-05"}
    assert set(o["held_out_identities"]["0.0001"]) == {"empirical", "rule", "impostor_pairs"}
    assert len(o["calibration"]["thresholds"]) == len(o["calibration"]["log10_fmr"]) == 101
    i = out["identify"]["at_operating_point"]
    # every photo is a stranger in exactly one fold; id05's photos after its first two (img61, img62) are mated
    # probes in every fold that does not hold id05 out (4 of 5)
    assert i["strangers"] == 14 and i["mated"] == 2 * 4
    assert i["false_positives"] == 0 and i["wrong"] == 0 and i["misses"] == 0 and i["no_face"] == 1  # the rocket
    assert set(out["identify"]["at_sizes"]) == {"100", "1000", "10000"}
    assert out["identify"]["at_sizes"]["10000"]["threshold"] > out["identify"]["at_sizes"]["100"]["threshold"]
    fta = out["fta"]["by_source"]
    assert out["fta"]["photos"] == {"deepface_id01": 2, "deepface_id03": 2, "deepface_id05": 3, "multi": 1,
                                    "deepface_id10": 2, "lfw": 3, "noface": 1}
    assert fta["multi"]["enroll"]["codes"] == {"multiple_faces": 1} and fta["multi"]["login"]["refused"] == 0
    assert fta["lfw"]["enroll"]["codes"] == {"multiple_faces": 1}  # Hugo_Chavez_0033 (his neighbour)
    assert all(fta["lfw"][p]["refused"] == 0 for p in ("login", "verify", "identify", "kiosk"))
    assert fta["noface"]["login"]["codes"] == {"no_face": 1}
    assert out["plot"] == str(plot) and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 10_000


def test_evaluate_faces_identify_counts_a_stranger_above_a_low_threshold(labels_csv, capsys):
    """The rule really decides: at a fixed threshold of 0.2 strangers are taken for enrolled people."""
    evaluate_faces.main(["--identify", str(labels_csv), "--model", "sface", "--thresholds", "0.2", "--json"])
    low = json.loads(capsys.readouterr().out)["identify"]["by_threshold"]["0.2"]
    assert low["false_positives"] > 0 and low["fpir"] > 0


def test_bench_faces_quick_run_reports_every_figure(models_dir, tmp_path):
    env = dict(os.environ, MODELS_DIR=str(models_dir), DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_faces.py"), "--json", "--runs", "1",
                           "--limit", "2", "--photos", str(FACES), "--sizes", "1000,2000"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout[proc.stdout.index("{"):])
    assert out["model_id"] == "sface-2021dec" and out["photos"] == 2
    assert out["load"]["load_s"] > 0 and out["load"]["rss_mb"] > 0
    assert out["detect_embed"]["n"] == 2 and out["detect_embed"]["median_ms"] > 0
    assert set(out["search_1toN"]) == {"1000", "2000"}
    df = out["deepface"]  # the seed systems' way, same photos, same run
    assert df["model_name"] == "SFace" and df["represent"]["n"] == 2 and df["verify"]["n"] == 1
    assert df["ratio_verify_vs_ours"] > 0 and df["ratio_represent_vs_ours"] > 0
    assert out["goals"]["search_100k_median_le_10ms"] is None  # not measured in this run
    assert isinstance(out["goals"]["verify_ge_4x_faster_than_deepface"], bool)
