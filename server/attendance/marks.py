"""Whole-day marks: a manager says how a day went (present at an off-site meeting, remote, absent, on leave) whatever
the punches say. The mark replaces the day's status (late and early-leave minutes become 0); the punches and the
minutes they add up to stay as recorded. One mark per (user, work date); setting it again replaces it. Audited
(`attendance.mark`, `attendance.unmark`, with before / after and the reason); the day is recomputed under the
user's row lock."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.config import Settings
from server.attendance import calendar
from server.attendance.models import DayMark, WorkDay
from server.attendance.service import fallback_zone, recompute_day
from server.audit.service import record as audit
from server.clock import now as clock_now
from server.errors import Conflict, NotFound, ValidationFailed
from server.shifts.service import lock_user
from server.users.employment import ensure_employed
from server.users.models import User
from server.users.service import get_managed_user


class LeaveRecorded(Conflict):
    code = "leave_recorded"
    message = "The user is on leave that whole day: cancel the leave instead of marking the day present"


def _snapshot(m: DayMark | None) -> dict | None:
    return None if m is None else {"status": m.status, "reason": m.reason, "marked_by": m.marked_by,
                                   "marked_at": m.marked_at.isoformat()}


def get_mark(session: Session, user_id: int, work_date: date) -> DayMark | None:
    return session.scalar(select(DayMark).where(DayMark.user_id == user_id, DayMark.work_date == work_date))


def set_mark(session: Session, settings: Settings, *, actor: User, user_id: int, work_date: date, status: str,
             reason: str) -> WorkDay | None:
    if not reason or not reason.strip():
        raise ValidationFailed("A reason is required", field="reason")
    user = get_managed_user(session, actor, user_id)
    ensure_employed(user, work_date, work_date, fallback_zone(user, settings))
    lock_user(session, user.id)
    if status in ("present", "remote"):
        kind, half = calendar.load(session, [user.id], work_date, work_date).leave(user.id, work_date)
        if kind is not None and half is None:
            raise LeaveRecorded(leave_kind=kind)
    mark = get_mark(session, user.id, work_date)
    before = _snapshot(mark)
    if mark is None:
        mark = DayMark(user_id=user.id, work_date=work_date)
        session.add(mark)
    mark.status, mark.reason, mark.marked_by, mark.marked_at = status, reason.strip(), actor.id, clock_now()
    session.flush()
    audit(session, actor_user_id=actor.id, action="attendance.mark", entity="work_day",
          entity_id=f"{user.id}:{work_date.isoformat()}", before=before, after=_snapshot(mark), reason=mark.reason)
    return recompute_day(session, user, work_date, settings)


def remove_mark(session: Session, settings: Settings, *, actor: User, user_id: int, work_date: date,
                reason: str | None) -> WorkDay | None:
    if not reason or not reason.strip():
        raise ValidationFailed("A reason is required", field="reason")
    user = get_managed_user(session, actor, user_id)
    lock_user(session, user.id)
    mark = get_mark(session, user.id, work_date)
    if mark is None:
        raise NotFound("That day has no mark")
    audit(session, actor_user_id=actor.id, action="attendance.unmark", entity="work_day",
          entity_id=f"{user.id}:{work_date.isoformat()}", before=_snapshot(mark), reason=reason.strip())
    session.delete(mark)
    session.flush()
    return recompute_day(session, user, work_date, settings)


def marks_of(session: Session, keys: list[tuple[int, date]]) -> dict[tuple[int, date], DayMark]:
    if not keys:
        return {}
    dates = [d for _, d in keys]
    q = select(DayMark).where(DayMark.user_id.in_({u for u, _ in keys}), DayMark.work_date >= min(dates),
                              DayMark.work_date <= max(dates))
    return {(m.user_id, m.work_date): m for m in session.scalars(q)}
