"""The quality gate with real photos: each rejection code, and all single-face photos pass."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from server.errors import AppError
from server.faces.engine import DetectedFace
from server.faces.images import decode_image
from server.faces.quality import check_quality, face_crop_gray, is_real_face, prominence, sharpness
from tests.fixtures.photos import BACKGROUND_PERSON, COUPLE, MULTI_FACE, NO_FACE, SINGLE_FACE


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


NOT_ENROLL = ["login", "verify", "identify", "kiosk"]


def test_a_background_person_refuses_enrollment_only(sface, image_of, face_settings):
    """img62: the subject in the middle, plus a half-visible real person at the right border (119 px, ~0.88).
    Enrollment stays strict; login, verify, identify and kiosk take the subject (one rule for all four)."""
    image = image_of(BACKGROUND_PERSON)
    faces = sface.detect(image)
    real = [f for f in faces if is_real_face(f, face_settings)]
    assert len(real) == 2
    assert _code(sface, image, "enroll", face_settings) == "multiple_faces"
    subject = max(real, key=lambda f: prominence(f, image.shape))
    for purpose in NOT_ENROLL:
        face, _ = _gate(sface, image, purpose, face_settings)
        assert face.box == subject.box and face.area == max(f.area for f in faces), purpose


@pytest.mark.parametrize("rel", ["lfw/Julianna_Margulies_0002.jpg", "lfw/Hugo_Chavez_0033.jpg"])
def test_lfw_neighbours_do_not_refuse_the_subject_in_the_middle(sface, image_of, face_settings, rel):
    """Julianna_Margulies_0002: a LARGER face cut by the left edge beside the subject in the middle; Hugo_Chavez_0033:
    a person of nearly the same size off to the side. Size and position together choose the subject."""
    image = image_of(rel)
    real = [f for f in sface.detect(image) if is_real_face(f, face_settings)]
    assert len(real) == 2
    h, w = image.shape[:2]
    central = min(real, key=lambda f: abs(f.x + f.w / 2 - w / 2) + abs(f.y + f.h / 2 - h / 2))
    for purpose in NOT_ENROLL:
        face, _ = _gate(sface, image, purpose, face_settings)
        assert face.box == central.box, purpose
    assert _code(sface, image, "enroll", face_settings) == "multiple_faces"
    if rel.startswith("lfw/Julianna"):
        assert max(real, key=lambda f: f.area) is not central  # the bigger face is not the one chosen


def _side_by_side(sface, image_of, left: str, right: str, right_scale: float = 1.0) -> np.ndarray:
    """Two people next to each other on a 960x480 frame: each photo's face with a margin, the left one 300 px high,
    the right one right_scale times that, both at the same distance from the middle."""
    tiles = []
    for rel, height in ((left, 300), (right, round(300 * right_scale))):
        img = image_of(rel)
        f = max(sface.detect(img), key=lambda f: f.area)
        m = f.w // 2
        x0, y0 = max(0, f.x - m), max(0, f.y - m)
        crop = img[y0:f.y + f.h + m, x0:f.x + f.w + m, ::-1]
        tiles.append(np.asarray(Image.fromarray(np.ascontiguousarray(crop)).resize(
            (round(crop.shape[1] * height / crop.shape[0]), height))))
    canvas = np.full((480, 960, 3), 200, np.uint8)
    for tile, centre_x in zip(tiles, (240, 720)):
        th, tw = tile.shape[:2]
        x, y = max(0, centre_x - tw // 2), (480 - th) // 2
        canvas[y:y + th, x:x + tw] = tile[:, :min(tw, 960 - x)]
    return np.ascontiguousarray(canvas[:, :, ::-1])


def test_two_people_side_by_side_at_similar_size_are_refused_for_every_purpose(sface, image_of, face_settings):
    """Two real people next to each other, same size, neither in the middle: no rule can tell who is being checked."""
    scene = _side_by_side(sface, image_of, "deepface_id01/img5.jpg", "deepface_id03/img51.jpg")
    real = [f for f in sface.detect(scene) if is_real_face(f, face_settings)]
    assert len(real) == 2
    p = sorted(prominence(f, scene.shape) for f in real)
    assert p[1] < face_settings.dominant_face_ratio * p[0]  # comparable candidates
    for purpose in ["enroll", *NOT_ENROLL]:
        assert _code(sface, scene, purpose, face_settings) == "multiple_faces", purpose


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


@pytest.mark.parametrize("purpose", ["enroll", "login", "verify", "identify", "kiosk"])
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


@pytest.mark.parametrize("purpose", ["enroll", "login", "verify", "identify", "kiosk"])
def test_multiple_faces(sface, image_of, face_settings, purpose):
    assert _code(sface, image_of(MULTI_FACE[0]), purpose, face_settings) == "multiple_faces"


def test_a_clearly_smaller_person_beside_is_ignored_except_at_enrollment(sface, image_of, face_settings):
    """The same two people, one much closer to the camera: every purpose but enrollment takes the closer one;
    with a DOMINANT_FACE_RATIO no scene can reach, it is refused again (the setting is what decides)."""
    scene = _side_by_side(sface, image_of, "deepface_id01/img5.jpg", "deepface_id03/img51.jpg", right_scale=0.45)
    faces = sface.detect(scene)
    assert len(faces) == 2 and all(is_real_face(f, face_settings) for f in faces)
    for purpose in NOT_ENROLL:
        face, _ = _gate(sface, scene, purpose, face_settings)
        assert face.area == max(f.area for f in faces), purpose
    assert _code(sface, scene, "enroll", face_settings) == "multiple_faces"
    strict = face_settings.model_copy(update={"dominant_face_ratio": 100.0})
    assert _code(sface, scene, "kiosk", strict) == "multiple_faces"
    assert _code(sface, scene, "login", strict) == "multiple_faces"


def test_prominence_weighs_position_and_size():
    class Face:
        def __init__(self, x, y, w, h):
            self.x, self.y, self.w, self.h = x, y, w, h

    shape = (480, 640, 3)
    centre = Face(270, 190, 100, 100)
    assert prominence(centre, shape) == pytest.approx(100.0)
    corner = Face(0, 0, 100, 100)  # same size, near the corner
    bigger_at_edge = Face(0, 140, 200, 200)
    assert prominence(corner, shape) < 0.25 * prominence(centre, shape)
    assert prominence(bigger_at_edge, shape) < prominence(centre, shape)


def test_zero_floors_turn_checks_off_without_an_error(sface, image_of, face_settings):
    """Regression: MIN_SHARPNESS=0 (or MIN_BRIGHTNESS=0) used to divide by zero in the quality score (a 500)."""
    off = face_settings.model_copy(update={"min_sharpness": 0.0, "min_brightness": 0.0})
    _, q = _gate(sface, image_of("deepface_id01/img5.jpg"), "login", off)
    assert 0 < q["score"] <= 1


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
