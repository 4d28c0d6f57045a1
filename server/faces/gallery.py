"""In-memory gallery: per model_id a float32 matrix of enrolled templates; 1:N is one product.

Snapshots are immutable (copy-on-write): readers take the current snapshot reference without a
lock, writers build a new one under a lock and swap it in. Other workers/replicas notice changes
through ``gallery_state.version`` (bumped in the same transaction as every enroll/erase), checked
at most every ``GALLERY_POLL_SECONDS``.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.errors import ModelMismatch
from server.faces.models import FaceTemplate, GalleryState

log = logging.getLogger("faceclock.faces.gallery")


@dataclass(frozen=True)
class Candidate:
    user_id: int
    score: float
    template_id: int


@dataclass(frozen=True)
class Decision:
    user_id: int | None  # None = unknown
    score: float | None  # best identity's score
    runner_up: float | None  # best *other* identity's score
    threshold: float
    margin: float
    reason: str  # recognized | below_threshold | ambiguous | empty_gallery | frames_disagree
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def recognized(self) -> bool:
        return self.user_id is not None


@dataclass(frozen=True)
class _Snapshot:
    model_id: str
    dim: int
    matrix: np.ndarray  # (n, dim) float32, rows sorted by user_id
    user_ids: np.ndarray  # (n,) int64
    template_ids: np.ndarray  # (n,) int64
    users: np.ndarray  # (u,) unique user ids
    starts: np.ndarray  # (u,) first row of each user

    @classmethod
    def build(cls, model_id: str, dim: int, matrix: np.ndarray, user_ids: np.ndarray,
              template_ids: np.ndarray) -> _Snapshot:
        order = np.lexsort((template_ids, user_ids))
        matrix = np.ascontiguousarray(matrix[order], dtype=np.float32).reshape(-1, dim)
        user_ids, template_ids = user_ids[order].astype(np.int64), template_ids[order].astype(np.int64)
        users, starts = np.unique(user_ids, return_index=True)
        for arr in (matrix, user_ids, template_ids, users, starts):
            arr.setflags(write=False)
        return cls(model_id, dim, matrix, user_ids, template_ids, users, starts)

    @classmethod
    def empty(cls, model_id: str, dim: int) -> _Snapshot:
        z = np.zeros(0, np.int64)
        return cls.build(model_id, dim, np.zeros((0, dim), np.float32), z, z)

    def __len__(self) -> int:
        return int(self.matrix.shape[0])


def _as_vector(embedding: np.ndarray, dim: int) -> np.ndarray:
    v = np.asarray(embedding, dtype=np.float32).reshape(-1)
    if v.shape[0] != dim:
        raise ModelMismatch(f"embedding has {v.shape[0]} dimensions, the gallery {dim}")
    return v


def read_version(session: Session) -> int:
    return int(session.scalar(select(GalleryState.version).where(GalleryState.id == 1)) or 0)


def bump_version(session: Session) -> tuple[int, int]:
    """Increment gallery_state.version in the caller's transaction; returns (old, new)."""
    res = session.execute(update(GalleryState).where(GalleryState.id == 1)
                          .values(version=GalleryState.version + 1))
    if res.rowcount == 0:
        session.add(GalleryState(id=1, version=1))
        session.flush()
        return 0, 1
    new = read_version(session)
    return new - 1, new


