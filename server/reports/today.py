"""Today: where each person stands now (the console's Today page). No FastAPI here; reads only.

For every active user the caller supervises (manager: its site; admin: everyone, or one ?site), the work day in
progress — the one a punch now would belong to (attendance.service.current_work_dates: for a night shift at 02:00,
the evening's work day) — with its punches, and a `state`:

* `in`        the last punch of that day is an in, and the day has not closed (shift end + grace_out);
* `left`      punched that day, the last punch an out (or the day closed with an in left open: `status` says
              incomplete);
* `missing`   scheduled, the shift has started, no punch yet (not closed: still expected, and late past the grace);
* `expected`  scheduled, the shift has not started yet;
* `absent`    scheduled, the day closed without a punch;
* `off`       no shift that day;
* without punches, the day's status as the report grid gives it otherwise: a manager's whole-day mark
  (`present`, `absent`, `on_leave`, `remote`), `holiday` on a scheduled day, `on_leave` for a whole day of leave;
  `holiday`, `leave_kind`, `leave_half` and `mark` (attendance/calendar.py) are given in any case (a half day of
  leave with an in is `in`).

`late` is true for a late arrival (late_minutes > 0) and for `missing` people once the shift start + grace_in has
passed. Rows are ordered by site, then name; `counts` adds the states up per site.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from server.attendance import calendar
from server.attendance.models import WorkDay
from server.attendance.queries import punches_of_days
from server.attendance.service import current_work_dates, fallback_zone
from server.attendance.workday import close_at, scheduled_window
from server.clock import as_utc
from server.clock import now as clock_now
from server.config import Settings
from server.reports.service import _Clock, _computed
from server.shifts.models import Shift
from server.users.models import User
from server.users.policy import visible_users_filter

NO_SITE = ""


def _users(session, actor: User, site: str | None) -> list[User]:
    q = select(User).where(User.is_active.is_(True))
    clause = visible_users_filter(actor)
    if clause is not None:
        q = q.where(clause)
    if site is not None:
        q = q.where(User.site == site) if site != NO_SITE else q.where(User.site.is_(None))
    return list(session.scalars(q.order_by(User.site.asc().nulls_first(), User.full_name, User.id)))


_STATES = {"ongoing": "missing", "scheduled": "expected", "off_day": "off"}  # a day without punches


def _state(status: str, punched: bool, in_open: bool) -> str:
    if punched:
        return "in" if in_open else "left"
    return _STATES.get(status, status)


def _status(wd, user: User, d, rule, settings: Settings, clock: _Clock, cal) -> str:
    """The day's status as the report grid has it: the recorded row's (a mark's status when marked), else the day
    as its assignment and calendar make it (holiday, on_leave, scheduled, ongoing, absent, off_day)."""
    if wd is not None:
        return wd.status
    row = _computed(user, d, rule, settings, clock, cal)
    return row.status if row is not None else "off_day"


def today(session, settings: Settings, *, actor: User, site: str | None = None, now: datetime | None = None) -> dict:
    now = as_utc(now or clock_now())
    users = _users(session, actor, site)
    current = current_work_dates(session, users, now, settings)
    keys = [(u.id, current[u.id][0]) for u in users]
    recorded = {}
    if keys:
        q = select(WorkDay).where(WorkDay.user_id.in_([k[0] for k in keys]),
                                  WorkDay.work_date >= min(k[1] for k in keys),
                                  WorkDay.work_date <= max(k[1] for k in keys))
        recorded = {(wd.user_id, wd.work_date): wd for wd in session.scalars(q)}
    punches = punches_of_days(session, keys)
    cal = calendar.load(session, [k[0] for k in keys], min(k[1] for k in keys), max(k[1] for k in keys)) \
        if keys else None
    names = dict(session.execute(select(Shift.id, Shift.name)).all())
    clock = _Clock(now)
    people, counts = [], {}
    for user in users:
        d, rule = current[user.id]
        zone = rule.timezone if rule else fallback_zone(user, settings)
        day_punches = punches.get((user.id, d), [])
        wd = recorded.get((user.id, d))
        status = _status(wd, user, d, rule, settings, clock, cal)
        win = scheduled_window(rule, d)
        last = day_punches[-1] if day_punches else None
        in_open = last is not None and last.kind == "in" and now < close_at(rule, d, zone)
        ctx = cal.context(user, d)
        state = _state(status, bool(day_punches), in_open)
        late_minutes = wd.late_minutes if wd is not None else 0
        late = late_minutes > 0 or (state == "missing" and win is not None and now > win.start + win.grace_in)
        people.append({
            "user_id": user.id, "employee_code": user.employee_code, "full_name": user.full_name,
            "site": user.site, "work_date": d, "timezone": zone,
            "shift_name": names.get(rule.shift_id) if rule else None,
            "shift_start": win.start if win else None, "shift_end": win.end if win else None,
            "state": state, "late": late, "status": status, "late_minutes": late_minutes,
            "worked_minutes": wd.worked_minutes if wd is not None else 0,
            "first_in": as_utc(wd.first_in) if wd is not None and wd.first_in else None,
            "last_out": as_utc(wd.last_out) if wd is not None and wd.last_out else None,
            "last_punch": None if last is None else {"kind": last.kind, "at": as_utc(last.at), "source": last.source},
            "holiday": ctx.holiday, "leave_kind": ctx.leave_kind, "leave_half": ctx.leave_half, "mark": ctx.mark,
        })
        per_site = counts.setdefault(user.site or NO_SITE, {})
        per_site[state] = per_site.get(state, 0) + 1
        if late:
            per_site["late"] = per_site.get("late", 0) + 1
    return {"at": now, "people": people, "counts": counts}
