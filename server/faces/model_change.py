"""After a FACE_MODEL change: who must re-enroll, and re-embedding the kept enrollment photos.

Templates are never compared across model_ids, so a user whose templates were all made by another model cannot be
recognized until they have a template of the current one. With KEEP_ENROLLMENT_IMAGES the enrollment photos are on
disk and can be re-embedded (the same quality gate as an enrollment); otherwise the admin is told who must re-enroll:

  reenrollment_report(session, model_id) -> dict         GET /api/v1/faces/reenrollment, the startup WARNING
  reembed_kept_images(session, rt, ...)                  POST /api/v1/faces/reembed, the startup background thread
  start_background_reembed(db, rt)                       FaceRuntime.load_gallery, when KEEP_ENROLLMENT_IMAGES=true
(rt: the app's FaceRuntime, server/faces/runtime.py)

Re-embedding commits user by user: each user becomes recognizable (the in-memory gallery learns their new templates
on commit) without waiting for the others. One process at a time does it (PostgreSQL advisory lock, or a file lock
under DATA_DIR/locks for SQLite), so several workers starting together do not embed anyone twice.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.audit.service import record as audit
from server.errors import AppError
from server.faces import service
from server.faces.models import FaceTemplate
from server.kit.locks import advisory_lock, lock_dir, lock_key
from server.users.models import User

log = logging.getLogger("faceclock.faces.model_change")

REEMBED_LOCK = "faces.reembed"

class ReembedRunning(AppError):
    status_code, code = 409, "reembed_running"
    message = "Kept enrollment photos are being re-embedded by another request or process; try again later"


def _lacking(model_id: str):
    """user ids with templates, none of them made by model_id."""
    current = select(FaceTemplate.user_id).where(FaceTemplate.model_id == model_id)
    return select(FaceTemplate.user_id).where(FaceTemplate.user_id.not_in(current)).distinct()


def users_needing_reenrollment(session: Session, model_id: str) -> list[int]:
    """Users (active or not) with templates of other models only."""
    return sorted(session.scalars(_lacking(model_id)).all())


def reenrollment_report(session: Session, model_id: str) -> dict:
    """Users who have templates only of other models: who they are, which models, whether kept photos exist."""
    if session.scalar(select(FaceTemplate.id).where(FaceTemplate.model_id != model_id).limit(1)) is None:
        # no template of another model at all (the usual start): nobody to report, without the NOT IN over every
        # template (0.2 s at 100,000 of them, in the startup's gallery step)
        return {"model_id": model_id, "users": [], "count": 0, "active": 0, "with_kept_images": 0}
    q = (select(User.id, User.employee_code, User.full_name, User.is_active, FaceTemplate.model_id,
                func.count(FaceTemplate.id).label("templates"),
                func.count(FaceTemplate.image_path).label("kept"))
         .join(FaceTemplate, FaceTemplate.user_id == User.id)
         .where(User.id.in_(_lacking(model_id)))
         .group_by(User.id, User.employee_code, User.full_name, User.is_active, FaceTemplate.model_id)
         .order_by(User.id))
    users: dict[int, dict] = {}
    for r in session.execute(q).all():
        u = users.setdefault(r.id, {"user_id": r.id, "employee_code": r.employee_code, "full_name": r.full_name,
                                    "is_active": bool(r.is_active), "model_ids": [], "templates": 0,
                                    "kept_images": 0})
        u["model_ids"].append(r.model_id)
        u["templates"] += int(r.templates)
        u["kept_images"] += int(r.kept)
    rows = list(users.values())
    for u in rows:
        u["model_ids"].sort()
        u["can_reembed"] = u["kept_images"] > 0
    return {"model_id": model_id, "users": rows, "count": len(rows),
            "active": sum(u["is_active"] for u in rows), "with_kept_images": sum(u["can_reembed"] for u in rows)}


def _kept_photos(session: Session, user_id: int) -> list[tuple[int, str]]:
    """(template id, path) of the user's kept photos, one per distinct file (several models may share one)."""
    rows = session.execute(select(FaceTemplate.id, FaceTemplate.image_path)
                           .where(FaceTemplate.user_id == user_id, FaceTemplate.image_path.is_not(None))
                           .order_by(FaceTemplate.id)).all()
    seen, out = set(), []
    for template_id, path in rows:
        if path not in seen:
            seen.add(path)
            out.append((template_id, path))
    return out


def _reembed_user(session: Session, user_id: int, rt: Any, actor_user_id: int | None = None) -> tuple[int, list[dict]]:
    """New templates of the engine's model from the user's kept photos (all that pass the enrollment gate)."""
    samples, paths, failed = [], [], []
    for template_id, path in _kept_photos(session, user_id):
        try:
            data = Path(path).read_bytes()
        except OSError:
            failed.append({"user_id": user_id, "template_id": template_id, "code": "image_missing",
                           "message": "The kept enrollment photo is no longer on disk"})
            continue
        try:
            samples.append(service.analyze(rt, data, "enroll"))
            paths.append(path)
        except AppError as exc:
            failed.append({"user_id": user_id, "template_id": template_id, "code": exc.code, "message": exc.message})
    if samples:
        rows = service.store_templates(session, user_id, samples, settings=rt.settings, image_paths=paths)
        audit(session, actor_user_id=actor_user_id, action="faces.reembed", entity="user", entity_id=user_id,
              after={"templates": [r.id for r in rows], "model_id": rt.model_id, "failed": len(failed)})
    return len(samples), failed


