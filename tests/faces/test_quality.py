"""The quality gate with real photos: each rejection code, and all single-face photos pass."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from server.errors import AppError
from server.faces.engine import DetectedFace
from server.faces.images import decode_image
from server.faces.quality import check_quality, face_crop_gray, is_real_face, sharpness
from tests.faces.conftest import BACKGROUND_PERSON, COUPLE, MULTI_FACE, NO_FACE, SINGLE_FACE


SHARED_COUPLE = Path(__file__).resolve().parents[3] / "shared" / "faces" / "small" / "multi" / "couple.jpg"


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


def test_a_real_second_face_refuses_enrollment_and_login_but_not_a_kiosk_frame(sface, image_of, face_settings):
    """Spec: multiple_faces for enrollment and login; only a kiosk frame may take a clearly dominant face.
    img62: the subject, plus a half-visible real person at the right border (119 px, confidence ~0.88)."""
    image = image_of(BACKGROUND_PERSON)
    faces = sface.detect(image)
    real = [f for f in faces if is_real_face(f, face_settings)]
    assert len(real) == 2 and real[0].area >= face_settings.dominant_face_ratio * real[1].area
    for purpose in ("enroll", "login", "verify", "identify"):
        assert _code(sface, image, purpose, face_settings) == "multiple_faces", purpose
    face, _ = _gate(sface, image, "kiosk", face_settings)
    assert face.area == max(f.area for f in faces)


def test_tiny_or_unsure_second_detections_are_ignored(sface, image_of, face_settings):
    """A second detection below MIN_FACE_SIZE or MIN_FACE_CONFIDENCE is not a person: enrollment goes ahead."""
    image = image_of("deepface_id01/img5.jpg")
    main = sface.detect(image)[0]
    tiny = DetectedFace(0, 0, face_settings.min_face_size - 1, 80, 0.99, main.landmarks)
    unsure = DetectedFace(5, 5, 200, 200, face_settings.min_face_confidence - 0.01, main.landmarks)
    real = DetectedFace(5, 5, face_settings.min_face_size, face_settings.min_face_size,
                        face_settings.min_face_confidence, main.landmarks)
    face, _ = check_quality(image, [main, tiny, unsure], "enroll", face_settings)
    assert face == main  # also: the unsure detection is larger than nothing real, the real face is used
    face, _ = check_quality(image, [unsure, main], "login", face_settings)
    assert face == main
    with pytest.raises(AppError) as exc:
        check_quality(image, [main, real], "enroll", face_settings)
    assert exc.value.code == "multiple_faces"


@pytest.mark.parametrize("purpose", ["enroll", "login", "kiosk"])
def test_couple_is_refused_for_every_purpose(sface, image_of, face_settings, purpose):
    """Two people of about the same size (a half-size copy of ../shared/faces/small/multi/couple.jpg)."""
    assert _code(sface, image_of(COUPLE), purpose, face_settings) == "multiple_faces"
    original = SHARED_COUPLE
    if original.is_file():  # the full-size original too, when the shared set is next to the repo
        image = decode_image(original.read_bytes(), 40_000_000)
        assert _code(sface, image, purpose, face_settings) == "multiple_faces"


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
    assert all(is_real_face(f, face_settings) for f in faces)
    assert _code(sface, scene, "enroll", face_settings) == "multiple_faces"  # was taken when 3x larger: not any more
    assert _code(sface, scene, "login", face_settings) == "multiple_faces"
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
