"""Attendance reports: the CSV export (streamed) and per-user totals, both from one grid. No FastAPI here.

The grid has one row per visible user per day of [from, to]: the recorded work day when there is one, otherwise the
day as its assignment makes it, computed in memory (a GET writes nothing):

* a scheduled day whose close time (shift end + grace_out) has passed: `absent` (the close-the-day job's rule);
* a scheduled day not closed yet: `scheduled` before the shift starts, `ongoing` after;
* a day without a scheduled shift (no assignment, or not one of the shift's weekdays): `off_day`;
* days before the user was created, or after the day they were deactivated (in the day's zone), are not rows
  unless something was recorded for them (like the close-the-day job, which never marks them absent).

CSV: UTF-8 with a byte-order mark and CRLF line ends (Excel and LibreOffice open it with accents intact), every field
quoted as needed by the csv module, and text cells that a spreadsheet would run as a formula (starting with = + - @
or a tab/CR) prefixed with an apostrophe (CSV injection). It is written in chunks of about BATCH rows while users are
read USER_BATCH at a time, so a large export never sits in memory whole.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from server.attendance.models import WorkDay
from server.attendance.service import employment_dates, fallback_zone, visible_users_filter
from server.attendance.workday import ShiftRule, in_dates, local_date, window
from server.clock import as_utc, now as clock_now
from server.shifts.models import Shift
from server.shifts.service import assignment_on, assignments_between
from server.users.models import User

CSV_COLUMNS = ("employee_code", "name", "date", "shift", "timezone", "first_in", "last_out", "worked_minutes",
               "late_minutes", "early_leave_minutes", "overtime_minutes", "status")
REPORT_STATUSES = ("present", "late", "absent", "incomplete", "off_day", "scheduled", "ongoing")
BATCH = 1000
USER_BATCH = 50
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class ReportRow:
    user: User
    work_date: date
    shift_name: str | None
    timezone: str
    first_in: datetime | None
    last_out: datetime | None
    worked_minutes: int
    late_minutes: int
    early_leave_minutes: int
    overtime_minutes: int
    status: str
    recorded: bool  # a work_days row, or computed here


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _users(session, actor: User, user_id: int | None) -> list[User]:
    q = select(User)
    clause = visible_users_filter(actor)
    if clause is not None:
        q = q.where(clause)
    if user_id is not None:
        q = q.where(User.id == user_id)
    return list(session.scalars(q.order_by(User.employee_code)))


def _days(start: date, end: date) -> Iterator[date]:
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


_WORK_DAY_COLUMNS = (WorkDay.user_id, WorkDay.work_date, WorkDay.shift_id, WorkDay.first_in, WorkDay.last_out,
                     WorkDay.worked_minutes, WorkDay.late_minutes, WorkDay.early_leave_minutes,
                     WorkDay.overtime_minutes, WorkDay.status)


def _recorded(wd, user: User, shifts: dict[int, Shift], settings) -> ReportRow:
    shift = shifts.get(wd.shift_id)
    return ReportRow(user, wd.work_date, shift.name if shift else None,
                     shift.timezone if shift else fallback_zone(user, settings), wd.first_in, wd.last_out,
                     wd.worked_minutes, wd.late_minutes, wd.early_leave_minutes, wd.overtime_minutes, wd.status, True)


class _Clock:
    """`now`, today per zone and each user's days of employment per zone, computed once (rows ask for them often)."""

    def __init__(self, now: datetime):
        self.now = now
        self._today: dict[str, date] = {}
        self._employed: dict[tuple[int, str], tuple[date, date | None]] = {}

    def today(self, zone: str) -> date:
        if zone not in self._today:
            self._today[zone] = local_date(self.now, zone)
        return self._today[zone]

    def employed_on(self, user: User, d: date, zone: str) -> bool:
        key = (user.id, zone)
        if key not in self._employed:
            self._employed[key] = employment_dates(user, zone)
        return in_dates(d, *self._employed[key])


def _computed(user: User, d: date, rule: ShiftRule | None, settings, clock: _Clock) -> ReportRow | None:
    """A day with nothing recorded (hence no punch), as its assignment makes it; None outside employment
    (attendance.service.employment_dates). A scheduled day is `absent` once its close time (shift end + grace_out) has
    passed, like the close-the-day job decides; the window is only worked out near today (a shift with its grace
    ends within two days of its date, and starts on it)."""
    zone = rule.timezone if rule else fallback_zone(user, settings)
    if not clock.employed_on(user, d, zone):
        return None
    if rule is None or not rule.scheduled_on(d):
        return ReportRow(user, d, rule.name if rule else None, zone, None, None, 0, 0, 0, 0, "off_day", False)
    today = clock.today(zone)
    if d <= today - timedelta(days=3):
        status = "absent"
    elif d >= today + timedelta(days=2):
        status = "scheduled"
    else:
        win = window(rule, d)
        status = "absent" if clock.now >= win.close_at else "scheduled" if clock.now < win.start else "ongoing"
    return ReportRow(user, d, rule.name, zone, None, None, 0, 0, 0, 0, status, False)


