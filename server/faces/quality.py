"""Quality gate: choose the face to use and reject photos that would give a poor template.

Codes (all 422): no_face, multiple_faces, face_low_confidence, face_too_small, face_too_dark,
face_blurry. Thresholds come from Settings (MIN_FACE_SIZE, MIN_FACE_CONFIDENCE, MIN_SHARPNESS,
MIN_BRIGHTNESS, DOMINANT_FACE_RATIO); see docs/faces.md for how they were calibrated.

numpy + Pillow only: the measurements run on the face crop, resized to a fixed size so that the
sharpness figure does not depend on how large the face is in the photo.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from PIL import Image

from server.config import Settings
from server.errors import (
    FaceBlurry,
    FaceLowConfidence,
    FaceNotFound,
    FaceTooDark,
    FaceTooSmall,
    MultipleFaces,
)

PURPOSES = ("enroll", "login", "kiosk", "verify", "identify")
# Enrollment is strict: any second real face -> multiple_faces (a template must show one person only). Every other
# purpose takes the most prominent face and refuses only when another real face is a comparable candidate: see
# choose_face.
STRICT_PURPOSES = frozenset({"enroll"})
CROP_SIDE = 112  # measurements run on the face crop resized to this square
_GRAY = np.array([0.114, 0.587, 0.299], np.float32)  # B, G, R weights (ITU-R BT.601 luma)


def face_crop_gray(image: np.ndarray, face: Any, side: int = CROP_SIDE) -> np.ndarray:
    """Gray (float32) face crop, resized to side x side."""
    h, w = image.shape[:2]
    x0, y0 = max(0, int(face.x)), max(0, int(face.y))
    x1, y1 = min(w, x0 + int(face.w)), min(h, y0 + int(face.h))
    crop = image[y0:y1, x0:x1]
    if crop.size == 0:
        return np.zeros((side, side), np.float32)
    gray = crop.astype(np.float32) @ _GRAY  # one product: ~10x faster than three channel copies, same numbers
    resized = Image.fromarray(gray.astype(np.float32), mode="F").resize((side, side), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.float32)


def sharpness(gray: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian (higher = sharper)."""
    lap = (gray[1:-1, :-2] + gray[1:-1, 2:] + gray[:-2, 1:-1] + gray[2:, 1:-1] - 4.0 * gray[1:-1, 1:-1])
    return float(lap.var())


def measure(image: np.ndarray, face: Any) -> dict:
    gray = face_crop_gray(image, face)
    return {
        "size": int(min(face.w, face.h)),
        "confidence": round(float(face.score), 4),
        "sharpness": round(sharpness(gray), 2),
        "brightness": round(float(gray.mean()), 2),
        "box": [int(face.x), int(face.y), int(face.w), int(face.h)],
    }


def _score(q: dict, settings: Settings) -> float:
    def part(value: float, floor: float, factor: float) -> float:  # a floor of 0 (check turned off) counts as met
        return 1.0 if floor <= 0 else min(1.0, value / (factor * floor))

    parts = [
        min(1.0, q["confidence"]),
        part(q["size"], settings.min_face_size, 2.0),
        part(q["sharpness"], settings.min_sharpness, 4.0),
        part(q["brightness"], settings.min_brightness, 2.0),
    ]
    return round(float(np.prod(parts) ** (1 / len(parts))), 4)


def is_real_face(face: Any, settings: Settings) -> bool:
    """A detection that counts as a person in the photo: at least MIN_FACE_CONFIDENCE and MIN_FACE_SIZE px on its
    shorter side. Smaller or less confident detections (a far-away face in the crowd, a false positive in a dark
    background) are ignored when deciding whether a photo shows several people; they could not pass the gate as the
    main face either. Faces cut by the image border count: a half-visible person beside the subject is a person."""
    return face.score >= settings.min_face_confidence and min(face.w, face.h) >= settings.min_face_size


def significant_faces(faces: list, settings: Settings) -> list:
    """The real faces among `faces` (see is_real_face), in the given order."""
    return [f for f in faces if is_real_face(f, settings)]


def prominence(face: Any, shape: tuple) -> float:
    """How much a face is the subject of the frame: its size (square root of the box area, px) times
    (1 - d) ** 2, d = distance of the box centre from the frame centre over half the frame's diagonal (0 at the
    centre, 1 in a corner). The person being checked stands in the middle, where the kiosk page's guide is: a face
    of the same size halfway to the corner counts a quarter; a bigger neighbour cut by the frame edge counts less
    than the subject in the middle."""
    h, w = shape[:2]
    dx = face.x + face.w / 2 - w / 2
    dy = face.y + face.h / 2 - h / 2
    d = min(1.0, math.hypot(dx, dy) / max(1e-9, math.hypot(w / 2, h / 2)))
    return math.sqrt(max(0, face.w) * max(0, face.h)) * (1.0 - d) ** 2


def main_face(faces: list, settings: Settings, shape: tuple) -> tuple[Any, list]:
    """(the face to use, the other real faces by prominence): the most prominent real face, or the most prominent
    detection when none is real (the gate then names what is wrong with it)."""
    ordered = sorted(faces, key=lambda f: prominence(f, shape), reverse=True)
    real = significant_faces(ordered, settings)
    main = real[0] if real else ordered[0]
    return main, [f for f in real if f is not main]


def choose_face(faces: list, purpose: str, settings: Settings, shape: tuple):
    """The face to use, or raise FaceNotFound / MultipleFaces.

    The face used is the most prominent one (see prominence: size and position together). Enrollment: any second
    real face -> multiple_faces. Login, verify, identify and kiosk (one rule): multiple_faces only when the next real
    face is a comparable candidate, i.e. the chosen face is less than DOMINANT_FACE_RATIO times as prominent (two
    people side by side at similar size); a neighbour further from the centre or clearly smaller is ignored.
    """
    if not faces:
        raise FaceNotFound()
    main, others = main_face(faces, settings, shape)
    if others and purpose not in STRICT_PURPOSES:
        mine = prominence(main, shape)
        others = [f for f in others if mine < settings.dominant_face_ratio * prominence(f, shape)]
    if others:
        raise MultipleFaces(faces=len(others) + 1)
    return main


def check_quality(image: np.ndarray, faces: list, purpose: str, settings: Settings) -> tuple[Any, dict]:
    """Pick and validate the face for `purpose`. Returns (face, quality dict) or raises a 422 error."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    face = choose_face(faces, purpose, settings, image.shape)
    q = measure(image, face)
    q["faces"] = len(faces)
    if q["confidence"] < settings.min_face_confidence:
        raise FaceLowConfidence(confidence=q["confidence"], minimum=settings.min_face_confidence)
    if q["size"] < settings.min_face_size:
        raise FaceTooSmall(size=q["size"], minimum=settings.min_face_size)
    if q["brightness"] < settings.min_brightness:
        raise FaceTooDark(brightness=q["brightness"], minimum=settings.min_brightness)
    if q["sharpness"] < settings.min_sharpness:
        raise FaceBlurry(sharpness=q["sharpness"], minimum=settings.min_sharpness)
    q["score"] = _score(q, settings)
    return face, q
