"""The face engine as a guarded process-wide singleton, plus the inference semaphore.

``get_engine()`` loads the configured engine once: concurrent first calls wait on one lock and
all get the same object (double-checked locking). ``inference_slot()`` bounds concurrent
detection/embedding to ``settings.inference_slots`` (default: CPU cores).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # engine imports nothing heavy at module level, but keep this module light
    from server.faces.engine import FaceEngine

log = logging.getLogger("faceclock.faces.loader")

_lock = threading.Lock()
_engine: FaceEngine | None = None
_loads = 0  # how many times an engine was actually built (tests check it stays 1)
_load_seconds: float | None = None
_semaphore: threading.BoundedSemaphore | None = None
_slots = 0


def _settings(settings: Any | None) -> Any:
    if settings is not None:
        return settings
    from server.config import get_settings

    return get_settings()


def get_engine(settings: Any | None = None) -> FaceEngine:
    """The process's face engine, loaded on first call (raises ModelWeightsMissing if needed)."""
    global _engine, _loads, _load_seconds
    engine = _engine
    if engine is not None:
        return engine
    with _lock:
        if _engine is None:
            from server.faces.engine import load_engine

            s = _settings(settings)
            t0 = time.perf_counter()
            built = load_engine(s)
            _load_seconds = time.perf_counter() - t0
            _loads += 1
            _ensure_semaphore(s)
            log.info("face engine %s loaded in %.3fs (threshold %.3f)", built.model_id, _load_seconds,
                     built.threshold)
            _engine = built
        return _engine


def peek_engine() -> FaceEngine | None:
    """The loaded engine or None (never loads): for /ready and diagnostics."""
    return _engine


def loaded_model_ids() -> list[str]:
    return [] if _engine is None else [_engine.model_id]


def load_stats() -> dict:
    return {"loads": _loads, "load_seconds": _load_seconds,
            "model_id": None if _engine is None else _engine.model_id, "inference_slots": _slots}


def reset_engine() -> None:
    """Forget the engine and the semaphore (tests, or after changing FACE_MODEL)."""
    global _engine, _loads, _load_seconds, _semaphore, _slots
    with _lock:
        _engine, _loads, _load_seconds, _semaphore, _slots = None, 0, None, None, 0


def _ensure_semaphore(settings: Any) -> threading.BoundedSemaphore:
    global _semaphore, _slots
    if _semaphore is None:
        _slots = max(1, int(getattr(settings, "inference_slots", 1) or 1))
        _semaphore = threading.BoundedSemaphore(_slots)
    return _semaphore


@contextmanager
def inference_slot(settings: Any | None = None) -> Iterator[None]:
    """Hold one of the inference slots while detecting/embedding (blocks when all are busy)."""
    sem = _semaphore
    if sem is None:
        with _lock:
            sem = _ensure_semaphore(_settings(settings))
    sem.acquire()
    try:
        yield
    finally:
        sem.release()
