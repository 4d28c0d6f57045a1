"""Attendance reports: the CSV export (streamed) and per-user totals. No FastAPI here.

CSV: one row per user per work day, UTF-8 with a byte-order mark and CRLF line ends (Excel and LibreOffice open it
with accents intact), every field quoted as needed by the csv module, and text cells that a spreadsheet would run as a
formula (starting with = + - @ or a tab/CR) prefixed with an apostrophe (CSV injection).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

from server.attendance.models import WorkDay
from server.attendance.service import visible_users_filter
from server.clock import as_utc
from server.shifts.models import Shift
from server.users.models import User

CSV_COLUMNS = ("employee_code", "name", "date", "shift", "timezone", "first_in", "last_out", "worked_minutes",
               "late_minutes", "early_leave_minutes", "overtime_minutes", "status")
BATCH = 1000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _rows_query(actor: User, start: date, end: date, user_id: int | None):
    q = (select(WorkDay, User.employee_code, User.full_name, User.timezone, Shift.name, Shift.timezone)
         .join(User, User.id == WorkDay.user_id)
         .outerjoin(Shift, Shift.id == WorkDay.shift_id)
         .where(WorkDay.work_date >= start, WorkDay.work_date <= end))
    clause = visible_users_filter(actor)
    if clause is not None:
        q = q.where(clause)
    if user_id is not None:
        q = q.where(WorkDay.user_id == user_id)
    return q.order_by(User.employee_code, WorkDay.work_date)


def _local(dt, zone: str) -> str:
    return "" if dt is None else as_utc(dt).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def csv_chunks(db, settings, *, actor: User, start: date, end: date, user_id: int | None = None) -> Iterator[str]:
    """Yields the CSV text in chunks of about BATCH rows; reads the rows in batches in its own session, so a large
    export never sits in memory whole."""
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    buf.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    with db.session() as session:
        result = session.execute(_rows_query(actor, start, end, user_id).execution_options(yield_per=BATCH))
        for n, (wd, code, name, user_tz, shift_name, shift_tz) in enumerate(result, 1):
            zone = shift_tz or user_tz or settings.default_timezone
            writer.writerow([safe_cell(code), safe_cell(name), wd.work_date.isoformat(), safe_cell(shift_name or ""),
                             zone, _local(wd.first_in, zone), _local(wd.last_out, zone), wd.worked_minutes,
                             wd.late_minutes, wd.early_leave_minutes, wd.overtime_minutes, wd.status])
            if n % BATCH == 0:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
    yield buf.getvalue()


def summary(session, *, actor: User, start: date, end: date, user_id: int | None = None) -> list[dict]:
    """Totals per user over [start, end]: days present (on time or late), late days, absences, incomplete days,
    off days worked, and worked / late / early-leave / overtime minutes."""
    def count(*statuses):
        return func.sum(case((WorkDay.status.in_(statuses), 1), else_=0))

    q = (select(User.id, User.employee_code, User.full_name,
                count("present", "late").label("days_present"), count("late").label("late_count"),
                count("absent").label("absences"), count("incomplete").label("incomplete"),
                func.sum(case(((WorkDay.status == "off_day") & (WorkDay.worked_minutes > 0), 1), else_=0))
                .label("off_days_worked"),
                func.sum(WorkDay.worked_minutes).label("worked_minutes"),
                func.sum(WorkDay.late_minutes).label("late_minutes"),
                func.sum(WorkDay.early_leave_minutes).label("early_leave_minutes"),
                func.sum(WorkDay.overtime_minutes).label("overtime_minutes"),
                func.count(WorkDay.id).label("days"))
         .join(WorkDay, WorkDay.user_id == User.id)
         .where(WorkDay.work_date >= start, WorkDay.work_date <= end))
    clause = visible_users_filter(actor)
    if clause is not None:
        q = q.where(clause)
    if user_id is not None:
        q = q.where(User.id == user_id)
    q = q.group_by(User.id, User.employee_code, User.full_name).order_by(User.employee_code)
    text = ("employee_code", "full_name")
    out = []
    for row in session.execute(q):
        d = row._asdict()
        item = {"user_id": d.pop("id"), "employee_code": d["employee_code"], "full_name": d["full_name"]}
        item.update({k: int(v or 0) for k, v in d.items() if k not in text})
        out.append(item)
    return out
