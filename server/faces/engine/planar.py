"""Liveness: is frame k a moved copy of frame 1 (planar_correlation)."""
from __future__ import annotations

import numpy as np

from server.faces.engine.base import check_image

# The 112x112 five-point template SFace aligns faces to (r-eye, l-eye, nose, r-mouth, l-mouth), and an ellipse over
# the inner face (brows to chin): the region whose correlation planar_correlation reports.
_ALIGN_REF = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655],
                       [70.7299, 92.2041]], np.float32)
_PLANAR_SIDE = 112
_PLANAR_MASK: np.ndarray | None = None


def _gray(image: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)


def planar_correlation(image1: np.ndarray, marks1: np.ndarray, image2: np.ndarray, marks2: np.ndarray) -> float:
    """How well frame 2's face is frame 1's face moved as a flat picture: the correlation coefficient (ECC, -1..1)
    of the two faces' inner regions after the best homography between them.

    Frame 1's face is aligned to the 112x112 template by a similarity; frame 2 is brought into the same square by the
    homography that maps the four landmarks a flat picture keeps in one plane (eyes and mouth corners), then
    cv2.findTransformECC refines that homography on the pixels. A print or screen moved, scaled, turned or tilted
    (a homography of the whole picture), re-compressed or brightened scores near 1 (on ../shared/faces: 99 % of
    re-compressed copies >= 0.98, 95 % of prints >= 0.99; docs/liveness.md); a real head turn cannot be explained by
    one homography (the nose moves against the cheeks, the far cheek is hidden). -1.0 when the alignment does not
    converge (treated as "not a copy")."""
    import cv2

    global _PLANAR_MASK
    check_image(image1)
    check_image(image2)
    side = _PLANAR_SIDE
    if _PLANAR_MASK is None:
        mask = np.zeros((side, side), np.uint8)
        cv2.ellipse(mask, (56, 66), (36, 46), 0, 0, 360, 255, -1)
        _PLANAR_MASK = mask
    m1 = np.asarray(marks1, np.float32).reshape(5, 2)
    m2 = np.asarray(marks2, np.float32).reshape(5, 2)
    similarity, _ = cv2.estimateAffinePartial2D(m1, _ALIGN_REF)
    if similarity is None:
        return -1.0
    template = cv2.warpAffine(_gray(image1), similarity, (side, side), flags=cv2.INTER_LINEAR)
    plane = [0, 1, 3, 4]
    in_square = (np.c_[m1[plane], np.ones(4, np.float32)] @ similarity.T).astype(np.float32)
    try:
        homography = cv2.getPerspectiveTransform(in_square, m2[plane])
        moved = cv2.warpPerspective(_gray(image2), homography, (side, side),
                                    flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        rho, _ = cv2.findTransformECC(template, moved, np.eye(3, dtype=np.float32), cv2.MOTION_HOMOGRAPHY,
                                      (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-4), _PLANAR_MASK, 3)
    except cv2.error:  # degenerate landmarks, or ECC did not converge: not explained by one homography
        return -1.0
    return float(rho)
