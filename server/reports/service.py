"""Attendance reports: the CSV export (streamed) and per-user totals, both from one grid. No FastAPI here.

The grid has one row per visible user per day of [from, to]: the recorded work day when there is one, otherwise the
day as its assignment makes it, computed in memory (a GET writes nothing):

* a scheduled day that is a holiday: `holiday`; on a whole day of leave: `on_leave` (with its kind), past or future;
* a scheduled day whose close time (shift end + grace_out) has passed: `absent` (the close-the-day job's rule);
* a scheduled day not closed yet: `scheduled` before the shift starts, `ongoing` after (a half day of leave shows
  its kind and half);
* a day without a scheduled shift (no assignment, or not one of the shift's weekdays): `off_day`;
* days outside the user's employment (employed_from .. employed_to) are not rows unless something was recorded for
  them (like the close-the-day job, which never marks them absent).

Users: those the actor supervises, filtered by `role` and `site`; by default only those with an assignment over the
range or a recorded day in it (an admin account without a shift is not a row of absences), all with `all_users`.

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

from sqlalchemy import exists, or_, select

from server.attendance import calendar
from server.attendance.models import DayMark, WorkDay
from server.attendance.service import employment_dates, fallback_zone
from server.attendance.workday import DAY_STATUSES, window
from server.clock import as_utc
from server.clock import now as clock_now
from server.config import Settings
from server.shifts.models import Shift, ShiftAssignment
from server.shifts.rules import ShiftRule, in_dates, local_date
from server.shifts.service import assignment_on, assignments_between
from server.users.models import User
from server.users.policy import visible_users_filter

CSV_COLUMNS = ("employee_code", "name", "date", "shift", "timezone", "first_in", "last_out", "worked_minutes",
               "late_minutes", "early_leave_minutes", "overtime_minutes", "status", "holiday", "leave_kind",
               "leave_half", "mark", "mark_reason")
REPORT_STATUSES = DAY_STATUSES + ("scheduled", "ongoing")
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
    holiday: str | None = None
    leave_kind: str | None = None
    leave_half: str | None = None
    mark: str | None = None
    mark_reason: str | None = None


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


@dataclass(frozen=True)
class UserQuery:
    """Which users a report covers: one (`user_id`), or those of a `role` / `site`; `all_users` adds those with no
    assignment over the range and no recorded day in it."""

    user_id: int | None = None
    role: str | None = None
    site: str | None = None
    all_users: bool = False


def _users(session, actor: User, who: UserQuery, start: date, end: date) -> list[User]:
    q = select(User)
    clause = visible_users_filter(actor)
    if clause is not None:
        q = q.where(clause)
    if who.user_id is not None:
        q = q.where(User.id == who.user_id)
    if who.role is not None:
        q = q.where(User.role == who.role)
    if who.site is not None:
        q = q.where(User.site == who.site)
    if not who.all_users and who.user_id is None:
        assigned = exists().where(ShiftAssignment.user_id == User.id, ShiftAssignment.valid_from <= end,
                                  or_(ShiftAssignment.valid_to.is_(None), ShiftAssignment.valid_to >= start))
        recorded = exists().where(WorkDay.user_id == User.id, WorkDay.work_date >= start, WorkDay.work_date <= end)
        q = q.where(or_(assigned, recorded))
    return list(session.scalars(q.order_by(User.employee_code)))


def _days(start: date, end: date) -> Iterator[date]:
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


_WORK_DAY_COLUMNS = (WorkDay.user_id, WorkDay.work_date, WorkDay.shift_id, WorkDay.first_in, WorkDay.last_out,
                     WorkDay.worked_minutes, WorkDay.late_minutes, WorkDay.early_leave_minutes,
                     WorkDay.overtime_minutes, WorkDay.status, WorkDay.holiday, WorkDay.leave_kind,
                     WorkDay.leave_half, WorkDay.mark)


def _recorded(wd, user: User, shifts: dict[int, Shift], settings: Settings, mark_reasons: dict) -> ReportRow:
    shift = shifts.get(wd.shift_id)
    return ReportRow(user, wd.work_date, shift.name if shift else None,
                     shift.timezone if shift else fallback_zone(user, settings), wd.first_in, wd.last_out,
                     wd.worked_minutes, wd.late_minutes, wd.early_leave_minutes, wd.overtime_minutes, wd.status, True,
                     wd.holiday, wd.leave_kind, wd.leave_half, wd.mark,
                     mark_reasons.get((wd.user_id, wd.work_date)) if wd.mark else None)


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


def _computed(user: User, d: date, rule: ShiftRule | None, settings: Settings, clock: _Clock, cal: calendar.Calendar
              ) -> ReportRow | None:
    """A day with nothing recorded (hence no punch nor mark), as its assignment and calendar make it; None outside
    employment (attendance.service.employment_dates). A holiday is `holiday`, a whole day of leave `on_leave`; a
    scheduled day is `absent` once its close time (shift end + grace_out) has passed, like the close-the-day job
    decides; the window is only worked out near today (a shift with its grace ends within two days of its date, and
    starts on it)."""
    zone = rule.timezone if rule else fallback_zone(user, settings)
    if not clock.employed_on(user, d, zone):
        return None
    ctx = cal.context(user, d)
    row = ReportRow(user, d, rule.name if rule else None, zone, None, None, 0, 0, 0, 0, "off_day", False,
                    holiday=ctx.holiday)
    if rule is None or not rule.scheduled_on(d):
        return row
    if ctx.holiday:
        row.status = "holiday"
        return row
    row.leave_kind, row.leave_half = ctx.leave_kind, ctx.leave_half
    if ctx.leave_kind and ctx.leave_half is None:
        row.status = "on_leave"
        return row
    today = clock.today(zone)
    if d <= today - timedelta(days=3):
        row.status = "absent"
    elif d >= today + timedelta(days=2):
        row.status = "scheduled"
    else:
        win = window(rule, d)
        row.status = "absent" if clock.now >= win.close_at else "scheduled" if clock.now < win.start else "ongoing"
    return row


def grid(session, settings: Settings, *, actor: User, start: date, end: date, who: UserQuery = UserQuery(),
         now: datetime | None = None) -> Iterator[ReportRow]:
    """The report rows, ordered by employee code then date (see the module doc). Reads only."""
    clock = _Clock(now or clock_now())
    shifts = {s.id: s for s in session.scalars(select(Shift))}
    rules = {sid: ShiftRule.from_model(s) for sid, s in shifts.items()}
    users = _users(session, actor, who, start, end)
    for i in range(0, len(users), USER_BATCH):
        batch = users[i:i + USER_BATCH]
        ids = [u.id for u in batch]
        recorded = {(wd.user_id, wd.work_date): wd for wd in session.execute(  # plain rows: no identity map
            select(*_WORK_DAY_COLUMNS).where(WorkDay.user_id.in_(ids), WorkDay.work_date >= start,
                                             WorkDay.work_date <= end))}
        reasons = {(uid, d): reason for uid, d, reason in session.execute(
            select(DayMark.user_id, DayMark.work_date, DayMark.reason).where(
                DayMark.user_id.in_(ids), DayMark.work_date >= start, DayMark.work_date <= end))}
        cal = calendar.load(session, ids, start, end)
        assignments: dict[int, list] = {}
        for a in assignments_between(session, start, end, ids):
            assignments.setdefault(a.user_id, []).append(a)
        for user in batch:
            mine = assignments.get(user.id, [])
            for d in _days(start, end):
                wd = recorded.get((user.id, d))
                if wd is not None:
                    yield _recorded(wd, user, shifts, settings, reasons)
                    continue
                a = assignment_on(mine, d)
                row = _computed(user, d, rules[a.shift_id] if a else None, settings, clock, cal)
                if row is not None:
                    yield row


def _local(dt, zone: str) -> str:
    return "" if dt is None else as_utc(dt).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def csv_chunks(db, settings: Settings, *, actor: User, start: date, end: date, who: UserQuery = UserQuery(),
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
        for n, r in enumerate(grid(session, settings, actor=actor, start=start, end=end, who=who, now=now), 1):
            writer.writerow([safe_cell(r.user.employee_code), safe_cell(r.user.full_name), r.work_date.isoformat(),
                             safe_cell(r.shift_name or ""), r.timezone, _local(r.first_in, r.timezone),
                             _local(r.last_out, r.timezone), r.worked_minutes, r.late_minutes,
                             r.early_leave_minutes, r.overtime_minutes, r.status, safe_cell(r.holiday),
                             r.leave_kind or "", r.leave_half or "", r.mark or "", safe_cell(r.mark_reason)])
            if n % BATCH == 0:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
    yield buf.getvalue()


SUMMARY_COUNTS = {
    "days_present": ("present", "late"), "late_count": ("late",), "absences": ("absent",),
    "incomplete": ("incomplete",), "off_days": ("off_day",), "upcoming": ("scheduled", "ongoing"),
    "holidays": ("holiday",), "half_days": ("half_day",), "remote_days": ("remote",),
}
SUMMARY_MINUTES = ("worked_minutes", "late_minutes", "early_leave_minutes", "overtime_minutes")


def _leave_days(r: ReportRow) -> float:
    """How much of the row is leave: 1 for an on_leave day, ½ for a half day of leave (on a scheduled day)."""
    if r.status == "on_leave":
        return 1.0
    return 0.5 if r.leave_half and r.leave_kind else 0.0


def summary(session, settings: Settings, *, actor: User, start: date, end: date, who: UserQuery = UserQuery(),
            now: datetime | None = None) -> list[dict]:
    """Totals per user over the same grid as the CSV (so they add up to its rows): days (rows), days present (on time
    or late), late days, absences, incomplete days, off days, off days worked, upcoming (scheduled / ongoing) days,
    holidays and holidays worked, half days, remote days, days marked, leave days (½ per half day) with the half days
    and the days by kind, and worked / late / early-leave / overtime minutes. Users without a row are left out."""
    out: dict[int, dict] = {}
    for r in grid(session, settings, actor=actor, start=start, end=end, who=who, now=now):
        item = out.get(r.user.id)
        if item is None:
            item = out[r.user.id] = {"user_id": r.user.id, "employee_code": r.user.employee_code,
                                     "full_name": r.user.full_name, "days": 0, "off_days_worked": 0,
                                     "holidays_worked": 0, "marked": 0, "leave_days": 0.0, "leave_half_days": 0,
                                     "leave_by_kind": {}, **{k: 0 for k in SUMMARY_COUNTS},
                                     **{k: 0 for k in SUMMARY_MINUTES}}
        item["days"] += 1
        for key, statuses in SUMMARY_COUNTS.items():
            item[key] += r.status in statuses
        item["off_days_worked"] += r.status == "off_day" and r.worked_minutes > 0
        item["holidays_worked"] += r.status == "holiday" and r.worked_minutes > 0
        item["marked"] += r.mark is not None
        share = _leave_days(r)
        if share:
            item["leave_days"] += share
            item["leave_half_days"] += share == 0.5
            kind = r.leave_kind or "unspecified"  # a day marked on_leave without a leave record
            item["leave_by_kind"][kind] = item["leave_by_kind"].get(kind, 0.0) + share
        for key in SUMMARY_MINUTES:
            item[key] += getattr(r, key)
    return list(out.values())
