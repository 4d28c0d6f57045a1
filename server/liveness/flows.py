"""A challenge answered with frames: who the first frame is, and whether the later ones show that person turning.

Used by the kiosk check (server/attendance/kiosk.py) and face login (server/auth/service.py):

    samples = analyze_frames(rt, frames, purpose)                   # quality gate + embedding of every frame
    decision = identify_first(rt, samples, session)                 # 1:N on the first frame only
    verdict = judge(rt, frames, samples, user_id, action, session)

(rt: the app's FaceRuntime, server/faces/runtime.py)

The first frame is identified with the face service's 1:N rule (`identify_first` is the one seam to it); every later
frame is checked 1:1 against that same person and the geometry is judged by server/liveness/rule.py.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy.orm import Session

from server.config import Settings

from server.faces import service as faces
from server.faces.engine import planar_correlation
from server.faces.images import DRAFT_SIDE, decode_image
from server.faces.runtime import FaceRuntime
from server.liveness import rule


def analyze_frames(rt: FaceRuntime, frames: Sequence[bytes], purpose: str) -> list:
    """Every frame through the face service's quality gate and embedding (the first failing one raises)."""
    return faces.analyze_all(rt, frames, purpose)


def identify_first(rt: FaceRuntime, samples: Sequence, session: Session):
    """The 1:N decision of the first frame (the one looking at the camera)."""
    return faces.match_one_to_many(rt, list(samples[:1]), session=session)


def _images(frames: Sequence[bytes], settings: Settings) -> list[np.ndarray]:
    # decoded exactly as faces.analyze decodes them, so the landmarks are in these images' pixels
    return [decode_image(f, settings.image_max_pixels, min_side=settings.min_face_size, draft_side=DRAFT_SIDE)
            for f in frames]


def later_frames(frames: Sequence[bytes], samples: Sequence, templates: np.ndarray, settings: Settings
                 ) -> list[rule.LaterFrame]:
    """The measures of every frame after the first, against the first (rule.py's module doc)."""
    images = _images(frames, settings)
    first = samples[0]
    first_yaw = rule.yaw(first.face.landmarks)
    out = []
    for image, sample in zip(images[1:], samples[1:]):
        scores = [float(sample.embedding @ first.embedding)]
        if templates.size:
            scores.append(float(np.max(templates @ sample.embedding)))
        out.append(rule.LaterFrame(
            yaw_change=rule.yaw(sample.face.landmarks) - first_yaw,
            planar=planar_correlation(images[0], first.face.landmarks, image, sample.face.landmarks),
            identity=max(scores)))
    return out


def judge(rt: FaceRuntime, frames: Sequence[bytes], samples: Sequence, user_id: int, action: str,
          session: Session) -> rule.Verdict:
    """The verdict for `user_id` (identified from the first frame) answering `action` with these frames."""
    templates = faces.user_templates(session, user_id, rt.model_id)
    return rule.decide(later_frames(frames, samples, templates, rt.settings), action)
