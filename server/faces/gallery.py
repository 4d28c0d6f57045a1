"""In-memory gallery: per model_id a float32 matrix of the templates of ACTIVE users; 1:N is one product.

Snapshots are immutable (copy-on-write): readers take the current snapshot reference without a
lock, writers build a new one under a lock and swap it in. Other workers/replicas notice changes
through ``gallery_state.version`` (bumped in the same transaction as every enroll/erase and every
change of ``users.is_active``), checked at most every ``GALLERY_POLL_SECONDS``.

Deactivated users are not in the gallery: they can be neither recognized nor the runner-up that
makes someone else's match "ambiguous". A before-flush hook on every Session (installed when this
module is imported) notices ``User.is_active`` changes by itself, whatever code path makes them:
it bumps the version in the same transaction and, once it commits, drops the user from this
process's gallery (deactivation) or puts their templates back (reactivation).
"""
from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import event, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.errors import ModelMismatch
from server.faces.models import FaceTemplate, GalleryState
from server.users.models import User

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
    point: object | None = None  # server.faces.operating.OperatingPoint the decision was taken at

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
_search_pool = None
_search_pool_lock = threading.Lock()


def _scores(matrix: np.ndarray, vec: np.ndarray) -> np.ndarray:
    global _search_pool
    n = matrix.shape[0]
    parts = min(os.cpu_count() or 1, n // (PARALLEL_SEARCH_ROWS // 2))
    if parts < 2 or n < PARALLEL_SEARCH_ROWS:
        return matrix @ vec
    if _search_pool is None:
        with _search_pool_lock:
            if _search_pool is None:
                _search_pool = ThreadPoolExecutor(max_workers=parts - 1, thread_name_prefix="gallery-search")
    out = np.empty(n, np.float32)
    bounds = np.linspace(0, n, parts + 1).astype(int)
    slices = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
    futures = [_search_pool.submit(np.dot, matrix[sl], vec, out[sl]) for sl in slices[1:]]
    np.dot(matrix[slices[0]], vec, out[slices[0]])  # numpy releases the GIL: the slices run at once
    for f in futures:
        f.result()
    return out


def _as_vector(embedding: np.ndarray, dim: int) -> np.ndarray:
    v = np.asarray(embedding, dtype=np.float32).reshape(-1)
    if v.shape[0] != dim:
        raise ModelMismatch(f"embedding has {v.shape[0]} dimensions, the gallery {dim}")
    return v


def read_version(session: Session) -> int:
    return int(session.scalar(select(GalleryState.version).where(GalleryState.id == 1)) or 0)


def bump_version(session: Session, *, flush: bool = True) -> tuple[int, int]:
    """Increment gallery_state.version in the caller's transaction; returns (old, new).

    flush=False inside a flush (the is_active hook): the first row is then added without flushing.
    """
    res = session.execute(update(GalleryState).where(GalleryState.id == 1)
                          .values(version=GalleryState.version + 1))
    if res.rowcount == 0:
        session.add(GalleryState(id=1, version=1))
        if flush:
            session.flush()
        return 0, 1
    new = read_version(session)
    return new - 1, new


def ensure_state_row(session: Session) -> None:
    """Create the gallery_state row if missing (startup), so later bumps are a plain UPDATE. Several workers may
    start together: the one that loses the race to insert it just finds it there."""
    if session.get(GalleryState, 1) is not None:
        return
    try:
        with session.begin_nested():
            session.add(GalleryState(id=1, version=0))
    except IntegrityError:
        pass


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
        self.reenrollment: dict | None = None  # model-change report made at startup (load_gallery)

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
        scores = _scores(snap.matrix, vec)  # one matrix-vector product
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


# ----------------------------------------------------------------------------- after commit

_PENDING = "faces_after_commit"


def after_commit(session: Session, fn) -> None:
    """Run fn once the session's transaction commits; forget it if the transaction rolls back."""
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _run_pending)
        event.listen(session, "after_soft_rollback", _drop_pending)
    pending.append(fn)


def _run_pending(session: Session) -> None:
    pending, session.info[_PENDING] = list(session.info.get(_PENDING) or []), []
    for fn in pending:
        try:
            fn()
        except Exception:  # noqa: BLE001 - the DB is the truth; the version poll will resync
            log.exception("gallery update after commit failed")


def _drop_pending(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info[_PENDING] = []


# ----------------------------------------------------------------------------- users.is_active

def _activity_changes(session: Session) -> dict[int, bool]:
    """{user_id: is_active} for users whose is_active this flush changes."""
    out = {}
    for obj in session.dirty:
        if not isinstance(obj, User) or obj.id is None:
            continue
        hist = inspect(obj).attrs.is_active.history
        if not hist.added:
            continue
        active = bool(hist.added[0])
        if hist.deleted and bool(hist.deleted[0]) == active:
            continue
        out[obj.id] = active
    return out


def _on_before_flush(session: Session, flush_context, instances) -> None:
    changes = _activity_changes(session)
    if not changes:
        return
    reactivated: dict[int, dict[str, list]] = {}
    for user_id, active in changes.items():
        if active:  # read now: SQL cannot run after the commit
            rows = session.execute(select(FaceTemplate.id, FaceTemplate.model_id, FaceTemplate.embedding)
                                   .where(FaceTemplate.user_id == user_id)).all()
            by_model: dict[str, list] = {}
            for r in rows:
                by_model.setdefault(r.model_id, []).append((r.id, np.frombuffer(r.embedding, np.float32)))
            reactivated[user_id] = by_model
    old, new = bump_version(session, flush=False)

    def apply() -> None:
        gallery = get_gallery()
        for user_id, active in changes.items():
            if active:
                gallery.replace_user(user_id, reactivated[user_id])
            else:
                gallery.remove_user(user_id)
        gallery.note_bump(old, new)
        log.info("gallery: %s", ", ".join(f"user {u} {'reactivated' if a else 'deactivated'}"
                                          for u, a in changes.items()))

    after_commit(session, apply)


event.listen(Session, "before_flush", _on_before_flush)


# ----------------------------------------------------------------------------- the process gallery

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
    """Startup step (after the engine): load the configured model's templates (active users) into memory.

    Accepts a server.database.Database or a Session. Returns the process gallery. Then, for a FACE_MODEL change:
    logs a WARNING naming how many users have templates of other models only (they must re-enroll) and, with
    KEEP_ENROLLMENT_IMAGES=true and a Database, starts re-embedding their kept photos in a background thread that
    commits user by user (the gallery learns each user's new templates as they commit). /ready does not wait for it:
    re-embedding a few thousand photos takes minutes on 2 cores, and until then those users are simply not yet
    recognized, exactly as without the re-embedding.
    """
    from server.faces import model_change

    gallery = get_gallery(settings)
    if settings is not None:
        gallery.poll_seconds = settings.gallery_poll_seconds
    if isinstance(db_or_session, Session):
        gallery.load(db_or_session, engine.model_id, engine.dim)
        if settings is not None:
            model_change.warn_at_startup(db_or_session, engine.model_id, settings)
        return gallery
    with db_or_session.session() as session:
        ensure_state_row(session)
        session.commit()
        gallery.load(session, engine.model_id, engine.dim)
        report = model_change.warn_at_startup(session, engine.model_id, settings) if settings is not None else None
    gallery.reenrollment = None if report is None else {k: v for k, v in report.items() if k != "users"}
    if report and report["with_kept_images"] and settings.keep_enrollment_images:
        model_change.start_background_reembed(db_or_session, engine, settings)
    return gallery


def reset_gallery() -> None:
    global _gallery
    with _gallery_lock:
        _gallery = None