def grid(session, settings, *, actor: User, start: date, end: date, user_id: int | None = None,
         now: datetime | None = None) -> Iterator[ReportRow]:
    """The report rows, ordered by employee code then date (see the module doc). Reads only."""
    clock = _Clock(now or clock_now())
    shifts = {s.id: s for s in session.scalars(select(Shift))}
    rules = {sid: ShiftRule.from_model(s) for sid, s in shifts.items()}
    users = _users(session, actor, user_id)
    for i in range(0, len(users), USER_BATCH):
        batch = users[i:i + USER_BATCH]
        ids = [u.id for u in batch]
        recorded = {(wd.user_id, wd.work_date): wd for wd in session.execute(  # plain rows: no identity map
            select(*_WORK_DAY_COLUMNS).where(WorkDay.user_id.in_(ids), WorkDay.work_date >= start,
                                             WorkDay.work_date <= end))}
        assignments: dict[int, list] = {}
        for a in assignments_between(session, start, end, ids):
            assignments.setdefault(a.user_id, []).append(a)
        for user in batch:
            mine = assignments.get(user.id, [])
            for d in _days(start, end):
                wd = recorded.get((user.id, d))
                if wd is not None:
                    yield _recorded(wd, user, shifts, settings)
                    continue
                a = assignment_on(mine, d)
                row = _computed(user, d, rules[a.shift_id] if a else None, settings, clock)
                if row is not None:
                    yield row


def _local(dt, zone: str) -> str:
    return "" if dt is None else as_utc(dt).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def csv_chunks(db, settings, *, actor: User, start: date, end: date, user_id: int | None = None,
               now: datetime | None = None) -> Iterator[str]:
    """Yields the CSV text in chunks of about BATCH rows, reading in its own session (the response streams after
    the request's session is gone)."""
    now = now or clock_now()
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    buf.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    with db.session() as session:
        actor = session.get(User, actor.id)
        for n, r in enumerate(grid(session, settings, actor=actor, start=start, end=end, user_id=user_id, now=now), 1):
            writer.writerow([safe_cell(r.user.employee_code), safe_cell(r.user.full_name), r.work_date.isoformat(),
                             safe_cell(r.shift_name or ""), r.timezone, _local(r.first_in, r.timezone),
                             _local(r.last_out, r.timezone), r.worked_minutes, r.late_minutes,
                             r.early_leave_minutes, r.overtime_minutes, r.status])
            if n % BATCH == 0:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
    yield buf.getvalue()


SUMMARY_COUNTS = {
    "days_present": ("present", "late"), "late_count": ("late",), "absences": ("absent",),
    "incomplete": ("incomplete",), "off_days": ("off_day",), "upcoming": ("scheduled", "ongoing"),
}
SUMMARY_MINUTES = ("worked_minutes", "late_minutes", "early_leave_minutes", "overtime_minutes")


def summary(session, settings, *, actor: User, start: date, end: date, user_id: int | None = None,
            now: datetime | None = None) -> list[dict]:
    """Totals per user over the same grid as the CSV (so they add up to its rows): days (rows), days present (on time
    or late), late days, absences, incomplete days, off days, off days worked, upcoming (scheduled / ongoing) days,
    and worked / late / early-leave / overtime minutes. Users without a row in the range are left out."""
    out: dict[int, dict] = {}
    for r in grid(session, settings, actor=actor, start=start, end=end, user_id=user_id, now=now):
        item = out.get(r.user.id)
        if item is None:
            item = out[r.user.id] = {"user_id": r.user.id, "employee_code": r.user.employee_code,
                                     "full_name": r.user.full_name, "days": 0, "off_days_worked": 0,
                                     **{k: 0 for k in SUMMARY_COUNTS}, **{k: 0 for k in SUMMARY_MINUTES}}
        item["days"] += 1
        for key, statuses in SUMMARY_COUNTS.items():
            item[key] += r.status in statuses
        item["off_days_worked"] += r.status == "off_day" and r.worked_minutes > 0
        for key in SUMMARY_MINUTES:
            item[key] += getattr(r, key)
    return list(out.values())
