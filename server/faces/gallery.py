"""The in-memory index: per model_id a float32 matrix of the templates of ACTIVE users; 1:N is one product.

Snapshots are immutable (copy-on-write): readers take the current snapshot reference without a lock, writers build a
new one under a lock and swap it in. What keeps the index in step with the database (the version row, the active-user
hook, after-commit updates) is server/faces/sync.py; the decision taken on a search's candidates is
server/faces/matching.py; who builds and loads the index at startup is server/faces/runtime.py.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.errors import ModelMismatch
from server.faces.matching import Candidate
from server.faces.models import FaceTemplate
from server.faces.sync import read_version
from server.users.models import User

log = logging.getLogger("faceclock.faces.gallery")


@dataclass(frozen=True)
class _Snapshot:
    model_id: str
    dim: int
    matrix: np.ndarray  # (n, dim) float32, rows sorted by user_id
    user_ids: np.ndarray  # (n,) int64
    template_ids: np.ndarray  # (n,) int64
    users: np.ndarray  # (u,) unique user ids
    starts: np.ndarray  # (u,) first row of each user
    max_per_user: int  # most templates one user has

    @classmethod
    def build(cls, model_id: str, dim: int, matrix: np.ndarray, user_ids: np.ndarray,
              template_ids: np.ndarray) -> _Snapshot:
        order = np.lexsort((template_ids, user_ids))
        matrix = np.ascontiguousarray(matrix[order], dtype=np.float32).reshape(-1, dim)
        user_ids, template_ids = user_ids[order].astype(np.int64), template_ids[order].astype(np.int64)
        users, starts = np.unique(user_ids, return_index=True)
        for arr in (matrix, user_ids, template_ids, users, starts):
            arr.setflags(write=False)
        most = int(np.diff(np.append(starts, len(user_ids))).max()) if len(users) else 0
        return cls(model_id, dim, matrix, user_ids, template_ids, users, starts, most)

    @classmethod
    def empty(cls, model_id: str, dim: int) -> _Snapshot:
        z = np.zeros(0, np.int64)
        return cls.build(model_id, dim, np.zeros((0, dim), np.float32), z, z)

    def __len__(self) -> int:
        return int(self.matrix.shape[0])


# A gallery this big is searched in one slice per core: the product is memory-bound (100k x 128 float32 = 51 MB
# read per search), and BLAS itself runs one thread (server/__init__.py). Measured on 2 cores at 100k templates:
# ~9 ms in one slice, ~4.5 ms in two.
PARALLEL_SEARCH_ROWS = 20_000


def _scores(matrix: np.ndarray, vec: np.ndarray, pool) -> np.ndarray:
    """matrix @ vec; `pool()` gives the executor of the extra slices (only asked for when the matrix is large)."""
    n = matrix.shape[0]
    parts = min(os.cpu_count() or 1, n // (PARALLEL_SEARCH_ROWS // 2))
    if parts < 2 or n < PARALLEL_SEARCH_ROWS:
        return matrix @ vec
    out = np.empty(n, np.float32)
    bounds = np.linspace(0, n, parts + 1).astype(int)
    slices = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
    executor = pool()
    futures = [executor.submit(np.dot, matrix[sl], vec, out[sl]) for sl in slices[1:]]
    np.dot(matrix[slices[0]], vec, out[slices[0]])  # numpy releases the GIL: the slices run at once
    for f in futures:
        f.result()
    return out


def _as_vector(embedding: np.ndarray, dim: int) -> np.ndarray:
    v = np.asarray(embedding, dtype=np.float32).reshape(-1)
    if v.shape[0] != dim:
        raise ModelMismatch(f"embedding has {v.shape[0]} dimensions, the gallery {dim}")
    return v


def active_templates(model_id: str, user_id: int | None = None):
    """SELECT (id, user_id, dim, embedding) of the templates of model_id whose user is active."""
    q = (select(FaceTemplate.id, FaceTemplate.user_id, FaceTemplate.dim, FaceTemplate.embedding)
         .join(User, User.id == FaceTemplate.user_id)
         .where(FaceTemplate.model_id == model_id, User.is_active.is_(True)))
    return q if user_id is None else q.where(FaceTemplate.user_id == user_id)


class Gallery:
    def __init__(self, poll_seconds: float = 1.0):
        self.poll_seconds = poll_seconds
        self._snaps: dict[str, _Snapshot] = {}
        self._lock = threading.Lock()
        self.version: int | None = None  # DB version the snapshots reflect
        self._checked_at = 0.0
        self.last_search_ms: float | None = None
        self.reenrollment: dict | None = None  # model-change report made at startup (FaceRuntime.load_gallery)
        self._pool: ThreadPoolExecutor | None = None  # the extra slices of a large search

    def _search_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 1) - 1),
                                                    thread_name_prefix="gallery-search")
        return self._pool

    def close(self) -> None:
        """Stop the search threads (app shutdown)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    # -- loading -------------------------------------------------------------------------
    def load(self, session: Session, model_id: str, dim: int | None = None) -> int:
        """(Re)load every active user's template of model_id from the database. Returns the template count."""
        version = read_version(session)
        rows = session.execute(active_templates(model_id)).all()
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

    def replace_user(self, user_id: int, rows_by_model: dict[str, list[tuple[int, np.ndarray]]]) -> None:
        """Set user_id's templates to exactly `rows_by_model` ({model_id: [(template_id, embedding)]}) in every
        loaded model (idempotent: used when a user is reactivated)."""
        self.remove_user(user_id)
        for model_id, rows in rows_by_model.items():
            if model_id in self._snaps:
                for template_id, embedding in rows:
                    self.add(model_id, user_id, template_id, embedding)

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
        scores = _scores(snap.matrix, vec, self._search_pool)  # one matrix-vector product
        # A user's score is its best template's. Walking the rows from the best down, each user first shows up with
        # its best template, and k users need at most k x (most templates of one user) rows: only those are sorted.
        k = min(max(1, top_k), len(snap.users))
        need = k * snap.max_per_user
        rows = np.argpartition(scores, -need)[-need:] if need < len(snap) else np.arange(len(snap))
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        out: list[Candidate] = []
        seen: set[int] = set()
        for row in rows:
            user = int(snap.user_ids[row])
            if user in seen:
                continue
            seen.add(user)
            out.append(Candidate(user, float(scores[row]), int(snap.template_ids[row])))
            if len(out) == k:
                break
        self.last_search_ms = (time.perf_counter() - t0) * 1000
        return out
