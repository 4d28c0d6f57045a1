"""Leave that reworks attendance: creating (= approving) and cancelling a leave recompute the user's work days of
those dates under its row lock (attendance.service.rework_dates), as a shift change does.

A whole-day leave is refused (409 attendance_recorded, with the dates) over days that already hold punches or a
present / remote mark: the person was there, fix those first (void the punches, use a half day). A half-day leave
goes with the punches of the other half.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.config import Settings
from server.attendance.models import DayMark, Punch
from server.attendance.service import fallback_zone, rework_dates
from server.errors import Conflict
from server.leaves import service
from server.leaves.models import Leave
from server.users.employment import ensure_employed
from server.users.models import User
from server.users.service import get_managed_user


class AttendanceRecorded(Conflict):
    code = "attendance_recorded"
    message = "The user has punches or a present / remote mark on some of those days"


def _attended(session: Session, user_id: int, first: date, last: date) -> list[str]:
    punched = set(session.scalars(select(Punch.work_date).where(
        Punch.user_id == user_id, Punch.voided_at.is_(None), Punch.work_date >= first, Punch.work_date <= last)))
    marked = set(session.scalars(select(DayMark.work_date).where(
        DayMark.user_id == user_id, DayMark.status.in_(("present", "remote")), DayMark.work_date >= first,
        DayMark.work_date <= last)))
    return sorted(d.isoformat() for d in punched | marked)


def create_leave(session: Session, settings: Settings, *, actor: User, user_id: int, first: date, last: date, kind: str,
                 half: str | None, reason: str) -> Leave:
    user = get_managed_user(session, actor, user_id)
    service.check_dates(first, last, half)
    ensure_employed(user, first, last, fallback_zone(user, settings))
    if half is None:
        dates = _attended(session, user.id, first, last)
        if dates:
            raise AttendanceRecorded(dates=dates[:31])
    lv = service.create_leave(session, actor=actor, user=user, first=first, last=last, kind=kind, half=half,
                              reason=reason)
    rework_dates(session, settings, user, service.dates_of(lv))
    return lv


def cancel_leave(session: Session, settings: Settings, *, actor: User, leave_id: int, reason: str) -> Leave:
    lv = service.get_leave(session, leave_id)
    user = get_managed_user(session, actor, lv.user_id)
    service.cancel_leave(session, actor=actor, leave=lv, reason=reason)
    rework_dates(session, settings, user, service.dates_of(lv))
    return lv
