"""The real engines on real photos; the singleton loader; no download, no heavy import at module import."""
from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

from server.errors import ModelWeightsMissing
from server.faces import loader
from server.faces.engine import DetectedFace, FaceEngine, load_engine
from tests.fixtures.concurrency import peak_inside
from tests.fixtures.photos import NO_FACE, PEOPLE, SINGLE_FACE


def _embed_largest(engine, image):
    faces = engine.detect(image)
    assert faces, "no face found"
    return engine.embed(image, max(faces, key=lambda f: f.area))


def test_sface_detects_one_face_with_landmarks(sface, image_of):
    assert isinstance(sface, FaceEngine)
    image = image_of("deepface_id01/img5.jpg")
    faces = sface.detect(image)
    assert len(faces) == 1
    f = faces[0]
    assert isinstance(f, DetectedFace) and all(isinstance(v, int) for v in f.box)
    assert 0 <= f.x < image.shape[1] and 0 <= f.y < image.shape[0] and f.w > 60 and 0.8 < f.score <= 1.0
    assert f.landmarks.shape == (5, 2) and f.landmarks.dtype == np.float32
    # landmarks lie inside (or very near) the box
    assert (f.landmarks[:, 0] > f.x - 5).all() and (f.landmarks[:, 0] < f.x + f.w + 5).all()


@pytest.mark.parametrize("rel", NO_FACE)
def test_sface_finds_nothing_in_no_face_images(sface, image_of, rel):
    assert sface.detect(image_of(rel)) == []


def test_sface_embedding_is_unit_float32_and_deterministic(sface, image_of):
    image = image_of("deepface_id03/img51.jpg")
    a = _embed_largest(sface, image)
    b = _embed_largest(sface, image.copy())
    assert a.shape == (sface.dim,) == (128,) and a.dtype == np.float32
    assert abs(float(np.linalg.norm(a)) - 1.0) < 1e-5
    assert np.allclose(a, b)


def _check_separation(engine, image_of):
    embs = {who: [_embed_largest(engine, image_of(p)) for p in paths] for who, paths in PEOPLE.items()}
    same = [float(a @ b) for v in embs.values() for i, a in enumerate(v) for b in v[i + 1:]]
    diff = [float(a @ b) for w1, v1 in embs.items() for w2, v2 in embs.items() if w1 < w2 for a in v1 for b in v2]
    assert min(same) >= engine.threshold, (min(same), engine.threshold)
    assert max(diff) < engine.threshold, (max(diff), engine.threshold)


def test_sface_same_people_match_and_others_do_not(sface, image_of):
    _check_separation(sface, image_of)


def test_dlib_same_people_match_and_others_do_not(dlib_engine, image_of):
    assert dlib_engine.model_id == "dlib-resnet-v1" and dlib_engine.dim == 128
    _check_separation(dlib_engine, image_of)


def test_dlib_detects_with_five_landmarks(dlib_engine, image_of):
    faces = dlib_engine.detect(image_of("deepface_id10/img46.jpg"))
    assert len(faces) == 1 and faces[0].landmarks.shape == (5, 2) and 0 < faces[0].score <= 1


def test_engine_rejects_non_bgr_input(sface):
    with pytest.raises(ValueError):
        sface.detect(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError):
        sface.detect(np.zeros((10, 10, 3), np.float32))


@pytest.mark.parametrize("shape", [(1, 100000, 3), (100000, 1, 3), (1, 640, 3), (2, 30000, 3), (1, 1, 3)])
@pytest.mark.parametrize("engine_name", ["sface", "dlib_engine"])
def test_extreme_aspect_ratios_find_no_face_instead_of_crashing(request, engine_name, shape):
    """Regression: YuNet's downscale asked cv2.resize for 0 rows (100000x1 -> 640x0) and raised cv2.error (a 500)."""
    engine = request.getfixturevalue(engine_name)
    assert engine.detect(np.full(shape, 128, np.uint8)) == []


@pytest.mark.parametrize("model", ["sface", "dlib", "Facenet", "VGG-Face"])
def test_missing_weights_name_the_fetch_script(face_settings, tmp_path, model):
    settings = face_settings.model_copy(update={"face_model": model, "models_dir": tmp_path})
    with pytest.raises(ModelWeightsMissing) as exc:
        load_engine(settings)
    assert "scripts/fetch_models.py" in exc.value.message
    assert exc.value.status_code == 503 and exc.value.details["missing"]
    assert list(tmp_path.iterdir()) == []  # nothing was downloaded or created


def test_get_engine_loads_once_under_concurrency(face_settings):
    loader.reset_engine()
    try:
        results, errors = [], []
        barrier = threading.Barrier(8)

        def worker():
            try:
                barrier.wait()
                results.append(loader.get_engine(face_settings))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert len({id(e) for e in results}) == 1
        assert loader.get_engine(face_settings.model_copy()) is results[0]  # the same configuration: the same engine
        assert loader.load_stats()["loads"] == 1 and loader.load_stats()["model_id"] == "sface-2021dec"
        assert loader.peek_engine() is results[0]
        assert loader.load_stats()["load_seconds"] < 1.0
    finally:
        loader.reset_engine()
    assert loader.peek_engine() is None and loader.load_stats()["loads"] == 0


def test_inference_slot_bounds_concurrency(face_settings):
    from server.faces.runtime import FaceRuntime

    rt = FaceRuntime(face_settings.model_copy(update={"face_threads": 2}))
    try:
        assert peak_inside(rt.inference_slot) == 2
    finally:
        rt.close()


def test_concurrent_inference_gives_identical_results(sface, image_of):
    images = [image_of(p) for p in SINGLE_FACE[:4]]
    expected = [_embed_largest(sface, im) for im in images]
    out = {}

    def run(i):
        out[i] = _embed_largest(sface, images[i % 4])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, v in out.items():
        assert np.allclose(v, expected[i % 4], atol=1e-5)


def test_importing_the_engine_module_loads_no_native_library():
    code = ("import sys, server.faces.engine, server.faces.loader, server.faces.service;"
            "heavy = [m for m in ('cv2', 'dlib', 'onnxruntime', 'deepface', 'tensorflow', 'torch')"
            " if m in sys.modules];"
            "print(heavy); raise SystemExit(1 if heavy else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
