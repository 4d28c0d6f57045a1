"""dlib: HOG frontal detector + 5-point shape predictor + ResNet (128-d)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from server.faces import weights as W
from server.faces.engine.base import DetectedFace, OperatingPoints, Pool, check_image, l2_normalize, require_weights


class _DlibModels:
    def __init__(self, weights_dir: Path):
        import dlib

        self.dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.shape = dlib.shape_predictor(str(weights_dir / W.DLIB_SHAPE5_FILE))
        self.net = dlib.face_recognition_model_v1(str(weights_dir / W.DLIB_RESNET_FILE))


class DlibEngine(OperatingPoints):
    model_id = "dlib-resnet-v1"
    dim = 128
    upsample_below = 400  # images whose longer side is shorter than this are upsampled once

    def __init__(self, weights_dir: Path, slots: int, **points: Any):
        require_weights("dlib", weights_dir)
        self._pool = Pool(lambda: _DlibModels(weights_dir), slots)
        self._set_points(**points)

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        check_image(image)
        rgb = np.ascontiguousarray(image[:, :, ::-1])
        h, w = image.shape[:2]
        upsample = 1 if max(h, w) < self.upsample_below else 0
        with self._pool.take() as m:
            rects, scores, _ = m.detector.run(rgb, upsample, 0.0)
            faces = []
            for r, s in zip(rects, scores):
                x0, y0 = max(0, r.left()), max(0, r.top())
                x1, y1 = min(w, r.right() + 1), min(h, r.bottom() + 1)
                if x1 - x0 < 2 or y1 - y0 < 2:
                    continue
                shape = m.shape(rgb, m.dlib.rectangle(x0, y0, x1 - 1, y1 - 1))
                pts = np.array([[shape.part(i).x, shape.part(i).y] for i in range(5)], np.float32)
                # HOG SVM margin -> [0, 1]: margin 0 (detector threshold) maps to 0.8
                conf = 1.0 / (1.0 + math.exp(-(4.0 * float(s) + 1.386)))
                faces.append(DetectedFace(x0, y0, x1 - x0, y1 - y0, conf, pts))
        faces.sort(key=lambda f: f.area, reverse=True)
        return faces

    def embed(self, image: np.ndarray, face: DetectedFace) -> np.ndarray:
        check_image(image)
        rgb = np.ascontiguousarray(image[:, :, ::-1])
        with self._pool.take() as m:
            rect = m.dlib.rectangle(face.x, face.y, face.x + face.w - 1, face.y + face.h - 1)
            shape = m.shape(rgb, rect)
            chip = m.dlib.get_face_chip(rgb, shape, size=150, padding=0.25)
            vec = m.net.compute_face_descriptor(chip)
        return l2_normalize(np.array(vec, dtype=np.float32))
