"""The quality gate with real photos: each rejection code, and all single-face photos pass."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from server.errors import AppError
from server.faces.quality import check_quality, sharpness, face_crop_gray
from tests.faces.conftest import MULTI_FACE, NO_FACE, SINGLE_FACE


def _gate(engine, image, purpose, settings):
    return check_quality(image, engine.detect(image), purpose, settings)


def _code(engine, image, purpose, settings):
    with pytest.raises(AppError) as exc:
        _gate(engine, image, purpose, settings)
    assert exc.value.status_code == 422
    return exc.value.code


@pytest.mark.parametrize("rel", SINGLE_FACE)
@pytest.mark.parametrize("purpose", ["enroll", "login", "kiosk"])
def test_single_face_photos_pass(sface, image_of, face_settings, rel, purpose):
    face, q = _gate(sface, image_of(rel), purpose, face_settings)
    assert set(q) >= {"score", "size", "sharpness", "brightness", "confidence"}
    assert 0 < q["score"] <= 1 and q["size"] >= face_settings.min_face_size


def test_background_person_does_not_block_enrollment(sface, image_of, face_settings):
    image = image_of("deepface_id05/img62.jpg")  # a smaller second face behind the subject
    faces = sface.detect(image)
    assert len([f for f in faces if f.score >= face_settings.min_face_confidence]) == 2
    face, _ = _gate(sface, image, "enroll", face_settings)
    assert face.area == max(f.area for f in faces)


@pytest.mark.parametrize("rel", NO_FACE)
def test_no_face(sface, image_of, face_settings, rel):
    assert _code(sface, image_of(rel), "enroll", face_settings) == "no_face"


@pytest.mark.parametrize("purpose", ["enroll", "login", "kiosk"])
def test_multiple_faces(sface, image_of, face_settings, purpose):
    assert _code(sface, image_of(MULTI_FACE[0]), purpose, face_settings) == "multiple_faces"


def test_kiosk_takes_a_clearly_dominant_face(sface, image_of, face_settings):
    """Two people side by side: refused; the same scene with one of them much closer: the kiosk takes it."""
    a, b = image_of("deepface_id01/img5.jpg"), image_of("deepface_id03/img51.jpg")
    h = 400
    big = np.asarray(Image.fromarray(a[:, :, ::-1]).resize((round(a.shape[1] * h / a.shape[0]), h)))
    small_h = 150
    small = np.asarray(Image.fromarray(b[:, :, ::-1]).resize((round(b.shape[1] * small_h / b.shape[0]), small_h)))
    canvas = np.full((h, big.shape[1] + small.shape[1] + 40, 3), 200, np.uint8)
    canvas[:, :big.shape[1]] = big
    canvas[120:120 + small_h, big.shape[1] + 20:big.shape[1] + 20 + small.shape[1]] = small
    scene = np.ascontiguousarray(canvas[:, :, ::-1])
    faces = sface.detect(scene)
    assert len(faces) == 2
    face, _ = _gate(sface, scene, "kiosk", face_settings)
    assert face.area == max(f.area for f in faces)
    strict = face_settings.model_copy(update={"dominant_face_ratio": 100.0})
    assert _code(sface, scene, "kiosk", strict) == "multiple_faces"


def test_face_too_small(sface, image_of, face_settings):
    image = image_of("deepface_id01/img11.jpg")
    small = np.asarray(Image.fromarray(image[:, :, ::-1]).resize((image.shape[1] // 5, image.shape[0] // 5)))
    small = np.ascontiguousarray(small[:, :, ::-1])
    faces = sface.detect(small)
    assert faces and min(faces[0].w, faces[0].h) < face_settings.min_face_size
    assert _code(sface, small, "enroll", face_settings) == "face_too_small"


def test_face_blurry(sface, image_of, face_settings):
    image = image_of("deepface_id01/img11.jpg")
    blurred = Image.fromarray(image[:, :, ::-1]).filter(ImageFilter.GaussianBlur(6))
    blurred = np.ascontiguousarray(np.asarray(blurred)[:, :, ::-1])
    assert _code(sface, blurred, "enroll", face_settings) == "face_blurry"


def test_face_too_dark(sface, image_of, face_settings):
    image = image_of("deepface_id10/img46.jpg")
    dark = (image // 6).astype(np.uint8)
    assert _code(sface, dark, "login", face_settings) == "face_too_dark"


def test_face_low_confidence(sface, image_of, face_settings):
    """Mouth and chin hidden: still detected, but below the confidence floor."""
    image = image_of("deepface_id01/img5.jpg").copy()
    face = sface.detect(image)[0]
    image[face.y + int(face.h * 0.4):, :] = 0
    faces = sface.detect(image)
    assert len(faces) == 1 and faces[0].score < face_settings.min_face_confidence
    assert _code(sface, image, "enroll", face_settings) == "face_low_confidence"


def test_sharpness_measure_orders_blur():
    rng = np.random.default_rng(0)
    sharp = rng.integers(0, 255, (112, 112)).astype(np.float32)
    smooth = np.tile(np.linspace(0, 255, 112, dtype=np.float32), (112, 1))
    assert sharpness(sharp) > 1000 > sharpness(smooth)
    class F:  # minimal face box
        x, y, w, h = 0, 0, 50, 50
    assert face_crop_gray(np.zeros((10, 10, 3), np.uint8), F).shape == (112, 112)
