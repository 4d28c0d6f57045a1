"""Keeping the in-memory gallery (server/faces/gallery.py) in step with the database.

- the version row: ``gallery_state.version``, bumped in the same transaction as every change of what the gallery
  holds (templates stored or erased, ``users.is_active`` changed);
- the change log: ``gallery_changes``, one row per user whose entry that transaction changed, keyed by the version it
  bumped to (``log_change``). Every replica's ``GallerySync`` thread polls the version every GALLERY_POLL_SECONDS,
  reads the log rows past the version its gallery holds and re-reads just those users' active templates
  (``Gallery.resync_users``). When a version in between has no row (the log was pruned past it, or a script bumped
  the version without logging), it reloads in full, built in the background and swapped in. Requests never sync:
  they search whatever the gallery holds. Log rows older than GALLERY_LOG_KEEP_SECONDS are pruned by the poller;
- after-commit updates: a change made by this process reaches its own gallery when the transaction commits, and is
  forgotten when it rolls back;
- the active-user hook: a before-flush hook that notices ``User.is_active`` changes by itself, whatever code path
  makes them: it bumps the version in the same transaction and, once it commits, drops the user from the gallery
  (deactivation) or puts their templates back (reactivation).

Nothing is installed at import. ``install(db)`` listens on one Database's sessionmaker (server.startup.open_database
does it for every Database the server or its commands open, so any is_active change there bumps the version);
``install(db, gallery)`` (the app's lifespan, or a script that holds a gallery) also binds a gallery to that Database's
sessions, so two apps in one process (tests, benchmarks) each keep their own. ``gallery_of(session)`` is the gallery of
a session's Database (None when none was installed: the database changes, no in-memory index to update).
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import numpy as np
from sqlalchemy import delete, event, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.clock import now
from server.faces.models import FaceTemplate, GalleryChange, GalleryState
from server.users.models import User

log = logging.getLogger("faceclock.faces.sync")

GALLERY_KEY = "faces.gallery"  # Session.info key of the gallery bound to a Database's sessions


# ----------------------------------------------------------------------------- the version row

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


def log_change(session: Session, version: int, user_ids, kind: str) -> None:
    """The change-log rows of a transaction that bumped the gallery to `version` (kind: added | erased | activated |
    deactivated). Added to the session: written with its next flush (allowed inside before_flush too)."""
    at = now()
    session.add_all([GalleryChange(version=version, user_id=int(u), kind=kind, at=at) for u in user_ids])


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


# ----------------------------------------------------------------------------- binding a gallery to a Database

_LISTENING = "_faceclock_sync_listening"


def install(db, gallery=None) -> None:
    """Listen for is_active changes on the sessions of `db` (server.database.Database); with `gallery`, bind it to
    them too (their committed changes update it)."""
    maker = db.sessionmaker
    if gallery is not None:
        info = dict(maker.kw.get("info") or {})
        info[GALLERY_KEY] = gallery
        maker.configure(info=info)
    # Whether this very sessionmaker listens is kept on it, not asked of event.contains(): SQLAlchemy's event
    # registry keys targets by id(), so a new sessionmaker at the address of a collected one "contains" the listener
    # without having it (install then skipped the hook; uninstall failed with "not in deque").
    if not getattr(maker, _LISTENING, False):
        event.listen(maker, "before_flush", _on_before_flush)
        setattr(maker, _LISTENING, True)


def uninstall(db) -> None:
    maker = db.sessionmaker
    info = dict(maker.kw.get("info") or {})
    info.pop(GALLERY_KEY, None)
    maker.configure(info=info)
    if getattr(maker, _LISTENING, False):
        event.remove(maker, "before_flush", _on_before_flush)
        setattr(maker, _LISTENING, False)


def gallery_of(session: Session):
    return session.info.get(GALLERY_KEY)


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


# ----------------------------------------------------------------------------- templates stored / erased

def templates_added(session: Session, rows, *, active: bool) -> None:
    """In the transaction that inserted `rows` (FaceTemplate, flushed): bump the version; on commit the session's
    gallery learns them (only for an active user: the gallery holds active users only)."""
    old, new = bump_version(session)
    log_change(session, new, sorted({r.user_id for r in rows}), "added")
    gallery = gallery_of(session)
    if gallery is None:
        return
    added = [(r.model_id, r.user_id, r.id, np.frombuffer(r.embedding, np.float32)) for r in rows] if active else []

    def apply() -> None:
        for model_id, user_id, template_id, embedding in added:
            if model_id in gallery.model_ids():
                gallery.add(model_id, user_id, template_id, embedding)
        gallery.note_bump(old, new)

    after_commit(session, apply)


def user_removed(session: Session, user_id: int) -> None:
    """In the transaction that deleted a user's templates: bump the version; on commit the gallery forgets them."""
    old, new = bump_version(session)
    log_change(session, new, [user_id], "erased")
    gallery = gallery_of(session)
    if gallery is None:
        return

    def apply() -> None:
        gallery.remove_user(user_id)
        gallery.note_bump(old, new)

    after_commit(session, apply)


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
    for user_id, active in changes.items():
        log_change(session, new, [user_id], "activated" if active else "deactivated")
    gallery = gallery_of(session)
    if gallery is None:
        return

    def apply() -> None:
        for user_id, active in changes.items():
            if active:
                gallery.replace_user(user_id, reactivated[user_id])
            else:
                gallery.remove_user(user_id)
        gallery.note_bump(old, new)
        log.info("gallery: %s", ", ".join(f"user {u} {'reactivated' if a else 'deactivated'}"
                                          for u, a in changes.items()))

    after_commit(session, apply)


