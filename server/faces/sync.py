"""Keeping the in-memory gallery (server/faces/gallery.py) in step with the database.

- the version row: ``gallery_state.version``, bumped in the same transaction as every change of what the gallery
  holds (templates stored or erased, ``users.is_active`` changed); other workers and replicas notice it moved;
- after-commit updates: a change made by this process reaches its own gallery when the transaction commits, and is
  forgotten when it rolls back;
- the active-user hook: a before-flush hook that notices ``User.is_active`` changes by itself, whatever code path
  makes them: it bumps the version in the same transaction and, once it commits, drops the user from the gallery
  (deactivation) or puts their templates back (reactivation).

Nothing is installed at import. ``install(db)`` listens on one Database's sessionmaker (server.startup.open_database
does it for every Database the server or its commands open, so any is_active change there bumps the version);
``install(db, gallery)`` (the app's lifespan, or a script that holds a gallery) also binds a gallery to that
Database's sessions, so two apps in one process (tests, benchmarks) each keep their own. ``gallery_of(session)`` is the gallery of a session's
Database (None when none was installed: the database changes, no in-memory index to update).
"""
from __future__ import annotations

import logging

import numpy as np
from sqlalchemy import event, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.faces.models import FaceTemplate, GalleryState
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

def install(db, gallery=None) -> None:
    """Listen for is_active changes on the sessions of `db` (server.database.Database); with `gallery`, bind it to
    them too (their committed changes update it)."""
    maker = db.sessionmaker
    if gallery is not None:
        info = dict(maker.kw.get("info") or {})
        info[GALLERY_KEY] = gallery
        maker.configure(info=info)
    if not event.contains(maker, "before_flush", _on_before_flush):
        event.listen(maker, "before_flush", _on_before_flush)


def uninstall(db) -> None:
    maker = db.sessionmaker
    info = dict(maker.kw.get("info") or {})
    info.pop(GALLERY_KEY, None)
    maker.configure(info=info)
    if event.contains(maker, "before_flush", _on_before_flush):
        event.remove(maker, "before_flush", _on_before_flush)


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
