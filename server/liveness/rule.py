"""The liveness decision rule of a head-turn challenge: pure numbers in, a verdict out (numpy only, no I/O).

A real head turns in 3D: the nose tip moves sideways relative to the eyes. A flat picture (a print, a phone screen)
turned, tilted, shaken or held still in front of the camera moves as one plane. Three measures per later frame k,
each against the first frame (the one looking at the camera, already identified 1:N):

* ``yaw`` (of one frame) = the nose tip's offset from the eye midpoint along the eye axis, in inter-eye distances:
  ``(nose - mid) · (l_eye - r_eye) / |l_eye - r_eye|²`` with YuNet's five landmarks. With the eyes level this is
  ``(nose_x - eye_midpoint_x) / inter_eye_distance``; measured along the eye axis it does not change when a picture
  is rolled in the image plane. It grows when the nose moves toward the image's right edge, i.e. when the person
  turns to their own left (unmirrored camera frame). ``turn_left`` asks it to grow, ``turn_right`` to shrink.
* ``planar`` = the correlation (ECC, −1..1) of frame k's face with frame 1's face after the best homography between
  them (server/faces/engine/planar.py `planar_correlation`). A homography is exactly what a flat picture undergoes when
  it is moved, scaled, turned or tilted: copies of one picture score near 1, a real turn (nose parallax, the far cheek
  hidden) and anything else score lower.
* ``identity`` = frame k's best cosine against the identified person (their templates and frame 1).

Verdict, in this order: any later frame below ``min_identity`` → ``identity_changed``; every later frame a planar
copy of frame 1 (``planar >= max_planar``) → ``same_frames``; a non-planar later frame whose yaw moved by at least
``min_turn`` in the asked direction → live; else one that moved that much the other way → ``wrong_direction``; else
``no_turn``. The three thresholds are calibrated by ``scripts/evaluate_liveness.py`` (docs/liveness.md).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

ACTIONS = ("turn_left", "turn_right")
REASONS = ("no_turn", "wrong_direction", "identity_changed", "same_frames")

# From `python scripts/evaluate_liveness.py ../shared/faces ...` (docs/liveness.md has the figures and the margins):
# MIN_IDENTITY by `--calibrate-identity` on the calibration half of the identities (identity-change APCER <= 0.5 %
# there; 0.53 % on the held-out half). MIN_TURN and MAX_PLANAR were set from the full run's spreads (copies and prints
# of one photo: planar >= 0.98 for 99 % of repeats, >= 0.99 for 95 % of prints; bona fide pairs <= 0.92 for 99 %):
# the `--calibrate` grid found no point with every attack type's APCER <= 0.5 %, the wrong-way type (the noisy pose
# reference, see docs) being over it at every MIN_TURN up to 0.16.
MIN_TURN = 0.08
MAX_PLANAR = 0.97
MIN_IDENTITY = 0.34


@dataclass(frozen=True)
class Thresholds:
    min_turn: float = MIN_TURN  # yaw change in the asked direction (inter-eye distances)
    max_planar: float = MAX_PLANAR  # a later frame at or above this correlation is the first frame's picture moved
    min_identity: float = MIN_IDENTITY  # cosine of a later frame against the identified person


@dataclass(frozen=True)
class LaterFrame:
    yaw_change: float  # yaw(frame k) - yaw(frame 1)
    planar: float  # planar_correlation(frame 1, frame k)
    identity: float  # best cosine of frame k against the identified person


@dataclass(frozen=True)
class Verdict:
    live: bool
    reason: str  # "live" | one of REASONS
    action: str
    best_turn: float | None  # the largest yaw change in the asked direction among non-planar frames
    frames: list[dict] = field(default_factory=list)  # the measures of every later frame (decision record)

    def measures(self) -> dict:
        """What the decision record keeps: the action, the verdict and every later frame's measures."""
        return {"action": self.action, "reason": self.reason,
                "best_turn": None if self.best_turn is None else round(self.best_turn, 4),
                "frames": self.frames}


def yaw(landmarks: np.ndarray) -> float:
    """The yaw measure of one face from its five landmarks (r-eye, l-eye, nose, r-mouth, l-mouth; image px)."""
    marks = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    axis = marks[1] - marks[0]
    norm2 = float(axis @ axis)
    if not norm2 > 0.0:
        raise ValueError("the eyes coincide")
    return float((marks[2] - (marks[0] + marks[1]) / 2.0) @ axis / norm2)


def direction(action: str) -> int:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    return 1 if action == "turn_left" else -1


def decide(later: list[LaterFrame], action: str, thresholds: Thresholds = Thresholds()) -> Verdict:
    """The verdict of a challenge from the measures of the frames after the first (see the module doc)."""
    sign = direction(action)
    frames = [{k: round(float(v), 4) for k, v in asdict(f).items()} for f in later]
    if not later:
        return Verdict(False, "no_turn", action, None, frames)
    if any(f.identity < thresholds.min_identity for f in later):
        return Verdict(False, "identity_changed", action, None, frames)
    moving = [sign * f.yaw_change for f in later if f.planar < thresholds.max_planar]
    if not moving:
        return Verdict(False, "same_frames", action, None, frames)
    best = max(moving)
    if best >= thresholds.min_turn:
        return Verdict(True, "live", action, best, frames)
    reason = "wrong_direction" if min(moving) <= -thresholds.min_turn else "no_turn"
    return Verdict(False, reason, action, best, frames)
