"""Punches and work days: recording and recomputing. No FastAPI here. Corrections by a manager are in
corrections.py, the API's reading of days and punches in queries.py.

A punch's work day and status come from `workday.py` (pure arithmetic) with the shift assigned to the user on that
work day. Every write to a user's punches first takes that user's row lock (`lock_user`), so on PostgreSQL two kiosks,
a correction and the close-day job never interleave their read-compute-write of the same user.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.attendance import calendar
from server.attendance.models import Punch, WorkDay
from server.attendance.workday import (
    compute_day,
    derive_kinds,
    next_kind,
    punch_status,
    scheduled_window,
    work_date_for,
)
from server.clock import as_utc
from server.clock import now as clock_now
from server.config import Settings
from server.errors import Conflict
from server.kit.rows import flush_or_conflict
from server.shifts.models import Shift
from server.shifts.rules import ShiftRule, in_dates, local_date
from server.shifts.service import assignment_on, assignments_between, lock_user, rule_on
from server.users.employment import employed_on, employment_dates  # noqa: F401  (re-exported)
from server.users.models import User


class PunchVoided(Conflict):
    code = "punch_voided"
    message = "The punch is voided and cannot be changed"


def fallback_zone(user: User, settings: Settings) -> str:
    return user.timezone or settings.default_timezone


def _pick_work_date(at: datetime, assignments, rules: dict[int, ShiftRule], zone: str
                    ) -> tuple[date, ShiftRule | None]:
    """The work day of `at` among the user's assignments: the first whose range holds the date its shift gives.

    When none does, the punch belongs to an unscheduled day: its local date, unless an assignment holds that date
    (a shift day that does not own this instant: a 00:30 punch before a 15:00–23:30 shift's first day, a 06:00 one
    before a night shift's first Monday); then the date the shift would give it, which no assignment holds."""
    approx = local_date(at, zone)
    near = [a for a in assignments if not (a.valid_from > approx + timedelta(days=2) or (
        a.valid_to is not None and a.valid_to < approx - timedelta(days=2)))]
    for a in near:
        rule = rules[a.shift_id]
        d = work_date_for(at, rule)
        if in_dates(d, a.valid_from, a.valid_to):
            return d, rule
    holder = assignment_on(near, approx)
    if holder is not None:
        d = work_date_for(at, rules[holder.shift_id])
        if assignment_on(near, d) is None:
            return d, None
    return approx, None


def _rules_of(session: Session, assignments) -> dict[int, ShiftRule]:
    return {sid: ShiftRule.from_model(session.get(Shift, sid)) for sid in {a.shift_id for a in assignments}}


def resolve_work_date(session: Session, user: User, at: datetime, settings: Settings) -> tuple[date, ShiftRule | None]:
    """The work day of a punch at `at` and the shift rule that applies to it (None: no shift assigned then)."""
    return current_work_dates(session, [user], at, settings)[user.id]


def current_work_dates(session: Session, users, at: datetime,
                       settings: Settings) -> dict[int, tuple[date, ShiftRule | None]]:
    """For each user, the work day a punch at `at` would belong to and its shift rule (resolve_work_date for many
    users: one query for all their assignments)."""
    if not users:
        return {}
    zones = {u.id: fallback_zone(u, settings) for u in users}
    approx = [local_date(at, z) for z in zones.values()]
    assignments = assignments_between(session, min(approx) - timedelta(days=2), max(approx) + timedelta(days=2),
                                      list(zones))
    rules = _rules_of(session, assignments)
    mine: dict[int, list] = {}
    for a in assignments:
        mine.setdefault(a.user_id, []).append(a)
    return {uid: _pick_work_date(at, mine.get(uid, []), rules, zone) for uid, zone in zones.items()}


def day_punches(session: Session, user_id: int, work_date: date) -> list[Punch]:
    q = select(Punch).where(Punch.user_id == user_id, Punch.work_date == work_date, Punch.voided_at.is_(None))
    return list(session.scalars(q.order_by(Punch.at, Punch.id)).all())


def _upsert_work_day(session: Session, user_id: int, work_date: date) -> WorkDay:
    """The work_days row of (user, date), created if missing. A concurrent insert of the same key (UNIQUE) loses
    its savepoint and reads the winner's row instead."""
    q = select(WorkDay).where(WorkDay.user_id == user_id, WorkDay.work_date == work_date)
    wd = session.scalar(q)
    if wd is not None:
        return wd
    wd = WorkDay(user_id=user_id, work_date=work_date, status="absent", updated_at=clock_now())
    return wd if flush_or_conflict(session, None, wd) else session.scalar(q)


def recompute_day(session: Session, user: User, work_date: date, settings: Settings, *, now: datetime | None = None,
                  punches: list[Punch] | None = None) -> WorkDay | None:
    """Recomputes (user, work_date) from its non-voided punches and its calendar (holiday, leave, mark) and stores
    it. Punch statuses follow the shift.

    Kinds of automatic punches are re-derived first (in time order, alternating from "in"; explicit kinds stay),
    so a punch uploaded late by an offline kiosk puts the later ones right. Statuses: only the first in and the
    last out are judged (workday.punch_statuses).

    Returns the row, or None when there is nothing to record yet (no punch, no mark, and the day not closed, or an
    unscheduled day, or a day outside employment; such a row, if one existed, is removed: it is derived data,
    punches are not). A day closed earlier is re-opened and recomputed when punches arrive late (details:
    closed_as, the status it was first closed with; reopened_at, the latest re-opening; reopened, how many times).
    `punches`: the day's non-voided punches in time order, when the caller has them already (add_punch), else read.
    """
    now = now or clock_now()
    rule = rule_on(session, user.id, work_date)
    if punches is None:
        punches = day_punches(session, user.id, work_date)
    existing = session.scalar(select(WorkDay).where(WorkDay.user_id == user.id, WorkDay.work_date == work_date))
    cal = calendar.load(session, [user.id], work_date, work_date)
    wd = _store_day(session, user, work_date, settings, rule, punches, existing, now, cal)
    session.flush()
    return wd


def rework_dates(session: Session, settings: Settings, user: User, dates, *, now: datetime | None = None) -> list[date]:
    """After a change of the user's calendar (holiday, leave, mark, employment dates): recomputes each of `dates`
    that can hold something (up to tomorrow: later days have no punch and are not closed) under the user's row
    lock, as a shift change does. Returns the dates recomputed."""
    return rework_users_dates(session, settings, [user], dates, now=now)


REWORK_BATCH = 200


def rework_users_dates(session: Session, settings: Settings, users: list[User], dates, *, now: datetime | None = None
                       ) -> list[date]:
    """rework_dates for many users (a holiday of a site or of the company): their row locks are taken in id order
    (the order every writer uses), then punches, rows, assignments and calendar are loaded REWORK_BATCH users at a
    time and each day stored. Work dates do not move (no assignment changed). A date after tomorrow is recomputed
    only where it has a row (a mark set ahead)."""
    now = now or clock_now()
    limit = local_date(now, "UTC") + timedelta(days=1)
    done = sorted(set(dates))
    users = sorted(users, key=lambda u: u.id)
    if not done or not users:
        return [d for d in done if d <= limit]
    for i in range(0, len(users), REWORK_BATCH):
        batch = users[i:i + REWORK_BATCH]
        ids = [u.id for u in batch]
        session.execute(select(User.id).where(User.id.in_(ids)).order_by(User.id).with_for_update())
        by_day: dict[tuple[int, date], list[Punch]] = {}
        for p in session.scalars(select(Punch).where(Punch.user_id.in_(ids), Punch.voided_at.is_(None),
                                                     Punch.work_date.in_(done)).order_by(Punch.at, Punch.id)):
            by_day.setdefault((p.user_id, p.work_date), []).append(p)
        rows = {(wd.user_id, wd.work_date): wd for wd in session.scalars(
            select(WorkDay).where(WorkDay.user_id.in_(ids), WorkDay.work_date.in_(done)))}
        assignments: dict[int, list] = {}
        for a in assignments_between(session, done[0], done[-1], ids):
            assignments.setdefault(a.user_id, []).append(a)
        rules = _rules_of(session, [a for mine in assignments.values() for a in mine])
        cal = calendar.load(session, ids, done[0], done[-1])
        for user in batch:
            for d in done:
                if d > limit and (user.id, d) not in rows:
                    continue  # nothing recorded ahead, nothing to record yet
                a = assignment_on(assignments.get(user.id, []), d)
                _store_day(session, user, d, settings, rules[a.shift_id] if a else None,
                           by_day.get((user.id, d), []), rows.get((user.id, d)), now, cal)
        session.flush()
    return [d for d in done if d <= limit]


def _store_day(session: Session, user: User, work_date: date, settings: Settings, rule: ShiftRule | None,
               punches: list[Punch], existing: WorkDay | None, now: datetime, cal: calendar.Calendar
               ) -> WorkDay | None:
    """recompute_day with its inputs loaded: the rule of that day, its non-voided punches in time order, its
    work_days row (None if there is none) and the calendar. Issues no query unless it creates a row."""
    for p, kind in zip(punches, derive_kinds(punches)):
        if p.kind != kind:
            p.kind = kind
    zone = rule.timezone if rule else fallback_zone(user, settings)
    ctx = cal.context(user, work_date, employed_on(user, work_date, zone))
    res = compute_day(work_date, rule, [_at_utc(p) for p in punches], now, fallback_zone(user, settings), ctx)
    for p, status in zip(punches, res.punch_statuses):
        if p.status != status:
            p.status = status
        p.shift_id = rule.shift_id if rule else None
    scheduled = scheduled_window(rule, work_date) is not None
    if not punches and not ctx.mark and not (res.closed and scheduled and ctx.employed):
        if existing is not None:
            session.delete(existing)
        return None
    wd = existing or _upsert_work_day(session, user.id, work_date)
    details = dict(res.details)
    previous = wd.details or {}
    for key in ("closed_as", "reopened_at", "reopened"):
        if key in previous:
            details[key] = previous[key]
    if wd.closed_at is not None and existing is not None and wd.status != res.status:
        details.setdefault("closed_as", wd.status)  # the status the day was first closed with
        details["reopened_at"] = now.isoformat()  # the latest re-opening
        details["reopened"] = int(previous.get("reopened", 0)) + 1
    wd.shift_id = res.shift_id
    wd.first_in, wd.last_out = res.first_in, res.last_out
    wd.worked_minutes, wd.late_minutes = res.worked_minutes, res.late_minutes
    wd.early_leave_minutes, wd.overtime_minutes = res.early_leave_minutes, res.overtime_minutes
    wd.status = res.status
    wd.holiday, wd.leave_kind, wd.leave_half, wd.mark = res.holiday, res.leave_kind, res.leave_half, res.mark
    wd.closed_at = (wd.closed_at or now) if res.closed else None
    wd.details = details
    wd.updated_at = now
    return wd


@dataclass(frozen=True)
class _Timed:
    at: datetime
    kind: str


def _at_utc(p: Punch) -> _Timed:
    return _Timed(as_utc(p.at), p.kind)


@dataclass
class NewPunch:
    punch: Punch
    duplicate: bool
    work_day: WorkDay | None


def find_debounced(session: Session, user_id: int, at: datetime, seconds: int) -> Punch | None:
    """The user's earliest non-voided punch less than `seconds` away from `at`, if any."""
    if seconds <= 0:
        return None
    span = timedelta(seconds=seconds)
    q = select(Punch).where(Punch.user_id == user_id, Punch.voided_at.is_(None),
                            Punch.at > at - span, Punch.at < at + span)
    return session.scalars(q.order_by(Punch.at, Punch.id).limit(1)).first()


def add_punch(session: Session, settings: Settings, *, user: User, at: datetime, kind: str | None = None,
              source: str = "kiosk", device_id: int | None = None, request_id: str | None = None,
              score: float | None = None, created_by: int | None = None, reason: str | None = None,
              debounce: bool = False) -> NewPunch:
    """Records a punch and recomputes its work day. A kiosk punch without `kind` is automatic: its kind follows
    from its place in the day (re-derived at every recompute). A manual punch, or any punch given a `kind`, keeps
    its kind (kind_fixed); a manual punch without one takes the kind its place gives it at insertion.

    With `debounce`, a punch of the same user less than DEBOUNCE_SECONDS away is returned instead (duplicate=True).
    """
    at = as_utc(at)
    lock_user(session, user.id)
    if debounce:
        first = find_debounced(session, user.id, at, settings.debounce_seconds)
        if first is not None:
            wd = session.scalar(select(WorkDay).where(WorkDay.user_id == user.id,
                                                      WorkDay.work_date == first.work_date))
            return NewPunch(first, True, wd)
    work_date, rule = resolve_work_date(session, user, at, settings)
    explicit = kind is not None
    # The day's punches are read once, for the kind and for the recomputation (under the user's lock, nobody adds one
    # in between): each load is as many ORM rows as the day holds.
    earlier = day_punches(session, user.id, work_date)
    kind = kind or next_kind([_at_utc(p) for p in earlier], at)
    punch = Punch(user_id=user.id, kind=kind, kind_fixed=explicit, at=at, work_date=work_date,
                  shift_id=rule.shift_id if rule else None,
                  status=punch_status(kind, at, scheduled_window(rule, work_date)), source=source,
                  device_id=device_id, request_id=request_id, score=score, created_by=created_by, reason=reason,
                  created_at=clock_now())
    session.add(punch)
    session.flush()
    day = sorted([*earlier, punch], key=lambda p: (as_utc(p.at), p.id))  # day_punches' order: at, then id
    wd = recompute_day(session, user, work_date, settings, punches=day)
    if source == "manual" and not punch.kind_fixed:
        punch.kind_fixed = True  # chosen by a person: later punches never flip it
        session.flush()
    return NewPunch(punch, False, wd)


def rework_user_days(session: Session, settings: Settings, user: User, start: date, end: date | None, *,
                     now: datetime | None = None) -> list[date]:
    """After a change of the user's shift assignments, or of a shift they work, that may move work dates in
    [start, end] (end None: open-ended): re-resolves the work date of every punch that may belong to that range
    (work_date within two days of it, voided ones included), then recomputes every day touched (old and new dates,
    and the days already recorded in the range). Under the user's row lock, like the kiosk. Returns the dates."""
    now = now or clock_now()
    lock_user(session, user.id)
    day = timedelta(days=1)
    lo, hi = start - 2 * day, None if end is None else end + 2 * day
    # one query each for the punches, rows and assignments around the range; a re-resolved date moves by a day at
    # most, so loading one more day on each side gives every touched day all of its punches
    q = select(Punch).where(Punch.user_id == user.id, Punch.work_date >= lo - day)
    rows_q = select(WorkDay).where(WorkDay.user_id == user.id, WorkDay.work_date >= lo - day)
    if hi is not None:
        q, rows_q = q.where(Punch.work_date <= hi + day), rows_q.where(WorkDay.work_date <= hi + day)
    punches = list(session.scalars(q.order_by(Punch.at, Punch.id)))
    rows = {wd.work_date: wd for wd in session.scalars(rows_q)}
    zone = fallback_zone(user, settings)
    last = max([p.work_date for p in punches] + [local_date(now, zone)]) + 2 * day
    assignments = assignments_between(session, lo - 2 * day, hi + 2 * day if hi else last, [user.id])
    rules = _rules_of(session, assignments)
    cal = calendar.load(session, [user.id], lo - day, hi + day if hi else last)
    dates = {d for d in rows if d >= start and (end is None or d <= end)}
    for p in punches:
        if p.work_date < lo or (hi is not None and p.work_date > hi):
            continue  # the margin: loaded to be complete, not re-resolved
        new_date, rule = _pick_work_date(as_utc(p.at), assignments, rules, zone)
        dates.add(p.work_date)
        if new_date != p.work_date:
            p.work_date = new_date
            dates.add(new_date)
        p.shift_id = rule.shift_id if rule else None
    by_day: dict[date, list[Punch]] = {}
    for p in punches:
        if p.voided_at is None:
            by_day.setdefault(p.work_date, []).append(p)
    for d in sorted(dates):
        a = assignment_on(assignments, d)
        _store_day(session, user, d, settings, rules[a.shift_id] if a else None, by_day.get(d, []), rows.get(d),
                   now, cal)
    session.flush()
    return sorted(dates)