# ----------------------------------------------------------------------------- the replica's poller

RESYNC_CHUNK = 1000  # users re-read per query


class GallerySync:
    """Brings `gallery` (of model `model_id`) up to the database's version, off the request path.

    `poll_once()` does one step and says what it did: "current", "applied" (log rows past our version applied),
    "reloaded" (a full load: our version is not covered by the log) or "raced" (this process changed its gallery on
    its own commit while the step read the database: what it read may predate that change, so it is dropped and the
    step done again at once). `start()` runs it every `poll_seconds` in a daemon thread until `stop()`; the same
    thread prunes log rows older than `keep_seconds` once a minute.

    A step reads the version first, then the log, then the users' templates, each its own statement: a change that
    commits in between may already be in the templates read while the version recorded is the older one. The gallery
    is then ahead of its version, never behind it, and the next step re-reads that user and records the version.
    """

    RETRIES = 5  # "raced" steps redone at once before waiting for the next poll

    PRUNE_EVERY = 60.0

    def __init__(self, db, gallery, model_id: str, dim: int, *, poll_seconds: float = 0.25,
                 keep_seconds: float = 3600.0):
        self.db, self.gallery, self.model_id, self.dim = db, gallery, model_id, dim
        self.poll_seconds, self.keep_seconds = poll_seconds, keep_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pruned_at = 0.0
        self.stats = {"polls": 0, "applied": 0, "users_resynced": 0, "reloads": 0, "raced": 0, "errors": 0,
                      "last_apply_ms": None, "last_reload_ms": None, "last_error": None}

    # -- one step ----------------------------------------------------------------------------
    def poll_once(self) -> str:
        self.stats["polls"] += 1
        epoch = self.gallery.epoch  # before anything is read
        with self.db.session() as session:
            current = read_version(session)
            mine = self.gallery.version
            loaded = self.model_id in self.gallery.model_ids()
            if mine is not None and current == mine and loaded:
                return "current"
            t0 = time.perf_counter()
            changes = [] if mine is None or current < mine else session.execute(
                select(GalleryChange.version, GalleryChange.user_id)
                .where(GalleryChange.version > mine, GalleryChange.version <= current)).all()
            covered = (mine is not None and current >= mine
                       and {c.version for c in changes} == set(range(mine + 1, current + 1)))
            if not covered or not loaded:
                if self.gallery.load(session, self.model_id, self.dim, epoch=epoch) < 0:  # built aside, swapped in
                    self.stats["raced"] += 1
                    return "raced"
                self.stats["reloads"] += 1
                self.stats["last_reload_ms"] = round((time.perf_counter() - t0) * 1000, 1)
                log.info("gallery sync: full reload to version %s (held %s)", self.gallery.version, mine)
                return "reloaded"
            users = sorted({c.user_id for c in changes})
            for i in range(0, len(users), RESYNC_CHUNK):
                part = users[i:i + RESYNC_CHUNK]
                rows = session.execute(_active_rows(self.model_id, part)).all()
                last = i + RESYNC_CHUNK >= len(users)
                if not self.gallery.resync_users(self.model_id, part, rows, current if last else None, epoch=epoch):
                    self.stats["raced"] += 1
                    return "raced"
            self.stats["applied"] += 1
            self.stats["users_resynced"] += len(users)
            self.stats["last_apply_ms"] = round((time.perf_counter() - t0) * 1000, 2)
            return "applied"

    def prune(self) -> int:
        """Delete log rows older than keep_seconds (a replica that far behind reloads in full)."""
        with self.db.session() as session:
            cutoff = now() - timedelta(seconds=self.keep_seconds)
            return int(session.execute(delete(GalleryChange).where(GalleryChange.at < cutoff)).rowcount or 0)

    # -- the thread ------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="gallery-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                for _ in range(self.RETRIES):
                    if self.poll_once() != "raced":
                        break
                if time.monotonic() - self._pruned_at > self.PRUNE_EVERY:
                    self._pruned_at = time.monotonic()
                    self.prune()
            except Exception as exc:  # noqa: BLE001 - the database may be down for a while: keep polling
                self.stats["errors"] += 1
                self.stats["last_error"] = f"{exc.__class__.__name__}: {exc}"[:200]
                log.warning("gallery sync failed (retrying in %.2fs): %s", self.poll_seconds, self.stats["last_error"])

    def describe(self) -> dict:
        return {"running": self.running, "version": self.gallery.version, "poll_seconds": self.poll_seconds,
                **self.stats}


def _active_rows(model_id: str, user_ids):
    """(id, user_id, dim, embedding) of the active templates of model_id of these users."""
    return (select(FaceTemplate.id, FaceTemplate.user_id, FaceTemplate.dim, FaceTemplate.embedding)
            .join(User, User.id == FaceTemplate.user_id)
            .where(FaceTemplate.model_id == model_id, User.is_active.is_(True),
                   FaceTemplate.user_id.in_(list(user_ids))))
