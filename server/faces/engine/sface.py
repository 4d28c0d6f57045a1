"""SFace (the default engine): YuNet + SFace recognizer, run directly through cv2.FaceRecognizerSF."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from server.faces import weights as W
from server.faces.engine.base import (DetectedFace, OperatingPoints, Pool, check_image, l2_normalize, quiet_cv2,
                                      require_weights)
from server.faces.engine.yunet import YuNet


class SFaceEngine(OperatingPoints):
    model_id = "sface-2021dec"
    dim = 128

    def __init__(self, weights_dir: Path, slots: int, **points: Any):
        require_weights("sface", weights_dir)
        import cv2

        # ONE recognizer, shared (calls are serialized: cv2's Net is not thread-safe), that uses `slots` OpenCV
        # threads. Measured here on 2 cores (LFW photos, detect + embed): one 2-thread recognizer answers a single
        # request in ~21 ms and ~47 photos/s under load, in ~65 MB less RSS; one 1-thread recognizer per slot
        # answers in ~34 ms and ~60 photos/s (each recognizer holds ~65 MB). A kiosk needs the first far more than
        # the second: 47 photos/s is many doors. Detectors (small) stay one per slot.
        cv2.setNumThreads(max(1, slots))
        self._detector = YuNet(weights_dir, slots)
        path = str(weights_dir / W.SFACE_FILE)
        self._pool = Pool(lambda: quiet_cv2(cv2.FaceRecognizerSF.create, path, ""), 1)
        self._set_points(**points)

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        return self._detector.detect(image)

    def embed(self, image: np.ndarray, face: DetectedFace) -> np.ndarray:
        check_image(image)
        if face.landmarks is None:
            raise ValueError("SFace needs the 5 YuNet landmarks to align the face")
        with self._pool.take() as rec:
            crop = rec.alignCrop(image, YuNet.row(face))
            feat = rec.feature(crop)
        return l2_normalize(feat)