def _lock(session: Session, settings: Any):
    """The re-embedding's cross-process lock (server/kit/locks.py), on the session's database."""
    key = lock_key(settings.scheduler_leader_lock_id, REEMBED_LOCK)
    return advisory_lock(session.get_bind(), key, lock_dir(settings))


def reembed_kept_images(session: Session, rt: Any, *, limit: int | None = None,
                        stop: threading.Event | None = None, actor_user_id: int | None = None) -> dict:
    """Re-embed the kept photos of up to `limit` users lacking templates of the engine's model, committing after each
    user. Raises ReembedRunning (409) when another request or process is already doing it."""
    t0 = time.perf_counter()
    engine = rt.require_engine()
    with _lock(session, rt.settings) as mine:
        if not mine:
            raise ReembedRunning()
        todo = sorted(session.scalars(select(FaceTemplate.user_id).distinct().where(
            FaceTemplate.user_id.in_(_lacking(engine.model_id)), FaceTemplate.image_path.is_not(None))).all())
        session.commit()
        done, templates, failed, attempted = 0, 0, [], 0
        for user_id in todo[:limit]:
            if stop is not None and stop.is_set():
                break
            stored, errors = _reembed_user(session, user_id, rt, actor_user_id)
            session.commit()  # this user is recognizable from now on (gallery updated on commit)
            attempted += 1
            done += bool(stored)
            templates += stored
            failed.extend(errors)
    return {"model_id": engine.model_id, "users_reembedded": done, "templates_created": templates,
            "failed": failed, "remaining": len(todo) - attempted,
            "users_to_reenroll": users_needing_reenrollment(session, engine.model_id),
            "seconds": round(time.perf_counter() - t0, 3)}


# ----------------------------------------------------------------------------- at startup

_thread: threading.Thread | None = None
_stop = threading.Event()
last_run: dict | None = None  # the background run's result (or {"error": ...})


def warn_at_startup(session: Session, model_id: str, settings: Any) -> dict:
    """Log a WARNING naming how many users must re-enroll (or will be re-embedded) for model_id."""
    report = reenrollment_report(session, model_id)
    if report["count"]:
        auto = settings.keep_enrollment_images and report["with_kept_images"]
        log.warning("face model %s: %d users (%d active) have templates of other models only and must re-enroll; "
                    "%d have kept enrollment photos%s. List: GET /api/v1/faces/reenrollment", model_id,
                    report["count"], report["active"], report["with_kept_images"],
                    " (re-embedding them in the background now)" if auto else
                    (" (POST /api/v1/faces/reembed re-embeds them)" if report["with_kept_images"] else ""))
    return report


def start_background_reembed(db: Any, rt: Any) -> threading.Thread:
    """Re-embed every kept photo in a daemon thread (one inference slot at a time, so requests keep flowing)."""
    global _thread, last_run
    engine = rt.require_engine()

    def run() -> None:
        global last_run
        try:
            with db.session() as session:
                last_run = reembed_kept_images(session, rt, stop=_stop)
            log.info("re-embedding for %s finished: %d users, %d templates, %d failures, %d users still to re-enroll",
                     engine.model_id, last_run["users_reembedded"], last_run["templates_created"],
                     len(last_run["failed"]), len(last_run["users_to_reenroll"]))
            if last_run["users_to_reenroll"]:
                log.warning("face model %s: %d users must still re-enroll (GET /api/v1/faces/reenrollment)",
                            engine.model_id, len(last_run["users_to_reenroll"]))
        except ReembedRunning:
            last_run = {"skipped": "another process is re-embedding"}
            log.info("re-embedding skipped: another process holds the lock")
        except Exception as exc:  # noqa: BLE001 - a background job must report, not crash the server
            last_run = {"error": f"{exc.__class__.__name__}: {exc}"}
            log.exception("re-embedding kept enrollment photos failed")

    _stop.clear()
    last_run = None
    _thread = threading.Thread(target=run, name="faces-reembed", daemon=True)
    _thread.start()
    return _thread


def wait_background_reembed(timeout: float | None = None) -> bool:
    """True when no background re-embedding is running (after waiting up to timeout)."""
    t = _thread
    if t is not None:
        t.join(timeout)
    return t is None or not t.is_alive()


def stop_background_reembed(timeout: float = 10.0) -> bool:
    """Ask the background run to stop after the current user (shutdown, tests)."""
    _stop.set()
    return wait_background_reembed(timeout)
