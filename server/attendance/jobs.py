"""Attendance scheduler jobs (leader-only through server/scheduler.py), each `func(db, settings)` → result dict.

* attendance.close_days (every CLOSE_DAY_INTERVAL_MINUTES): once a scheduled shift's end + grace_out has passed,
  its work day is closed: `absent` without punches, `incomplete` with an in and no out. Already-closed days are
  skipped, so it is idempotent; a punch that arrives later for a closed day (offline kiosk) re-opens and recomputes
  that day at once (service.recompute_day). It looks back max(LOOKBACK_DAYS, MAX_OFFLINE_HOURS / 24 + 2) days:
  a stopped scheduler catches up on a week at least, and always on every day an offline kiosk may still upload
  punches for. Days of employment only (service.employed_on), active users only.
* attendance.retention (daily): deletes face decision records (face_attempts) and kiosk answers older than
  RETENTION_DAYS (kiosk answers are kept at least MAX_OFFLINE_HOURS so a replay still finds its answer), and stored
  face images older than RETENTION_DAYS (files under DATA_DIR/images; template rows keep working, image_path → null).
* attendance.erase_biometrics (daily): erases templates and photos of users deactivated more than
  BIOMETRIC_RETENTION_DAYS ago (audited as faces.erase by the system).

Tests call the functions directly with an injected clock (`now=`); the scheduler calls them with the real one.
"""
from __future__ import annotations

import logging
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import delete, exists, or_, select, update

from server.attendance.models import KioskRequest, WorkDay
from server.attendance.service import employed_on, recompute_day
from server.attendance.workday import window
from server.clock import now as clock_now
from server.config import Settings
from server.faces.enrollment import erase_biometrics as erase
from server.faces.models import FaceAttempt, FaceTemplate
from server.scheduler import register_job
from server.shifts.models import Shift
from server.shifts.rules import ShiftRule, local_date
from server.shifts.service import assignments_between, lock_user
from server.users.models import User

log = logging.getLogger("faceclock.attendance.jobs")

LOOKBACK_DAYS = 7
SYSTEM = SimpleNamespace(id=None)  # the actor of automatic changes in the audit log


def _lookback(settings: Settings) -> int:
    return max(LOOKBACK_DAYS, settings.max_offline_hours // 24 + 2)


def _days(start: date, end: date):
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


def due_days(session, settings: Settings, now: datetime) -> dict[int, set[date]]:
    """user id → work dates to close: scheduled days whose close time has passed and that are not closed yet,
    plus open work_days rows (unscheduled days with punches) whose day is over."""
    today = local_date(now, "UTC")
    start, end = today - timedelta(days=_lookback(settings)), today + timedelta(days=1)
    closed = {(uid, d) for uid, d in session.execute(
        select(WorkDay.user_id, WorkDay.work_date).where(WorkDay.work_date >= start, WorkDay.work_date <= end,
                                                         WorkDay.closed_at.is_not(None)))}
    users = {u.id: u for u in session.scalars(select(User).where(User.is_active.is_(True)))}
    shifts = {s.id: ShiftRule.from_model(s) for s in session.scalars(select(Shift))}
    due: dict[int, set[date]] = {}
    for a in assignments_between(session, start, end):
        user = users.get(a.user_id)
        if user is None:
            continue
        rule = shifts[a.shift_id]
        for d in _days(max(a.valid_from, start), min(a.valid_to or end, end)):
            if (a.user_id, d) in closed or not rule.scheduled_on(d) or not employed_on(user, d, rule.timezone) \
                    or now < window(rule, d).close_at:
                continue
            due.setdefault(a.user_id, set()).add(d)
    for uid, d in session.execute(select(WorkDay.user_id, WorkDay.work_date).where(
            WorkDay.work_date >= start, WorkDay.work_date <= end, WorkDay.closed_at.is_(None))):
        if uid in users:
            due.setdefault(uid, set()).add(d)
    return due


def close_days(db, settings: Settings, *, now: datetime | None = None) -> dict:
    """Closes every due work day (see the module doc). One short transaction per user, under its row lock."""
    now = now or clock_now()
    with db.session() as s:
        due = due_days(s, settings, now)
    counts: dict[str, int] = {}
    for user_id, dates in sorted(due.items()):
        with db.session() as s:
            lock_user(s, user_id)
            user = s.get(User, user_id)
            for d in sorted(dates):
                wd = recompute_day(s, user, d, settings, now=now)
                if wd is not None and wd.closed_at is not None:
                    counts[wd.status] = counts.get(wd.status, 0) + 1
    result = {"closed": sum(counts.values()), "by_status": counts}
    if counts:
        log.info("close_days: %s", result)
    return result


def _delete_old_files(root: Path, cutoff: datetime) -> int:
    if not root.exists():
        return 0
    removed = 0
    limit = cutoff.timestamp()
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            try:
                if path.stat().st_mtime < limit:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
    return removed


def retention(db, settings: Settings, *, now: datetime | None = None) -> dict:
    now = now or clock_now()
    cutoff = now - timedelta(days=settings.retention_days)
    answers_cutoff = min(cutoff, now - timedelta(hours=settings.max_offline_hours))
    with db.session() as s:
        attempts = s.execute(delete(FaceAttempt).where(FaceAttempt.at < cutoff)).rowcount or 0
        answers = s.execute(delete(KioskRequest).where(KioskRequest.created_at < answers_cutoff)).rowcount or 0
        old_images = s.execute(select(FaceTemplate.id, FaceTemplate.image_path).where(
            FaceTemplate.image_path.is_not(None), FaceTemplate.created_at < cutoff)).all()
        for _, path in old_images:
            Path(path).unlink(missing_ok=True)
        if old_images:
            s.execute(update(FaceTemplate).where(FaceTemplate.id.in_([i for i, _ in old_images]))
                      .values(image_path=None))
    files = _delete_old_files(Path(settings.images_dir), cutoff)
    return {"face_attempts": attempts, "kiosk_requests": answers, "template_images": len(old_images),
            "image_files": files}


def erase_biometrics(db, settings: Settings, *, now: datetime | None = None) -> dict:
    now = now or clock_now()
    cutoff = now - timedelta(days=settings.biometric_retention_days)
    has_templates = exists().where(FaceTemplate.user_id == User.id)
    with db.session() as s:
        ids = list(s.scalars(select(User.id).where(
            User.is_active.is_(False), User.deactivated_at.is_not(None), User.deactivated_at < cutoff,
            or_(User.biometrics_erased_at.is_(None), has_templates))))
    erased = 0
    for user_id in ids:
        with db.session() as s:
            user = s.get(User, user_id)
            erased += erase(s, settings, actor=SYSTEM, user=user,
                            reason=f"deactivated more than {settings.biometric_retention_days} days ago")
    return {"users": len(ids), "templates": erased}


register_job("attendance.close_days", close_days, "interval", minutes=lambda s: s.close_day_interval_minutes)
register_job("attendance.retention", retention, "cron", hour=3, minute=17)
register_job("attendance.erase_biometrics", erase_biometrics, "cron", hour=3, minute=47)
