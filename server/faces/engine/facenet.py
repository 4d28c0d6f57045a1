"""FaceNet (20180408-102900, 512-d) on cv2.dnn, with YuNet for detection."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from server.faces import weights as W
from server.faces.engine.base import (DetectedFace, OperatingPoints, Pool, check_image, l2_normalize, quiet_cv2,
                                      require_weights)
from server.faces.engine.yunet import YuNet

FACENET_SIDE = 160
FACENET_MARGIN = 44  # px around the detector's box before resizing (the release's own alignment used 44 at 160 px)


def facenet_input(image: np.ndarray, face: DetectedFace) -> np.ndarray:
    """The (1, 3, 160, 160) float32 blob: box + FACENET_MARGIN px (clipped to the image), resized to 160x160, RGB,
    minus its mean, divided by max(std, 1/sqrt(size)) (FaceNet's prewhiten)."""
    import cv2

    h, w = image.shape[:2]
    half = FACENET_MARGIN // 2
    x0, y0 = max(face.x - half, 0), max(face.y - half, 0)
    x1, y1 = min(face.x + face.w + half, w), min(face.y + face.h + half, h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise ValueError("empty face crop")
    crop = cv2.resize(image[y0:y1, x0:x1], (FACENET_SIDE, FACENET_SIDE), interpolation=cv2.INTER_LINEAR)
    rgb = crop[:, :, ::-1].astype(np.float32)
    std = max(float(rgb.std()), 1.0 / math.sqrt(rgb.size))
    return np.ascontiguousarray(((rgb - float(rgb.mean())) / std).transpose(2, 0, 1)[None])


class FaceNetEngine(OperatingPoints):
    model_id = "facenet-20180408"
    dim = 512

    def __init__(self, weights_dir: Path, slots: int, **points: Any):
        require_weights("facenet", weights_dir)
        import cv2

        cv2.setNumThreads(max(1, slots))  # one shared net, as SFace's recognizer
        self._detector = YuNet(weights_dir, slots)
        path = str(weights_dir / W.FACENET_FILE)
        self._pool = Pool(lambda: quiet_cv2(cv2.dnn.readNetFromTensorflow, path), 1)
        self._set_points(**points)

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        return self._detector.detect(image)

    def embed(self, image: np.ndarray, face: DetectedFace) -> np.ndarray:
        check_image(image)
        blob = facenet_input(image, face)
        with self._pool.take() as net:
            net.setInput(blob)
            out = net.forward()
        return l2_normalize(out)
