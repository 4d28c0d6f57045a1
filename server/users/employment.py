"""A user's days of employment: `employed_from` .. `employed_to` (inclusive). Users older than those columns have
them null: the day they were created and the day they were deactivated stand in (dates in the zone asked for)."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from server.clock import as_utc
from server.errors import AppError


class OutsideEmployment(AppError):
    status_code = 422
    code = "outside_employment"
    message = "The date is outside the user's employment (employed_from .. employed_to)"


def _local(at, zone: str) -> date:
    return as_utc(at).astimezone(ZoneInfo(zone)).date()


def employment_dates(user, zone: str) -> tuple[date, date | None]:
    """First and last day of the user's employment (last None: open-ended)."""
    first = user.employed_from or _local(user.created_at, zone)
    last = user.employed_to
    if last is None and user.deactivated_at is not None:
        last = _local(user.deactivated_at, zone)
    return first, last


def employed_on(user, d: date, zone: str) -> bool:
    first, last = employment_dates(user, zone)
    return first <= d and (last is None or d <= last)


def ensure_employed(user, first: date, last: date, zone: str) -> None:
    """422 outside_employment unless every date of first .. last is a day of employment."""
    start, end = employment_dates(user, zone)
    if first < start or (end is not None and last > end):
        raise OutsideEmployment(employed_from=start.isoformat(), employed_to=end.isoformat() if end else None)
