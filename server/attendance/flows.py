"""Work that changes another domain's data and then reworks attendance (the work spanning two domains lives here,
above both, so neither imports the other):

* a shift assigned, or a shift's rule edited: shifts.service makes the change and says which date ranges of whose
  days it moves; the days are re-resolved and recomputed here (service.rework_user_days), under each user's row lock;
* a user's employment dates changed (PATCH employed_from / employed_to, or a deactivation that sets employed_to):
  users.service makes the change, through auth/flows.py (the current password, the logins revoked); the days
  between the old and the new dates are recomputed here, so absences appear or disappear ("no absences outside
  employment").
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.attendance.models import WorkDay
from server.attendance.service import fallback_zone, rework_dates, rework_user_days
from server.clock import now as clock_now
from server.auth import flows as auth
from server.config import Settings
from server.shifts import service as shifts
from server.shifts.models import Shift, ShiftAssignment
from server.shifts.service import assignments_between
from server.users.employment import employment_dates
from server.users.models import User
from server.users.schemas import UserUpdate

# ------------------------------------------------------------------ shift changes

def assign_shift(session: Session, settings: Settings, *, actor: User, user: User, shift_id: int,
                 valid_from: date, valid_to: date | None) -> tuple[ShiftAssignment, list[ShiftAssignment]]:
    """shifts.service.assign_shift, then the user's punches in the range re-resolved to their work days and the days
    old and new recomputed. Returns the new assignment and those it ended."""
    new, ended, (start, end) = shifts.assign_shift(session, actor=actor, user=user, shift_id=shift_id,
                                                   valid_from=valid_from, valid_to=valid_to)
    rework_user_days(session, settings, user, start, end)
    return new, ended


def update_shift(session: Session, settings: Settings, *, actor: User, shift: Shift, changes: dict) -> Shift:
    """shifts.service.update_shift, then the work days its rule change moves recomputed (users in id order: one lock
    order for everyone)."""
    shift, ranges = shifts.update_shift(session, actor=actor, shift=shift, changes=changes)
    now = clock_now()
    for user_id in sorted(ranges):
        user = session.get(User, user_id)
        for start, end in ranges[user_id]:
            rework_user_days(session, settings, user, start, end, now=now)
    return shift


# ------------------------------------------------------------------ employment changes

def _between(a: date | None, b: date | None, horizon: date) -> tuple[date, date] | None:
    """The dates from the earlier to the later of two bounds (None = open: up to `horizon`)."""
    if a == b:
        return None
    lo = min(d for d in (a, b) if d is not None)
    hi = horizon if a is None or b is None else max(a, b)
    return (lo, hi) if lo <= hi else None


def rework_employment(session: Session, settings: Settings, user: User, before: tuple[date, date | None]) -> list[date]:
    """Recomputes the days that changed side of the employment bounds: only days that can hold something (an
    assignment over them, or a recorded row)."""
    zone = fallback_zone(user, settings)
    after = employment_dates(user, zone)
    horizon = clock_now().date() + timedelta(days=1)
    spans = [s for s in (_between(before[0], after[0], horizon), _between(before[1], after[1], horizon)) if s]
    dates: set[date] = set()
    for lo, hi in spans:
        hi = min(hi, horizon)
        rows = set(session.scalars(select(WorkDay.work_date).where(
            WorkDay.user_id == user.id, WorkDay.work_date >= lo, WorkDay.work_date <= hi)))
        dates |= rows
        for a in assignments_between(session, lo, hi, [user.id]):
            d = max(a.valid_from, lo)
            while d <= min(a.valid_to or hi, hi):
                dates.add(d)
                d += timedelta(days=1)
    return rework_dates(session, settings, user, dates) if dates else []


def update_user(session: Session, settings: Settings, *, actor: User, user: User, data: UserUpdate,
                client: str) -> User:
    before = employment_dates(user, fallback_zone(user, settings))
    auth.update_user(session, settings, actor=actor, user=user, data=data, client=client)
    rework_employment(session, settings, user, before)
    return user


def deactivate_user(session: Session, settings: Settings, *, actor: User, user: User,
                    reason: str | None = None) -> User:
    before = employment_dates(user, fallback_zone(user, settings))
    auth.deactivate_user(session, settings, actor=actor, user=user, reason=reason)
    rework_employment(session, settings, user, before)
    return user
