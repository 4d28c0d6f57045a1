"""scripts/evaluate_faces.py and scripts/bench_faces.py on a handful of real photos (tests/fixtures/faces)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faces.conftest import FACES

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
    from server.faces.engine import SFACE_THRESHOLD

    assert out["threshold"] == SFACE_THRESHOLD
    assert out["accuracy"] == round(5 / 7, 4)  # the 5 pairs with faces are right; the 2 without count as wrong
    assert out["fmr"] == 0.0 and out["fnmr"] == 0.25  # 1 of 4 genuine pairs missed (the no-face one)
    assert out["best_accuracy"] == round(5 / 7, 4) and out["ms_per_image"] > 0


def test_evaluate_faces_at_a_given_threshold(pairs_csv, capsys):
    evaluate_faces.main(["--pairs", str(pairs_csv), "--model", "sface", "--threshold", "0.99", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["threshold"] == 0.99 and out["fnmr"] == 1.0 and out["fmr"] == 0.0
    assert out["accuracy"] == round(2 / 7, 4)  # only the two valid impostor pairs are right


def test_evaluate_faces_identify_decides_probes_with_the_production_rule(pairs_csv, capsys):
    """labels.csv: 4 identities with 2-3 photos (first enrolled, the rest probes), a multi-face photo (skipped) and a
    one-photo identity (skipped: nothing to probe with)."""
    folder = pairs_csv.parent
    for rel in ("deepface_id05/img61.jpg", "multi/couple.jpg"):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FACES / rel, folder / rel)
    rows = [("deepface_id01/img5.jpg", "id01", "1"), ("deepface_id01/img11.jpg", "id01", "1"),
            ("deepface_id03/img50.jpg", "id03", "1"), ("deepface_id03/img51.jpg", "id03", "1"),
            ("deepface_id05/img16.jpg", "id05", "1"), ("deepface_id05/img17.jpg", "id05", "1"),
            ("deepface_id05/img61.jpg", "id05", "1"), ("deepface_id10/img44.jpg", "id10", "1"),
            ("deepface_id10/img46.jpg", "id10", "1"), ("multi/couple.jpg", "", "2"),
            ("noface/skimage_rocket.jpg", "rocket", "1")]
    labels = folder / "labels.csv"
    labels.write_text("path,identity,n_faces\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))
    assert evaluate_faces.main(["--pairs", str(pairs_csv), "--model", "sface", "--identify", str(labels),
                                "--json"]) == 0
    out = json.loads(capsys.readouterr().out)["identify"]
    assert out["identities"] == 4 and out["enrolled"] == 4 and out["probes"] == 5
    from server.faces.engine import SFACE_MARGIN

    assert out["margin"] == SFACE_MARGIN
    op = out["at_operating_point"]
    assert op["right"] == 5 and op["wrong"] == 0 and op["unknown"] == 0 and op["no_face"] == 0
    # a margin no runner-up can leave makes every probe unknown: the rule is really applied
    assert evaluate_faces.identify_eval(labels, "sface", margins=(1.5,))["by_margin"]["1.5"]["unknown"] == 5


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
