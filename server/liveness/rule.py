"""The liveness decision rule of a head-turn challenge: pure numbers in, a verdict out (numpy only, no I/O).

A real head turns in 3D: the nose tip moves sideways relative to the eyes. A flat picture (a print, a phone screen)
turned, tilted, shaken or held still in front of the camera moves as one plane. Three measures per later frame k,
each against the first frame (the one looking at the camera, already identified 1:N):

* ``yaw`` (of one frame) = the nose tip's offset from the centre of the four other landmarks (eyes and mouth
  corners) along the face's horizontal axis, in face widths: the axis is the mean of the eye line and the mouth line
  (so a picture rolled in the image plane does not change it), the width the mean of the inter-eye and mouth-corner
  distances along it. The landmarks are YuNet's measured again on a square around the face
  (FaceEngine.landmarks_near), which halves their jitter at kiosk face sizes. It grows when the nose moves toward the
  image's right edge, i.e. when the person turns to their own left (unmirrored camera frame). ``turn_left`` asks it
  to grow, ``turn_right`` to shrink.
* ``planar`` = the correlation (ECC, −1..1) of frame k's face with frame 1's face after the best homography between
  them (server/faces/engine/planar.py `planar_correlation`). A homography is exactly what a flat picture undergoes when
  it is moved, scaled, turned or tilted: copies of one picture score near 1, a real turn (nose parallax, the far cheek
  hidden) and anything else score lower.
* ``identity`` = frame k's best cosine against the identified person (their templates and frame 1).

Verdict, in this order: any later frame below ``min_identity`` → ``identity_changed``; every later frame a planar
copy of frame 1 (``planar >= max_planar``) → ``same_frames``; a non-planar later frame whose yaw moved by at least
``min_turn`` the other way → ``wrong_direction`` (a sequence turning both ways would answer either action); a
non-planar later frame whose yaw moved by at least ``min_turn`` in the asked direction → live (the best of the later
frames counts: the kiosk sends the frames of ~1.5 s); else ``no_turn``. The three thresholds are calibrated by
``scripts/evaluate_liveness.py --calibrate`` on one half of the identities only (docs/liveness.md).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

ACTIONS = ("turn_left", "turn_right")
REASONS = ("no_turn", "wrong_direction", "identity_changed", "same_frames")

# From `python scripts/evaluate_liveness.py ../shared/faces --calibrate --json` (docs/liveness.md has the figures), by
# its CALIBRATION_RULE on the calibration half of the identities only: of the grid points (MIN_TURN 0.02-0.16,
# MAX_PLANAR 0.94-0.98, MIN_IDENTITY 0.25-0.45) keeping every attack type's APCER <= 0.5 % on that half, the lowest
# BPCER there, ties to the most permissive point (lowest MIN_TURN, highest MAX_PLANAR, lowest MIN_IDENTITY); the rates
# are reported on the held-out half. (Until 2026-12-03 ties went to the strictest point: 0.07 / 0.94 / 0.43.)
MIN_TURN = 0.06
MAX_PLANAR = 0.98
MIN_IDENTITY = 0.35


@dataclass(frozen=True)
class Thresholds:
    min_turn: float = MIN_TURN  # yaw change in the asked direction (inter-eye distances)
    max_planar: float = MAX_PLANAR  # a later frame at or above this correlation is the first frame's picture moved
    min_identity: float = MIN_IDENTITY  # cosine of a later frame against the identified person


@dataclass(frozen=True)
class LaterFrame:
    yaw_change: float  # yaw(frame k) - yaw(frame 1)
    planar: float | None  # planar_correlation(frame 1, frame k); None: not needed for the verdict (flows.py)
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
    axis = (marks[1] - marks[0]) + (marks[4] - marks[3])
    norm = float(np.hypot(*axis))
    if not norm > 0.0:
        raise ValueError("the landmarks coincide")
    axis /= norm
    width = float((marks[1] - marks[0]) @ axis + (marks[4] - marks[3]) @ axis) / 2.0
    if not width > 0.0:
        raise ValueError("the landmarks are not a face (eyes or mouth corners swapped)")
    centre = (marks[0] + marks[1] + marks[3] + marks[4]) / 4.0
    return float((marks[2] - centre) @ axis / width)


def direction(action: str) -> int:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    return 1 if action == "turn_left" else -1


def decide(later: list[LaterFrame], action: str, thresholds: Thresholds = Thresholds()) -> Verdict:
    """The verdict of a challenge from the measures of the frames after the first (see the module doc)."""
    sign = direction(action)
    frames = [{k: None if v is None else round(float(v), 4) for k, v in asdict(f).items()} for f in later]
    if not later:
        return Verdict(False, "no_turn", action, None, frames)
    if any(f.identity < thresholds.min_identity for f in later):
        return Verdict(False, "identity_changed", action, None, frames)
    # a frame without its planar test (None) moved by less than min_turn either way (flows.later_frames): it cannot
    # change a verdict that frames with the test already made live or wrong_direction
    moving = [sign * f.yaw_change for f in later if f.planar is not None and f.planar < thresholds.max_planar]
    if not moving:
        return Verdict(False, "same_frames", action, None, frames)
    best = max(moving)
    if min(moving) <= -thresholds.min_turn:
        return Verdict(False, "wrong_direction", action, best, frames)
    if best >= thresholds.min_turn:
        return Verdict(True, "live", action, best, frames)
    return Verdict(False, "no_turn", action, best, frames)
