"""Holidays: a public holiday of one site or of the whole company (site null). No FastAPI here.

Admins manage every holiday; a manager those of its own site (a holiday without a site is the company's: admin).
Recomputing the work days a holiday touches is the work of attendance/flows.py (holidays does not import attendance).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.audit.service import record as audit
from server.errors import Conflict, Forbidden
from server.holidays.models import WHOLE_COMPANY, Holiday
from server.kit.rows import flush_or_conflict, get_or_404
from server.users.models import User
from server.users.policy import is_admin, manages_site


class HolidayExists(Conflict):
    code = "holiday_exists"
    message = "There is already a holiday on that date for that site"


def scope_of(site: str | None) -> str:
    return site or WHOLE_COMPANY


def snapshot(h: Holiday) -> dict:
    return {"date": h.date.isoformat(), "name": h.name, "site": h.site}


def allowed_site(actor: User, site: str | None) -> str | None:
    """The site a holiday of `actor` is for: an admin's as given; a manager's is its own site (403 otherwise)."""
    if is_admin(actor):
        return site
    if manages_site(actor, site):
        return actor.site
    raise Forbidden("Holidays of the whole company or of another site are for admins")


def list_holidays(session: Session, *, start: date, end: date, site: str | None = None) -> list[Holiday]:
    """Holidays in [start, end]; with `site`, those that apply to it (its own and the company's)."""
    q = select(Holiday).where(Holiday.date >= start, Holiday.date <= end)
    if site is not None:
        q = q.where(or_(Holiday.site == site, Holiday.site.is_(None)))
    return list(session.scalars(q.order_by(Holiday.date, Holiday.scope)))


def get_holiday(session: Session, holiday_id: int) -> Holiday:
    return get_or_404(session, Holiday, holiday_id)


def exists(session: Session, day: date, site: str | None) -> bool:
    return session.scalar(select(Holiday.id).where(Holiday.date == day, Holiday.scope == scope_of(site))) is not None


def create_holiday(session: Session, *, actor: User, day: date, name: str, site: str | None,
                   reason: str | None = None) -> Holiday:
    site = allowed_site(actor, site)
    if exists(session, day, site):
        raise HolidayExists(date=day.isoformat(), site=site)
    h = Holiday(date=day, name=name.strip(), site=site, scope=scope_of(site), created_by=actor.id)
    flush_or_conflict(session, HolidayExists(date=day.isoformat(), site=site), h)
    audit(session, actor_user_id=actor.id, action="holidays.create", entity="holiday", entity_id=h.id,
          after=snapshot(h), reason=reason)
    return h


def delete_holiday(session: Session, *, actor: User, holiday: Holiday, reason: str | None = None) -> dict:
    if allowed_site(actor, holiday.site) != holiday.site:
        raise Forbidden("Holidays of the whole company are for admins")
    before = snapshot(holiday)
    audit(session, actor_user_id=actor.id, action="holidays.delete", entity="holiday", entity_id=holiday.id,
          before=before, reason=reason)
    session.delete(holiday)
    session.flush()
    return before
