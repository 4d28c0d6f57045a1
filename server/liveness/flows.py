"""A challenge answered with frames: who the first frame is, and whether the later ones show that person turning.

Used by the kiosk check (server/attendance/kiosk.py) and face login (server/auth/service.py):

    frames = analyze_frames(rt, images, purpose)              # quality gate + embedding + finer landmarks, per frame
    decision = identify_first(rt, [f.sample for f in frames], session)   # 1:N on the first frame only
    verdict = judge(rt, frames, user_id, action, session)

(rt: the app's FaceRuntime, server/faces/runtime.py)

The first frame is identified with the face service's 1:N rule (`identify_first` is the one seam to it); every later
frame is checked 1:1 against that same person and the geometry is judged by server/liveness/rule.py.

Cost: each frame is decoded once (the face service hands back the decoded image); the per-frame work (decode,
detect, quality gate, embed, the finer landmark pass) and the planar tests run side by side on the runtime's photo
pool, and a planar test runs only where it can change the verdict (later_frames).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from server.errors import AppError
from server.faces import service as faces
from server.faces.engine import planar_correlation
from server.faces.runtime import FaceRuntime
from server.liveness import rule


@dataclass(frozen=True)
class Frame:
    sample: faces.FaceSample
    image: np.ndarray  # the decoded frame (BGR), the pixels of sample.face's landmarks
    marks: np.ndarray  # the finer landmarks (engine.landmarks_near) the yaw measure uses


def analyze_frames(rt: FaceRuntime, images: Sequence[bytes], purpose: str) -> list[Frame]:
    """Every frame through the face service's quality gate and embedding, plus its finer landmarks; the first
    failing frame raises its AppError with its `image_index`."""
    engine = rt.require_engine()

    def one(data: bytes) -> Frame | AppError:
        try:
            sample, image = faces.analyze_image(rt, data, purpose)
        except AppError as exc:
            return exc
        with rt.inference_slot():
            marks = engine.landmarks_near(image, sample.face)
        return Frame(sample, image, marks)

    out = faces.side_by_side(rt, one, images)
    for i, item in enumerate(out):
        if isinstance(item, AppError):
            item.details.setdefault("image_index", i)
            raise item
    return out


def identify_first(rt: FaceRuntime, samples: Sequence, session: Session):
    """The 1:N decision of the first frame (the one looking at the camera)."""
    return faces.match_one_to_many(rt, list(samples[:1]), session=session)


def later_frames(rt: FaceRuntime, frames: Sequence[Frame], templates: np.ndarray,
                 thresholds: rule.Thresholds = rule.Thresholds()) -> list[rule.LaterFrame]:
    """The measures of every frame after the first, against the first (rule.py's module doc).

    The planar test (the costly measure: an ECC alignment) is run first on the frames whose yaw moved by at least
    MIN_TURN either way, the only ones that can make the verdict live or wrong_direction; the other frames' planar
    test only tells same_frames from no_turn, so it is run only when no turned frame already decided. The verdict is
    the one rule.decide gives with every measure; a frame whose planar test was not needed has planar None."""
    first = frames[0]
    first_yaw = rule.yaw(first.marks)
    flat = list(templates) if templates.size else []
    rest = list(frames[1:])
    yaws = [rule.yaw(f.marks) - first_yaw for f in rest]
    identity = [max([float(f.sample.embedding @ first.sample.embedding)]
                    + [float(t @ f.sample.embedding) for t in flat]) for f in rest]

    def planar(i: int) -> float:
        f = rest[i]
        return planar_correlation(first.image, first.sample.face.landmarks, f.image, f.sample.face.landmarks)

    planars: list[float | None] = [None] * len(rest)
    if min(identity, default=1.0) >= thresholds.min_identity:  # else identity_changed, whatever the geometry
        turned = [i for i, y in enumerate(yaws) if abs(y) >= thresholds.min_turn]
        for i, value in zip(turned, faces.side_by_side(rt, planar, turned), strict=True):
            planars[i] = value
        if not any(planars[i] < thresholds.max_planar for i in turned):
            others = [i for i in range(len(rest)) if planars[i] is None]
            for i, value in zip(others, faces.side_by_side(rt, planar, others), strict=True):
                planars[i] = value
    return [rule.LaterFrame(yaw_change=y, planar=p, identity=d)
            for y, p, d in zip(yaws, planars, identity, strict=True)]


def judge(rt: FaceRuntime, frames: Sequence[Frame], user_id: int, action: str, session: Session) -> rule.Verdict:
    """The verdict for `user_id` (identified from the first frame) answering `action` with these frames."""
    templates = faces.user_templates(session, user_id, rt.model_id)
    return rule.decide(later_frames(rt, frames, templates), action)
