"""What the calendar says of users' days, as `workday.DayContext` values: holidays (of the user's site, or of the
whole company), approved (not cancelled) leave and managers' whole-day marks. Read-only; one query per kind for a
range of dates and a batch of users, so the recompute paths and the report grid share it.

Leave on one date: a whole-day leave wins; an "am" and a "pm" half together make a whole day (of the am's kind).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.attendance.models import DayMark
from server.attendance.workday import DayContext
from server.holidays.models import WHOLE_COMPANY, Holiday
from server.leaves.models import Leave


class Calendar:
    def __init__(self, holidays: dict[tuple[str, date], str], leaves: dict[tuple[int, date], list[tuple[str, str]]],
                 marks: dict[tuple[int, date], str]):
        self.holidays = holidays
        self.leaves = leaves
        self.marks = marks

    def holiday(self, site: str | None, d: date) -> str | None:
        """The holiday's name on `d` for a user of `site`: the site's own holiday first, else the company's."""
        return (site and self.holidays.get((site, d))) or self.holidays.get((WHOLE_COMPANY, d))

    def leave(self, user_id: int, d: date) -> tuple[str | None, str | None]:
        """(kind, half) of the user's leave on `d`: half None = the whole day; (None, None) without leave."""
        entries = self.leaves.get((user_id, d))
        if not entries:
            return None, None
        whole = next((k for k, h in entries if h is None), None)
        if whole is not None:
            return whole, None
        halves = {h: k for k, h in entries}
        if "am" in halves and "pm" in halves:
            return halves["am"], None
        (half, kind), = halves.items()
        return kind, half

    def context(self, user, d: date, employed: bool = True) -> DayContext:
        kind, half = self.leave(user.id, d)
        return DayContext(holiday=self.holiday(user.site, d), leave_kind=kind, leave_half=half,
                          mark=self.marks.get((user.id, d)), employed=employed)


def load(session: Session, user_ids: Iterable[int], start: date, end: date) -> Calendar:
    """Holidays, leave and marks of `user_ids` on the dates start .. end (inclusive)."""
    ids = list(user_ids)
    holidays = {(h.scope, h.date): h.name for h in session.execute(
        select(Holiday.scope, Holiday.date, Holiday.name).where(Holiday.date >= start, Holiday.date <= end))}
    leaves: dict[tuple[int, date], list[tuple[str, str]]] = {}
    marks: dict[tuple[int, date], str] = {}
    if ids:
        rows = session.execute(select(Leave.user_id, Leave.from_date, Leave.to_date, Leave.kind, Leave.half).where(
            Leave.user_id.in_(ids), Leave.cancelled_at.is_(None), Leave.from_date <= end, Leave.to_date >= start))
        for uid, first, last, kind, half in rows:
            d = max(first, start)
            while d <= min(last, end):
                leaves.setdefault((uid, d), []).append((kind, half))
                d += timedelta(days=1)
        marks = {(uid, d): status for uid, d, status in session.execute(
            select(DayMark.user_id, DayMark.work_date, DayMark.status).where(
                DayMark.user_id.in_(ids), DayMark.work_date >= start, DayMark.work_date <= end))}
    return Calendar(holidays, leaves, marks)
