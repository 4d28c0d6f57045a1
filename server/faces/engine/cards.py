"""deepface's card models (VGG-Face, Facenet, Facenet512, ArcFace) on its ONNX backend, with YuNet detection and
deepface's own alignment + preprocessing; its downloader replaced by an offline guard."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from server.errors import ModelWeightsMissing
from server.faces import weights as W
from server.faces.engine.base import (UNCALIBRATED_THRESHOLDS, DetectedFace, OperatingPoints, check_image, l2_normalize,
                                      require_weights)
from server.faces.engine.yunet import YuNet

_guard_installed = False


def _install_deepface_guard(weights_dir: Path) -> None:
    """Make deepface read weights from weights_dir only; its downloader can never run."""
    global _guard_installed
    os.environ.setdefault("DEEPFACE_BACKEND_ENGINE", "onnx")
    os.environ.setdefault("DEEPFACE_HOME", str(weights_dir))
    from deepface.commons import weight_utils

    def offline_weights(file_name: str, source_url: Any = None, compress_type: str | None = None) -> str:
        path = Path(weights_dir) / file_name
        if not path.is_file():
            raise ModelWeightsMissing(
                f"{file_name} missing in {weights_dir}: run `python scripts/fetch_models.py --all` "
                "on a machine with internet (nothing is downloaded at run time)", missing=[file_name])
        return str(path)

    weight_utils.download_weights_if_necessary = offline_weights
    _guard_installed = True


@contextmanager
def _ort_threads(n: int) -> Iterator[None]:
    """deepface builds its own onnxruntime.SessionOptions; cap its thread pools while it does."""
    import onnxruntime as ort

    original = ort.SessionOptions

    def options() -> Any:
        o = original()
        o.intra_op_num_threads = n
        o.inter_op_num_threads = 1
        return o

    ort.SessionOptions = options  # type: ignore[misc]
    try:
        yield
    finally:
        ort.SessionOptions = original  # type: ignore[misc]


class DeepFaceEngine(OperatingPoints):
    """A deepface recognition model (ONNX backend) with YuNet detection and deepface alignment."""

    def __init__(self, name: str, weights_dir: Path, slots: int, **points: Any):
        key = W.canonical_model(name)
        card = W.CARD_MODELS[key]
        require_weights(key, weights_dir)  # checked before deepface is even imported
        import cv2

        cv2.setNumThreads(1)  # one thread per inference: concurrency comes from the inference slots
        _install_deepface_guard(weights_dir)
        from deepface.commons import backend_utils
        from deepface.modules import detection, modeling, preprocessing

        self._detection, self._preprocessing = detection, preprocessing
        self.backend = backend_utils.get_backend_engine()
        with _ort_threads(1):
            self._model = modeling.build_model(task="facial_recognition", model_name=key)
        self._card = card
        self.model_id = "deepface-" + key.lower()
        self.dim = int(self._model.output_shape)
        self._detector = YuNet(weights_dir, slots)
        self._set_points(**points, fallback=UNCALIBRATED_THRESHOLDS[key])

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        return self._detector.detect(image)

    def embed(self, image: np.ndarray, face: DetectedFace) -> np.ndarray:
        check_image(image)
        from deepface.models.Detector import FacialAreaRegion

        marks = face.landmarks
        # deepface's YuNet client: left_eye = second landmark, right_eye = first
        left = None if marks is None else (int(marks[1][0]), int(marks[1][1]))
        right = None if marks is None else (int(marks[0][0]), int(marks[0][1]))
        region = FacialAreaRegion(x=face.x, y=face.y, w=face.w, h=face.h, confidence=face.score,
                                  left_eye=left, right_eye=right)
        crop = self._detection.extract_face(facial_area=region, img=image, align=True, expand_percentage=0,
                                            width_border=0, height_border=0, detector_backend="yunet").img
        if crop.size == 0:
            raise ValueError("empty face crop")
        h, w = self._model.input_shape
        blob = self._preprocessing.resize_image(crop.astype(np.float32) / 255.0, target_size=(w, h))
        blob = self._preprocessing.normalize_input(blob, normalization=self._card.normalization)
        return l2_normalize(np.asarray(self._model.forward(blob), dtype=np.float32))
