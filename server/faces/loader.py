"""Loading the face engine's weights, once per configuration per process.

``get_engine(settings)`` builds the engine FACE_MODEL names (server/faces/engine/) the first time a configuration
asks for it; concurrent first calls wait on one lock and all get the same object (double-checked locking). The
engine is immutable once built and thread-safe, so several apps of one process (tests, benchmarks) share it instead
of reading the same weights again. Nothing here is reached by request code: the app's FaceRuntime
(server/faces/runtime.py) asks for its engine at startup and hands it to the routes.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from server.config import Settings

if TYPE_CHECKING:  # engine imports nothing heavy at module level, but keep this module light
    from server.faces.engine import FaceEngine

log = logging.getLogger("faceclock.faces.loader")

_lock = threading.Lock()
_engines: dict[tuple, FaceEngine] = {}
_last: FaceEngine | None = None
_loads = 0  # how many times an engine was actually built (tests check it stays 1)
_load_seconds: float | None = None


def _key(s: Settings) -> tuple:
    """What load_engine reads: two settings with the same key get the same engine."""
    return (s.face_model, str(Path(s.weights_dir).absolute()), s.match_threshold, s.duplicate_threshold,
            getattr(s, "match_margin", None), getattr(s, "match_fmr", None), getattr(s, "identify_fpir", None),
            int(getattr(s, "inference_slots", 1) or 1))


def get_engine(settings: Settings) -> FaceEngine:
    """The engine of these settings, loaded on first call (raises ModelWeightsMissing if needed)."""
    global _last, _loads, _load_seconds
    key = _key(settings)
    engine = _engines.get(key)
    if engine is not None:
        return engine
    with _lock:
        if key not in _engines:
            from server.faces.engine import load_engine

            t0 = time.perf_counter()
            built = load_engine(settings)
            _load_seconds = time.perf_counter() - t0
            _loads += 1
            log.info("face engine %s loaded in %.3fs (threshold %.3f)", built.model_id, _load_seconds,
                     built.threshold)
            _engines[key] = _last = built
        return _engines[key]


def peek_engine() -> FaceEngine | None:
    """The engine loaded last, or None (never loads)."""
    return _last


def load_stats() -> dict:
    return {"loads": _loads, "load_seconds": _load_seconds, "model_id": None if _last is None else _last.model_id}


def reset_engine() -> None:
    """Forget the loaded engines (tests of a failing load, or after changing FACE_MODEL)."""
    global _last, _loads, _load_seconds
    with _lock:
        _engines.clear()
        _last, _loads, _load_seconds = None, 0, None
