"""Reading work days and punches for the API: date ranges, pages of days and punches, the punches of many days.
No FastAPI here."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.attendance.models import Punch, WorkDay
from server.clock import now as clock_now
from server.config import Settings
from server.errors import ValidationFailed
from server.kit.pages import paginate
from server.shifts.models import Shift
from server.shifts.rules import local_date
from server.users.models import User
from server.users.policy import ensure_can_manage, visible_users_filter
from server.users.service import get_user

MAX_RANGE_DAYS = 366


def check_range(start: date, end: date) -> None:
    if end < start:
        raise ValidationFailed("'to' is before 'from'")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise ValidationFailed(f"At most {MAX_RANGE_DAYS} days at a time")


def default_range(settings: Settings, start: date | None, end: date | None) -> tuple[date, date]:
    end = end or local_date(clock_now(), settings.default_timezone)
    start = start or end - timedelta(days=30)
    check_range(start, end)
    return start, end


def list_work_days(session: Session, *, actor: User | None, user_id: int | None, start: date, end: date,
                   limit: int = 500, offset: int = 0) -> tuple[list[tuple[WorkDay, User]], int]:
    """Work days in [start, end]; `actor` None means "own days of user_id" (already authorised by the caller)."""
    q = select(WorkDay, User).join(User, User.id == WorkDay.user_id).where(WorkDay.work_date >= start,
                                                                           WorkDay.work_date <= end)
    if user_id is not None:
        q = q.where(WorkDay.user_id == user_id)
    if actor is not None:
        clause = visible_users_filter(actor)
        if clause is not None:
            q = q.where(clause)
    return paginate(session, q, (WorkDay.work_date, User.employee_code), limit=limit, offset=offset)


def punches_of_days(session: Session, keys: list[tuple[int, date]], include_voided: bool = False
                    ) -> dict[tuple[int, date], list[Punch]]:
    if not keys:
        return {}
    users = {k[0] for k in keys}
    dates = [k[1] for k in keys]
    q = select(Punch).where(Punch.user_id.in_(users), Punch.work_date >= min(dates), Punch.work_date <= max(dates))
    if not include_voided:
        q = q.where(Punch.voided_at.is_(None))
    out: dict[tuple[int, date], list[Punch]] = {}
    for p in session.scalars(q.order_by(Punch.at, Punch.id)):
        out.setdefault((p.user_id, p.work_date), []).append(p)
    return out


def list_punches(session: Session, *, actor: User, user_id: int | None, start: date, end: date,
                 include_voided: bool = True, limit: int = 500, offset: int = 0) -> tuple[list[Punch], int]:
    q = select(Punch).join(User, User.id == Punch.user_id).where(Punch.work_date >= start, Punch.work_date <= end)
    if user_id is not None:
        q = q.where(Punch.user_id == user_id)
    clause = visible_users_filter(actor)
    if clause is not None:
        q = q.where(clause)
    if not include_voided:
        q = q.where(Punch.voided_at.is_(None))
    return paginate(session, q, (Punch.at, Punch.id), limit=limit, offset=offset)


def shift_zones(session: Session) -> dict[int, tuple[str, str]]:
    """shift id → (name, timezone)."""
    return {sid: (name, tz) for sid, name, tz in session.execute(select(Shift.id, Shift.name, Shift.timezone))}


def ensure_supervised(session: Session, actor: User, user_id: int) -> User:
    """The user if `actor` supervises it (404 unknown, 403 otherwise)."""
    user = get_user(session, user_id)
    ensure_can_manage(actor, user)
    return user
