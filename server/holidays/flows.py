"""Holiday changes that rework attendance: add, delete and import, each recomputing the work days of the users
the holiday applies to (the site's users, or everyone), under each user's row lock, users in id order, in batches
(attendance.service.rework_users_dates; scripts/bench_calendar.py measures it)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.config import Settings
from server.attendance.models import WorkDay
from server.attendance.service import rework_users_dates
from server.holidays import ics, service
from server.holidays.models import Holiday
from server.shifts.models import ShiftAssignment
from server.users.models import User


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


def rework(session: Session, settings: Settings, site: str | None, dates: list[date]) -> int:
    users = affected_users(session, site, dates)
    rework_users_dates(session, settings, users, dates)
    return len(users)


def add_holiday(session: Session, settings: Settings, *, actor: User, day: date, name: str,
                site: str | None) -> Holiday:
    h = service.create_holiday(session, actor=actor, day=day, name=name, site=site)
    rework(session, settings, h.site, [h.date])
    return h


def remove_holiday(session: Session, settings: Settings, *, actor: User, holiday: Holiday, reason: str | None) -> None:
    site, day = holiday.site, holiday.date
    service.delete_holiday(session, actor=actor, holiday=holiday, reason=reason)
    rework(session, settings, site, [day])


def import_holidays(session: Session, settings: Settings, *, actor: User, data: bytes, site: str | None, start: date,
                    end: date, filename: str | None = None) -> tuple[list[Holiday], list[dict]]:
    """Creates a holiday per date of the calendar in [start, end]; dates that already have one for that site are
    skipped (and listed). All or nothing: a refused file creates none."""
    site = service.allowed_site(actor, site)
    created: list[Holiday] = []
    skipped: list[dict] = []
    reason = f"imported from {filename}" if filename else "imported from an iCalendar file"
    for day, name in ics.parse(data, start, end):
        if service.exists(session, day, site):
            skipped.append({"date": day.isoformat(), "name": name, "reason": "holiday_exists"})
            continue
        created.append(service.create_holiday(session, actor=actor, day=day, name=name, site=site, reason=reason))
    rework(session, settings, site, [h.date for h in created])
    return created, skipped
