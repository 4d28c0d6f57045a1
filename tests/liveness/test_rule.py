"""The liveness rule on its own: the yaw measure's sign and roll invariance, and the order of the reasons."""
from __future__ import annotations

import math

import numpy as np
import pytest

from server.liveness import rule
from server.liveness.rule import LaterFrame, Thresholds

# r-eye, l-eye, nose, r-mouth, l-mouth of an upright frontal face (image px)
FRONTAL = np.array([[40, 50], [80, 50], [60, 70], [45, 90], [75, 90]], np.float32)


def _rolled(marks: np.ndarray, degrees: float) -> np.ndarray:
    a = math.radians(degrees)
    r = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    centre = marks.mean(axis=0)
    return (marks - centre) @ r.T + centre + 37.0


def test_yaw_grows_when_the_nose_moves_toward_the_image_right():
    assert rule.yaw(FRONTAL) == pytest.approx(0.0)
    turned = FRONTAL.copy()
    turned[2, 0] += 8  # the person turned to their own left: nose toward the image's right edge
    # nose 8 px right of the centre of the eyes and mouth corners; face width = mean(inter-eye 40, mouth 30) = 35
    assert rule.yaw(turned) == pytest.approx(8 / 35)
    assert rule.direction("turn_left") == 1 and rule.direction("turn_right") == -1


def test_yaw_does_not_change_when_the_picture_is_rolled_or_scaled():
    turned = FRONTAL.copy()
    turned[2, 0] -= 6
    for degrees in (-40, -15, 10, 35):
        assert rule.yaw(_rolled(turned, degrees)) == pytest.approx(rule.yaw(turned), abs=1e-5)
    assert rule.yaw(turned * 2.5) == pytest.approx(rule.yaw(turned), abs=1e-6)
    with pytest.raises(ValueError):
        rule.yaw(np.zeros((5, 2)))
    with pytest.raises(ValueError):  # the eye line and the mouth line opposite: no horizontal axis, not a face
        rule.yaw(np.array([[80, 50], [40, 50], [60, 70], [40, 90], [80, 90]], np.float32))


def test_yaw_uses_the_mouth_corners_too():
    # the eyes alone say 0 (nose under their midpoint); the mouth corners say the face turned: the nose is off the
    # centre of the four points
    marks = FRONTAL.copy()
    marks[3:, 0] -= 6  # mouth corners 6 px toward the image's left
    assert rule.yaw(marks) == pytest.approx(3 / 35)


TH = Thresholds(min_turn=0.1, max_planar=0.97, min_identity=0.3)


@pytest.mark.parametrize("frames, action, reason", [
    ([LaterFrame(0.15, 0.5, 0.6)], "turn_left", "live"),
    ([LaterFrame(-0.15, 0.5, 0.6)], "turn_right", "live"),
    ([LaterFrame(0.01, 0.99, 0.9), LaterFrame(0.02, 0.6, 0.6), LaterFrame(0.2, 0.7, 0.5)], "turn_left", "live"),
    ([LaterFrame(-0.15, 0.5, 0.6)], "turn_left", "wrong_direction"),
    ([LaterFrame(0.05, 0.5, 0.6)], "turn_left", "no_turn"),
    ([LaterFrame(0.3, 0.99, 0.9), LaterFrame(-0.3, 0.985, 0.9)], "turn_left", "same_frames"),  # one picture moved
    ([LaterFrame(0.3, 0.5, 0.6), LaterFrame(0.3, 0.5, 0.1)], "turn_left", "identity_changed"),
    ([LaterFrame(0.3, 0.99, 0.1)], "turn_left", "identity_changed"),  # identity is checked before anything else
    ([], "turn_left", "no_turn"),
    # turning both ways answers either action: refused whatever was asked
    ([LaterFrame(0.2, 0.6, 0.6), LaterFrame(-0.2, 0.6, 0.6)], "turn_left", "wrong_direction"),
    ([LaterFrame(0.2, 0.6, 0.6), LaterFrame(-0.2, 0.6, 0.6)], "turn_right", "wrong_direction"),
    # a frame whose planar test was not needed (None) neither turns nor counts as moving
    ([LaterFrame(0.02, None, 0.9), LaterFrame(0.3, 0.6, 0.6)], "turn_left", "live"),
    ([LaterFrame(0.02, None, 0.9)], "turn_left", "same_frames"),
])
def test_reasons(frames, action, reason):
    verdict = rule.decide(frames, action, TH)
    assert verdict.reason == reason and verdict.live == (reason == "live")
    record = verdict.measures()
    assert record["action"] == action and record["reason"] == reason and len(record["frames"]) == len(frames)


def test_a_planar_frame_never_counts_as_the_turn():
    # the only frame that "turned" is a moved copy of the first picture; the non-planar one did not turn
    verdict = rule.decide([LaterFrame(0.4, 0.99, 0.9), LaterFrame(0.0, 0.6, 0.7)], "turn_left", TH)
    assert verdict.reason == "no_turn" and verdict.best_turn == pytest.approx(0.0)


def test_unknown_action_is_refused():
    with pytest.raises(ValueError):
        rule.decide([LaterFrame(0.3, 0.5, 0.6)], "nod", TH)
