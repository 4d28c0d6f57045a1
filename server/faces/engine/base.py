"""What every engine shares: DetectedFace, the FaceEngine protocol, the operating points, a pool of native objects,
the weights check and OpenCV's quiet creation. Imports no native library at module level."""
from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from server.errors import ModelWeightsMissing
from server.faces import weights as W
from server.faces.calibration import curve_for
from server.faces.operating import ONE_TO_MANY_FPIR, ONE_TO_ONE_FMR, one_to_one

# OMP/OpenBLAS/MKL thread caps are set in server/__init__.py, before numpy is first imported (OpenBLAS reads them
# when it is loaded). OpenCV's own thread count is set per engine (SFaceEngine: `slots` threads for its one shared
# recognizer; the others 1), onnxruntime's with its session options (cards.py).

# --- operating points (cosine similarity of L2-normalised embeddings) ------------------------
# Thresholds come from each model's measured FMR curve (server/faces/calibration.py) through the rules of
# server/faces/operating.py: 1:1 at FMR <= MATCH_FMR (1e-4), 1:N at FPIR <= IDENTIFY_FPIR (0.5 %) for the gallery's
# size.
# Card models have no curve (no weights offline to measure one): deepface's own thresholds (1 - its cosine distance
# thresholds, deepface/config/threshold.py), the same for 1:N.
UNCALIBRATED_THRESHOLDS = {"VGG-Face": 0.32, "Facenet": 0.60, "Facenet512": 0.70, "ArcFace": 0.32}
# 1:N margins (best identity over the best other one): the smallest with no wrong identity when they were measured
# (docs/faces.md); scores of different models spread differently (dlib's cosines crowd near 1).
MARGINS = {"sface-2021dec": 0.08, "dlib-resnet-v1": 0.025, "facenet-20180408": 0.05}
CARD_MARGIN = 0.05  # not calibrated here (no weights offline)


class OperatingPoints:
    """The operating points every engine carries: `threshold` (1:1), `margin` (1:N), the FMR `curve` (None: not
    calibrated), `identify_fpir` and `duplicate_threshold` (None: the 1:N point at the gallery's size)."""

    model_id: str

    def _set_points(self, threshold: float | None, duplicate_threshold: float | None, margin: float | None,
                    fmr: float | None = None, fpir: float | None = None, fallback: float = 0.5) -> None:
        self.curve = curve_for(self.model_id)
        self.one_to_one = one_to_one(self.curve, fixed=threshold, fmr=fmr or ONE_TO_ONE_FMR, fallback=fallback)
        self.threshold = self.one_to_one.threshold
        self.identify_fpir = fpir or ONE_TO_MANY_FPIR
        self.duplicate_threshold = duplicate_threshold
        self.margin = MARGINS.get(self.model_id, CARD_MARGIN) if margin is None else margin

    def landmarks_near(self, image: np.ndarray, face: DetectedFace) -> np.ndarray | None:
        """Finer landmarks of a detected face for the liveness yaw measure: YuNet again on a square around the face
        (YuNet.landmarks_near) for the engines that detect with YuNet, else the detection's own landmarks."""
        detector = getattr(self, "_detector", None)
        finer = getattr(detector, "landmarks_near", None)
        return finer(image, face) if finer is not None else face.landmarks


@dataclass(frozen=True)
class DetectedFace:
    x: int
    y: int
    w: int
    h: int
    score: float  # detector confidence in [0, 1]
    landmarks: np.ndarray | None = None  # (5, 2) float32: r-eye, l-eye, nose, r-mouth, l-mouth (image px)

    @property
    def area(self) -> int:
        return self.w * self.h

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.w, self.h)


@runtime_checkable
class FaceEngine(Protocol):
    model_id: str
    threshold: float  # 1:1 operating point (FMR <= MATCH_FMR)
    duplicate_threshold: float | None  # None: the 1:N operating point at the gallery's size
    margin: float  # 1:N: the best identity must beat the best other one by this much
    curve: Any  # server.faces.operating.FmrCurve | None (not calibrated)
    identify_fpir: float
    dim: int

    def detect(self, image: np.ndarray) -> list[DetectedFace]: ...

    def embed(self, image: np.ndarray, face: DetectedFace) -> np.ndarray: ...


def l2_normalize(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32).reshape(-1)
    n = float(np.linalg.norm(v))
    if not math.isfinite(n) or n == 0.0:
        raise ValueError("embedding has zero or non-finite norm")
    return (v / n).astype(np.float32, copy=False)


class Pool:
    """Bounded pool of non-thread-safe native objects (cv2 detectors, dlib models)."""

    def __init__(self, factory: Callable[[], Any], size: int):
        self._factory = factory
        self._size = max(1, size)
        self._free: queue.LifoQueue = queue.LifoQueue()
        self._made = 0
        self._lock = threading.Lock()
        self._free.put(factory())  # fail early: the first one is built at load time
        self._made = 1

    @contextmanager
    def take(self) -> Iterator[Any]:
        try:
            obj = self._free.get_nowait()
        except queue.Empty:
            with self._lock:
                grow = self._made < self._size
                if grow:
                    self._made += 1
            obj = self._factory() if grow else self._free.get()
        try:
            yield obj
        finally:
            self._free.put(obj)


def check_image(image: np.ndarray) -> None:
    if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3):
        raise ValueError("expected a BGR uint8 HxWx3 image")


def require_weights(model: str, weights_dir: Path) -> None:
    missing = W.missing_weights(model, weights_dir)
    if missing:
        key = W.canonical_model(model)
        hint = W.close_offline_hint(key)
        raise ModelWeightsMissing(
            f"Face model {model!r} weights missing in {weights_dir}: {', '.join(missing)}. "
            f"Run `python scripts/fetch_models.py{'' if key in W.DEFAULT_OFFLINE else ' --model ' + key}`"
            + (f" (needs internet); {hint}." if hint else "."),
            missing=missing,
        )


_cv2_log_lock = threading.Lock()


def quiet_cv2(create, *args):
    """`create(*args)` with OpenCV's warnings off. OpenCV 5 runs ONNX models on its new graph engine, and
    FaceDetectorYN/FaceRecognizerSF.create always call setPreferableTarget(CPU), which that engine ignores with a
    warning ("Targets are not supported by the new graph engine for now") at every start. The model runs the same;
    errors are still logged. (Forcing the classic engine instead would change the numbers the thresholds were
    calibrated on.)"""
    import cv2

    cvlog = cv2.utils.logging
    with _cv2_log_lock:
        level = cvlog.getLogLevel()
        cvlog.setLogLevel(min(level, cvlog.LOG_LEVEL_ERROR))
        try:
            return create(*args)
        finally:
            cvlog.setLogLevel(level)