class Gallery:
    def __init__(self, poll_seconds: float = 1.0):
        self.poll_seconds = poll_seconds
        self._snaps: dict[str, _Snapshot] = {}
        self._lock = threading.Lock()
        self.version: int | None = None  # DB version the snapshots reflect
        self._checked_at = 0.0
        self.last_search_ms: float | None = None

    # -- loading -------------------------------------------------------------------------
    def load(self, session: Session, model_id: str, dim: int | None = None) -> int:
        """(Re)load every template of model_id from the database. Returns the template count."""
        version = read_version(session)
        rows = session.execute(select(FaceTemplate.id, FaceTemplate.user_id, FaceTemplate.dim,
                                      FaceTemplate.embedding)
                               .where(FaceTemplate.model_id == model_id)).all()
        dims = {r.dim for r in rows}
        if len(dims) > 1:
            raise ModelMismatch(f"templates of {model_id} have several dimensions: {sorted(dims)}")
        d = dims.pop() if dims else (dim or self._snaps.get(model_id, _Snapshot.empty(model_id, 0)).dim)
        if rows:
            matrix = np.frombuffer(b"".join(r.embedding for r in rows), dtype=np.float32).reshape(len(rows), d)
            snap = _Snapshot.build(model_id, d, matrix, np.array([r.user_id for r in rows]),
                                   np.array([r.id for r in rows]))
        else:
            snap = _Snapshot.empty(model_id, d)
        with self._lock:
            self._snaps[model_id] = snap
            self.version = version
            self._checked_at = time.monotonic()
        log.info("gallery %s: %d templates of %d users (version %d)", model_id, len(snap), len(snap.users), version)
        return len(snap)

    def load_arrays(self, model_id: str, matrix: np.ndarray, user_ids: Sequence[int],
                    template_ids: Sequence[int] | None = None) -> None:
        """Install templates directly (benchmarks, tests)."""
        matrix = np.asarray(matrix, np.float32)
        tids = np.arange(len(user_ids)) if template_ids is None else np.asarray(template_ids)
        snap = _Snapshot.build(model_id, matrix.shape[1], matrix, np.asarray(user_ids), tids)
        with self._lock:
            self._snaps[model_id] = snap

    def refresh_if_stale(self, session: Session, force: bool = False) -> bool:
        """Reload when the DB version moved (checked at most every poll_seconds). True if reloaded."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.poll_seconds:
            return False
        self._checked_at = now
        version = read_version(session)
        if version == self.version and not force:
            return False
        for model_id, snap in list(self._snaps.items()):
            self.load(session, model_id, snap.dim)
        with self._lock:
            self.version = version
        return True

    def note_bump(self, old: int, new: int) -> None:
        """After our own bump: adopt the new version only if we were up to date before it."""
        with self._lock:
            if self.version == old:
                self.version = new

    # -- updates (copy-on-write) -----------------------------------------------------------
    def add(self, model_id: str, user_id: int, template_id: int, embedding: np.ndarray) -> None:
        with self._lock:
            snap = self._snaps.get(model_id)
            vec = np.asarray(embedding, np.float32).reshape(1, -1)
            if snap is None:
                snap = _Snapshot.empty(model_id, vec.shape[1])
            vec = _as_vector(vec, snap.dim)[None, :]
            self._snaps[model_id] = _Snapshot.build(
                model_id, snap.dim, np.vstack([snap.matrix, vec]),
                np.append(snap.user_ids, user_id), np.append(snap.template_ids, template_id))

    def remove_user(self, user_id: int) -> int:
        removed = 0
        with self._lock:
            for model_id, snap in list(self._snaps.items()):
                keep = snap.user_ids != user_id
                removed += int((~keep).sum())
                if not keep.all():
                    self._snaps[model_id] = _Snapshot.build(model_id, snap.dim, snap.matrix[keep],
                                                            snap.user_ids[keep], snap.template_ids[keep])
        return removed

    def clear(self) -> None:
        with self._lock:
            self._snaps.clear()
            self.version = None
            self._checked_at = 0.0

    # -- queries ---------------------------------------------------------------------------
    def model_ids(self) -> list[str]:
        return sorted(self._snaps)

    def size(self, model_id: str | None = None) -> int:
        snaps = self._snaps
        return sum(len(s) for m, s in snaps.items() if model_id in (None, m))

    def users(self, model_id: str) -> int:
        snap = self._snaps.get(model_id)
        return 0 if snap is None else len(snap.users)

    def _snapshot(self, model_id: str) -> _Snapshot:
        snap = self._snaps.get(model_id)
        if snap is None:
            loaded = ", ".join(self._snaps) or "none"
            raise ModelMismatch(f"no gallery for model {model_id} (loaded: {loaded})", model_id=model_id)
        return snap

    def search(self, embedding: np.ndarray, model_id: str, top_k: int = 5) -> list[Candidate]:
        """Best score per identity (max over that user's templates), highest first."""
        snap = self._snapshot(model_id)
        vec = _as_vector(embedding, snap.dim)
        if len(snap) == 0:
            return []
        t0 = time.perf_counter()
        scores = snap.matrix @ vec  # one matrix-vector product
        per_user = np.maximum.reduceat(scores, snap.starts)
        k = min(max(1, top_k), per_user.shape[0])
        top = np.argpartition(-per_user, k - 1)[:k] if k < per_user.shape[0] else np.arange(per_user.shape[0])
        top = top[np.argsort(-per_user[top], kind="stable")]
        out = []
        for u in top:
            lo = snap.starts[u]
            hi = snap.starts[u + 1] if u + 1 < len(snap.starts) else len(snap)
            row = lo + int(np.argmax(scores[lo:hi]))
            out.append(Candidate(int(snap.users[u]), float(per_user[u]), int(snap.template_ids[row])))
        self.last_search_ms = (time.perf_counter() - t0) * 1000
        return out


def decide(candidates: Sequence[Candidate], threshold: float, margin: float) -> Decision:
    """Recognized only if the best identity passes the threshold AND beats the runner-up by margin."""
    cands = sorted(candidates, key=lambda c: c.score, reverse=True)
    if not cands:
        return Decision(None, None, None, threshold, margin, "empty_gallery", [])
    best = cands[0]
    runner = next((c.score for c in cands[1:] if c.user_id != best.user_id), None)
    if best.score < threshold:
        return Decision(None, best.score, runner, threshold, margin, "below_threshold", cands)
    if runner is not None and best.score - runner < margin:
        return Decision(None, best.score, runner, threshold, margin, "ambiguous", cands)
    return Decision(best.user_id, best.score, runner, threshold, margin, "recognized", cands)


def decide_frames(per_frame: Sequence[Sequence[Candidate]], threshold: float, margin: float) -> Decision:
    """Multi-frame decision: every frame must recognize the same user, else unknown."""
    decisions = [decide(c, threshold, margin) for c in per_frame]
    if not decisions:
        return Decision(None, None, None, threshold, margin, "empty_gallery", [])
    worst = min(decisions, key=lambda d: -1.0 if d.score is None else d.score)
    if not all(d.recognized for d in decisions):
        return next(d for d in decisions if not d.recognized)
    if len({d.user_id for d in decisions}) > 1:
        return Decision(None, worst.score, worst.runner_up, threshold, margin, "frames_disagree", worst.candidates)
    return worst  # recognized by all frames: report the weakest frame's figures


_gallery: Gallery | None = None
_gallery_lock = threading.Lock()


def get_gallery(settings=None) -> Gallery:
    global _gallery
    if _gallery is None:
        with _gallery_lock:
            if _gallery is None:
                if settings is None:
                    from server.config import get_settings

                    settings = get_settings()
                _gallery = Gallery(poll_seconds=settings.gallery_poll_seconds)
    return _gallery


def load_gallery(db_or_session, engine, settings=None) -> Gallery:
    """Startup step (after the engine): load the configured model's templates into memory.

    Accepts a server.database.Database or a Session. Returns the process gallery.
    """
    gallery = get_gallery(settings)
    if settings is not None:
        gallery.poll_seconds = settings.gallery_poll_seconds
    if isinstance(db_or_session, Session):
        gallery.load(db_or_session, engine.model_id, engine.dim)
    else:
        with db_or_session.session() as session:
            gallery.load(session, engine.model_id, engine.dim)
    return gallery


def reset_gallery() -> None:
    global _gallery
    with _gallery_lock:
        _gallery = None
