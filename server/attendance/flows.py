"""Work that changes another domain's data and then reworks attendance (the work spanning two domains lives here,
above both, so neither imports the other):

* a shift assigned, or a shift's rule edited: shifts.service makes the change and says which date ranges of whose
  days it moves; the days are re-resolved and recomputed here (service.rework_user_days), under each user's row lock;
* a user's employment dates changed (PATCH employed_from / employed_to, or a deactivation that sets employed_to):
  users.service makes the change, through auth/flows.py (the current password, the logins revoked); the days
  between the old and the new dates are recomputed here, so absences appear or disappear ("no absences outside
  employment");
* a holiday added, deleted or imported: holidays.service makes the change; the work days of the users it applies to
  (the site's users, or everyone) are recomputed here under each user's row lock, users in id order, in batches
  (service.rework_users_dates; scripts/bench_calendar.py measures it);
* a leave created (= approved) or cancelled: leaves.service makes the change; the user's work days of those dates are
  recomputed under its row lock (service.rework_dates). A whole-day leave is refused (409 attendance_recorded, with
  the dates) over days that already hold punches or a present / remote mark: the person was there, fix those first
  (void the punches, use a half day). A half-day leave goes with the punches of the other half.

holidays, leaves, shifts and users do not import attendance: their routes call these flows (a router may call any
domain's flow).
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.attendance.models import DayMark, Punch, WorkDay
from server.attendance.service import fallback_zone, rework_dates, rework_user_days, rework_users_dates
from server.auth import flows as auth
from server.clock import now as clock_now
from server.config import Settings
from server.errors import Conflict
from server.holidays import ics
from server.holidays import service as holidays
from server.holidays.models import Holiday
from server.leaves import service as leaves
from server.leaves.models import Leave
from server.shifts import service as shifts
from server.shifts.models import Shift, ShiftAssignment
from server.shifts.service import assignments_between
from server.users.employment import employment_dates, ensure_employed
from server.users.models import User
from server.users.schemas import UserUpdate
from server.users.service import get_managed_user

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


# ------------------------------------------------------------------ holidays

def affected_users(session: Session, site: str | None, dates: list[date]) -> list[User]:
    """Users of `site` (everyone without one) with an assignment over those dates or a recorded day on them."""
    if not dates:
        return []
    first, last = min(dates), max(dates)
    assigned = select(ShiftAssignment.user_id).where(
        ShiftAssignment.valid_from <= last,
        or_(ShiftAssignment.valid_to.is_(None), ShiftAssignment.valid_to >= first))
    recorded = select(WorkDay.user_id).where(WorkDay.work_date.in_(dates))
    q = select(User).where(or_(User.id.in_(assigned), User.id.in_(recorded)))
    if site is not None:
        q = q.where(User.site == site)
    return list(session.scalars(q.order_by(User.id)))


def rework_holiday(session: Session, settings: Settings, site: str | None, dates: list[date]) -> int:
    affected = affected_users(session, site, dates)
    rework_users_dates(session, settings, affected, dates)
    return len(affected)


def add_holiday(session: Session, settings: Settings, *, actor: User, day: date, name: str,
                site: str | None) -> Holiday:
    h = holidays.create_holiday(session, actor=actor, day=day, name=name, site=site)
    rework_holiday(session, settings, h.site, [h.date])
    return h


def remove_holiday(session: Session, settings: Settings, *, actor: User, holiday: Holiday, reason: str | None) -> None:
    site, day = holiday.site, holiday.date
    holidays.delete_holiday(session, actor=actor, holiday=holiday, reason=reason)
    rework_holiday(session, settings, site, [day])


def import_holidays(session: Session, settings: Settings, *, actor: User, data: bytes, site: str | None, start: date,
                    end: date, filename: str | None = None) -> tuple[list[Holiday], list[dict]]:
    """Creates a holiday per date of the calendar in [start, end]; dates that already have one for that site are
    skipped (and listed). All or nothing: a refused file creates none."""
    site = holidays.allowed_site(actor, site)
    created: list[Holiday] = []
    skipped: list[dict] = []
    reason = f"imported from {filename}" if filename else "imported from an iCalendar file"
    for day, name in ics.parse(data, start, end):
        if holidays.exists(session, day, site):
            skipped.append({"date": day.isoformat(), "name": name, "reason": "holiday_exists"})
            continue
        created.append(holidays.create_holiday(session, actor=actor, day=day, name=name, site=site, reason=reason))
    rework_holiday(session, settings, site, [h.date for h in created])
    return created, skipped


# ------------------------------------------------------------------ leave

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
    leaves.check_dates(first, last, half)
    ensure_employed(user, first, last, fallback_zone(user, settings))
    if half is None:
        dates = _attended(session, user.id, first, last)
        if dates:
            raise AttendanceRecorded(dates=dates[:31])
    lv = leaves.create_leave(session, actor=actor, user=user, first=first, last=last, kind=kind, half=half,
                              reason=reason)
    rework_dates(session, settings, user, leaves.dates_of(lv))
    return lv


def cancel_leave(session: Session, settings: Settings, *, actor: User, leave_id: int, reason: str) -> Leave:
    lv = leaves.get_leave(session, leave_id)
    user = get_managed_user(session, actor, lv.user_id)
    leaves.cancel_leave(session, actor=actor, leave=lv, reason=reason)
    rework_dates(session, settings, user, leaves.dates_of(lv))
    return lv
