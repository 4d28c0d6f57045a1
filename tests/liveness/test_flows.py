"""server/liveness/flows.py with the real engine and real photos: the finer landmarks, and the planar test skipped
only where it cannot change the verdict."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from server.config import Settings
from server.faces.engine import load_engine, planar_correlation
from server.faces.runtime import FaceRuntime
from server.liveness import flows, rule
from tests.fixtures import FIXTURES

PHOTOS = FIXTURES / "faces" / "liveness"
FRONTAL = (PHOTOS / "Paul_Bremer_0016.jpg").read_bytes()
TURNED_RIGHT = (PHOTOS / "Paul_Bremer_0006.jpg").read_bytes()
STRANGER = (PHOTOS / "John_Snow_0009.jpg").read_bytes()


def _jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def copy_of(data: bytes, dx: int = 3) -> bytes:
    img = Image.open(io.BytesIO(data)).convert("RGB")
    return _jpeg(img.crop((dx, dx, img.width, img.height)).resize(img.size))


def mirrored(data: bytes) -> bytes:
    return _jpeg(ImageOps.mirror(Image.open(io.BytesIO(data)).convert("RGB")), 95)


@pytest.fixture(scope="module")
def engine(models_dir, tmp_path_factory):
    settings = Settings(models_dir=models_dir, data_dir=tmp_path_factory.mktemp("liveness-data"), face_model="sface")
    return FaceRuntime(settings, engine=load_engine(settings))


def full_measures(frames, templates):
    """Every measure of every later frame, the planar test included (what rule.decide is defined on)."""
    first = frames[0]
    out = []
    for f in frames[1:]:
        scores = [float(f.sample.embedding @ first.sample.embedding)] + [float(t @ f.sample.embedding)
                                                                           for t in templates]
        out.append(rule.LaterFrame(rule.yaw(f.marks) - rule.yaw(first.marks),
                                   planar_correlation(first.image, first.sample.face.landmarks, f.image,
                                                      f.sample.face.landmarks), max(scores)))
    return out


SEQUENCES = {
    "turn": [FRONTAL, copy_of(FRONTAL), TURNED_RIGHT, copy_of(TURNED_RIGHT)],
    "turn_mirrored": [FRONTAL, copy_of(FRONTAL), mirrored(TURNED_RIGHT)],
    "still": [FRONTAL, copy_of(FRONTAL, 2), copy_of(FRONTAL, 5), copy_of(FRONTAL, 8)],
    "both_ways": [FRONTAL, TURNED_RIGHT, mirrored(TURNED_RIGHT)],
    "swap": [FRONTAL, copy_of(FRONTAL), STRANGER],
}


@pytest.mark.parametrize("name", sorted(SEQUENCES))
@pytest.mark.parametrize("action", rule.ACTIONS)
def test_skipping_planar_tests_never_changes_the_verdict(engine, name, action):
    rt = engine
    frames = flows.analyze_frames(rt, SEQUENCES[name], "kiosk")
    empty = np.zeros((0, frames[0].sample.embedding.shape[0]), np.float32)
    lazy = rule.decide(flows.later_frames(rt, frames, empty), action)
    full = rule.decide(full_measures(frames, empty), action)
    assert (lazy.live, lazy.reason) == (full.live, full.reason)


def test_the_verdicts_of_the_sequences(engine):
    rt = engine
    empty = np.zeros((0, 128), np.float32)

    def verdict(name, action):
        frames = flows.analyze_frames(rt, SEQUENCES[name], "kiosk")
        return rule.decide(flows.later_frames(rt, frames, empty), action).reason

    assert verdict("turn", "turn_right") == "live"
    assert verdict("turn", "turn_left") == "wrong_direction"
    assert verdict("turn_mirrored", "turn_left") == "live"
    assert verdict("still", "turn_left") in ("same_frames", "no_turn")
    assert verdict("both_ways", "turn_left") == verdict("both_ways", "turn_right") == "wrong_direction"
    assert verdict("swap", "turn_left") == "identity_changed"


def test_finer_landmarks_stay_on_the_face(engine):
    (frame,) = flows.analyze_frames(engine, [TURNED_RIGHT], "kiosk")
    coarse = frame.sample.face.landmarks
    eye = float(np.linalg.norm(coarse[1] - coarse[0]))
    # the second pass measures the same five points, a few pixels apart at most (not another face)
    assert frame.marks.shape == (5, 2)
    assert float(np.abs(frame.marks - coarse).max()) < 0.25 * eye
