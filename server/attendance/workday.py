"""Work-day arithmetic: pure functions, no database, no clock.

Everything here takes UTC instants and a `ShiftRule` (the plain values of a shift) and answers in the shift's zone:

* `work_date_for(at, rule)` – the work day a punch belongs to. A day "owns" the 24 hours centred on its shift: it
  starts half of the off-duty gap before the shift's start (Day 09–17 → 01:00, Night 22–06 → 14:00). So an overnight
  shift's 06:00 check-out belongs to the previous evening's work day, and a 08:40 check-in to a 09:00 shift to that day.
* `window(rule, date)` – the shift's start/end as UTC instants for that work day. Local wall times are converted with
  zoneinfo, so a 22:00–06:00 night lasts 9 real hours on the last Sunday of October in Europe/Madrid and 7 in March.
* `punch_status(kind, at, window)` – on_time / late / early_leave / overtime / off_shift of an arrival / departure;
  `punch_statuses(punches, window)` – the statuses of a whole day (only the first in and the last out are judged).
* `derive_kinds(punches)` – in / out of a day's punches: automatic ones alternate from `in`, explicit ones are kept.
* `compute_day(date, rule, punches, now, ctx=DayContext(...))` – first in, last out, worked minutes minus breaks,
  late / early leave / overtime minutes, the punches' statuses and the day's status, with what the calendar says of
  the day (`DayContext`: holiday, leave, a manager's mark, employment).

Rules, stated once (docs/attendance.md repeats them):
* Minutes are whole minutes, rounded down.
* Late: the first in is after start + grace_in; late minutes count from the shift start (not from the end of grace).
* Early leave: the last out is before end - grace_out; minutes count up to the shift end. Overtime: the last out is
  after end + grace_out; minutes count from the shift end. Within the grace, neither.
* Worked: sum of in→out pairs. The break allowance is deducted minus breaks already punched (out→in gaps), never
  below zero worked.
* A day is closed once `now` is past its end + grace_out (or, with no schedule that day, past the local midnight that
  ends it). A closed scheduled day with no punch is `absent`; any closed day left with an in and no out (or an out
  with no in) is `incomplete`. Open days are `present` / `late` so far.
* An unscheduled day (no shift assigned, or not one of the shift's weekdays) is `off_day`; with a shift assigned,
  the minutes worked on it count as overtime.
* Early leave is judged once the day is closed (on its last out), never on an out while the day is open (a lunch
  out is on_time). Late and early-leave minutes never exceed the shift's length; a closed day whose in→out pairs all
  lie outside the shift (in 04:20, out 04:27 on a 09–17 shift) is `absent`.
* Calendar (`DayContext`), on a scheduled day, first rule that applies: a manager's mark sets the status (late and
  early leave are then 0); a holiday makes it `holiday` and a whole day of leave `on_leave` (nothing is expected:
  no late / early / absent, every worked minute is overtime, punches are off_shift); a half day of leave ("am" /
  "pm") leaves the other half of the shift as the day's window (half the break allowance, half the thresholds).
  Closed, paired days under the shift's thresholds are `absent` (absent_below_minutes) or `half_day`
  (half_day_below_minutes). Outside employment a day without punches is never absent (the caller records no row).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, UTC
from typing import Protocol
from zoneinfo import ZoneInfo

from server.shifts.rules import DAY, ShiftRule, local_date


PUNCH_STATUSES = ("on_time", "late", "early_leave", "overtime", "off_shift")
DAY_STATUSES = ("present", "late", "absent", "incomplete", "off_day", "holiday", "on_leave", "half_day", "remote")
MARK_STATUSES = ("present", "absent", "on_leave", "remote")


class PunchLike(Protocol):
    at: datetime
    kind: str


@dataclass(frozen=True)
class DayContext:
    """What the calendar says of a day besides its punches. `leave_half` None with a `leave_kind` = the whole day."""

    holiday: str | None = None  # the holiday's name
    leave_kind: str | None = None
    leave_half: str | None = None  # "am" | "pm": that half of the shift is on leave
    mark: str | None = None  # the status a manager marked (MARK_STATUSES)
    employed: bool = True


NO_CONTEXT = DayContext()


@dataclass(frozen=True)
class ShiftWindow:
    work_date: date
    start: datetime  # UTC
    end: datetime  # UTC
    rule: ShiftRule
    half: str | None = None  # the half of the shift on leave: this window is the other half

    @property
    def break_allowance(self) -> timedelta:
        return timedelta(minutes=self.rule.break_minutes // (2 if self.half else 1))

    def threshold(self, minutes: int | None) -> int | None:
        return None if minutes is None else minutes // (2 if self.half else 1)

    @property
    def length_minutes(self) -> int:
        return _minutes(self.end - self.start)

    @property
    def grace_in(self) -> timedelta:
        return timedelta(minutes=self.rule.grace_in_minutes)

    @property
    def grace_out(self) -> timedelta:
        return timedelta(minutes=self.rule.grace_out_minutes)

    @property
    def close_at(self) -> datetime:
        return self.end + self.grace_out

    @property
    def scheduled_minutes(self) -> int:
        return max(0, self.length_minutes - _minutes(self.break_allowance))


def half_window(win: ShiftWindow, half: str) -> ShiftWindow:
    """The half of the shift still to work when `half` ("am": the first, "pm": the second) is on leave; the shift
    is cut at its real-time middle (DST-aware: the instants are UTC)."""
    middle = win.start + (win.end - win.start) / 2
    if half == "am":
        return ShiftWindow(win.work_date, middle, win.end, win.rule, half)
    return ShiftWindow(win.work_date, win.start, middle, win.rule, half)


@dataclass
class DayResult:
    work_date: date
    shift_id: int | None
    status: str
    first_in: datetime | None = None
    last_out: datetime | None = None
    worked_minutes: int = 0
    late_minutes: int = 0
    early_leave_minutes: int = 0
    overtime_minutes: int = 0
    closed: bool = False
    close_at: datetime | None = None
    details: dict = field(default_factory=dict)
    holiday: str | None = None
    leave_kind: str | None = None
    leave_half: str | None = None
    mark: str | None = None
    punch_statuses: list[str] = field(default_factory=list)  # of the punches in time order


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def to_utc(d: date, t: time, zone: ZoneInfo) -> datetime:
    """A local wall time as a UTC instant. A time inside a spring-forward gap maps to the instant the clocks
    jumped over it (02:30 → 03:30 local); a repeated autumn time means its first occurrence (PEP 495 fold=0)."""
    return datetime.combine(d, t, tzinfo=zone).astimezone(UTC)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime: give UTC-aware instants")
    return at


def work_date_for(at: datetime, rule: ShiftRule | None, fallback_zone: str = "UTC") -> date:
    """The work day a punch at `at` belongs to (see the module doc). Without a shift: the local date."""
    if rule is None:
        return local_date(at, fallback_zone)
    local = _aware(at).astimezone(rule.zone).replace(tzinfo=None)
    return (local - rule.day_offset).date()


def window(rule: ShiftRule, work_date: date) -> ShiftWindow:
    start = to_utc(work_date, rule.start_time, rule.zone)
    end_date = work_date + DAY if rule.overnight else work_date
    end = to_utc(end_date, rule.end_time, rule.zone)
    return ShiftWindow(work_date, start, end, rule)


def scheduled_window(rule: ShiftRule | None, work_date: date) -> ShiftWindow | None:
    """The window when the shift is worked that day, None on an unscheduled day."""
    if rule is None or not rule.scheduled_on(work_date):
        return None
    return window(rule, work_date)


def close_at(rule: ShiftRule | None, work_date: date, fallback_zone: str = "UTC") -> datetime:
    """When a work day can be closed: shift end + grace_out; without a schedule, when the work day ends (the local
    wall time at which the next work day begins, converted with zoneinfo, so a DST day is 23 or 25 hours long)."""
    if rule is not None and rule.scheduled_on(work_date):
        return window(rule, work_date).close_at
    if rule is not None:
        local_end = datetime.combine(work_date + DAY, time(0)) + rule.day_offset  # wall-clock arithmetic
        return to_utc(local_end.date(), local_end.time(), rule.zone)
    return to_utc(work_date + DAY, time(0), ZoneInfo(fallback_zone))


def punch_status(kind: str, at: datetime, win: ShiftWindow | None) -> str:
    """Status of a punch judged as the day's arrival (kind "in") or departure (kind "out")."""
    if win is None:
        return "off_shift"
    if kind == "in":
        return "late" if at > win.start + win.grace_in else "on_time"
    if at < win.end - win.grace_out:
        return "early_leave"
    if at > win.end + win.grace_out:
        return "overtime"
    return "on_time"


def punch_statuses(ordered: Sequence[PunchLike], win: ShiftWindow | None, closed: bool = True) -> list[str]:
    """Statuses of a work day's punches (in time order). Only the arrival and the departure are judged: the first
    in may be `late`, the last out (when no in follows it) may be `overtime`, or `early_leave` once the day is
    closed (while it is open the last out may be a lunch break: `on_time`); every other punch (a break's out and
    in) is `on_time`. All are `off_shift` on a day without a scheduled shift (or with nothing expected of it)."""
    if win is None:
        return ["off_shift"] * len(ordered)
    out = ["on_time"] * len(ordered)
    first_in = next((i for i, p in enumerate(ordered) if p.kind == "in"), None)
    if first_in is not None:
        out[first_in] = punch_status("in", ordered[first_in].at, win)
    if ordered and ordered[-1].kind == "out":
        status = punch_status("out", ordered[-1].at, win)
        out[-1] = status if closed or status != "early_leave" else "on_time"
    return out


def derive_kinds(ordered: Sequence[PunchLike]) -> list[str]:
    """Kinds of a work day's punches (in time order): automatic punches alternate starting with `in`; a punch whose
    kind was given explicitly (`kind_fixed`: manual or corrected) keeps it, and the alternation continues from it."""
    kinds: list[str] = []
    expected = "in"
    for p in ordered:
        kind = p.kind if getattr(p, "kind_fixed", False) else expected
        kinds.append(kind)
        expected = "out" if kind == "in" else "in"
    return kinds


def next_kind(previous: Iterable[PunchLike], at: datetime) -> str:
    """Kind of a new punch at `at`: the opposite of the latest earlier punch of that work day, `in` when none."""
    earlier = [p for p in previous if p.at <= at]
    if not earlier:
        return "in"
    return "out" if max(earlier, key=lambda p: p.at).kind == "in" else "in"


def _pairs(punches: Sequence[PunchLike]) -> tuple[list[tuple[datetime, datetime]], bool, int]:
    """In→out intervals; whether an in is left open at the end; how many outs had no in before them."""
    intervals: list[tuple[datetime, datetime]] = []
    opened: datetime | None = None
    orphan_outs = 0
    for p in punches:
        if p.kind == "in":
            if opened is None:
                opened = p.at  # a second in while open keeps the first
        elif opened is not None:
            intervals.append((opened, p.at))
            opened = None
        else:
            orphan_outs += 1
    return intervals, opened is not None, orphan_outs


def _expected(win: ShiftWindow | None, ctx: DayContext) -> tuple[ShiftWindow | None, str | None]:
    """The window the day is expected to hold, and the status of a day expected to hold nothing (holiday,
    on_leave) on a scheduled day; (None, None) on an unscheduled one."""
    if win is None:
        return None, None
    if ctx.holiday:
        return None, "holiday"
    if ctx.leave_kind and ctx.leave_half is None:
        return None, "on_leave"
    if ctx.leave_kind:
        return half_window(win, ctx.leave_half), None
    return win, None


def _overlaps(intervals: list[tuple[datetime, datetime]], win: ShiftWindow) -> bool:
    return any(a < win.end and b > win.start for a, b in intervals)


def _closed_status(res: DayResult, win: ShiftWindow, intervals) -> str | None:
    """absent / half_day of a closed day with paired punches: no pair inside the shift, or fewer worked minutes
    than the shift's thresholds (halved on a half day of leave); None when neither applies."""
    if not _overlaps(intervals, win):
        return "absent"
    absent_below = win.threshold(win.rule.absent_below_minutes)
    if absent_below is not None and res.worked_minutes < absent_below:
        return "absent"
    half_below = win.threshold(win.rule.half_day_below_minutes)
    if half_below is not None and res.worked_minutes < half_below:
        return "half_day"
    return None


def compute_day(work_date: date, rule: ShiftRule | None, punches: Sequence[PunchLike], now: datetime,
                fallback_zone: str = "UTC", ctx: DayContext = NO_CONTEXT) -> DayResult:
    """The work day from its (non-voided) punches and its calendar. `now` decides only whether the day is closed."""
    ordered = sorted(punches, key=lambda p: p.at)
    shift_win = scheduled_window(rule, work_date)
    win, free = _expected(shift_win, ctx)
    closes = close_at(rule, work_date, fallback_zone)
    closed = _aware(now) >= closes
    res = DayResult(work_date=work_date, shift_id=rule.shift_id if rule else None, status="off_day",
                    closed=closed, close_at=closes, holiday=ctx.holiday, mark=ctx.mark)
    if shift_win is not None and not ctx.holiday and ctx.leave_kind:
        res.leave_kind, res.leave_half = ctx.leave_kind, ctx.leave_half

    ins = [p.at for p in ordered if p.kind == "in"]
    outs = [p.at for p in ordered if p.kind == "out"]
    res.first_in = min(ins) if ins else None
    res.last_out = max(outs) if outs else None
    intervals, open_in, orphan_outs = _pairs(ordered)
    unpaired = open_in or orphan_outs > 0 or not intervals and bool(ordered)
    gross = sum((b - a for a, b in intervals), timedelta(0))
    taken_breaks = sum((intervals[i + 1][0] - intervals[i][1] for i in range(len(intervals) - 1)), timedelta(0))
    allowance = win.break_allowance if win else timedelta(0)
    deducted = min(gross, max(timedelta(0), allowance - taken_breaks))
    res.worked_minutes = _minutes(gross - deducted)
    res.details = {"punches": len(ordered), "pairs": len(intervals), "open_in": open_in,
                   "orphan_outs": orphan_outs, "break_deducted_minutes": _minutes(deducted)}
    if win is not None:
        res.details.update(shift_start=win.start.isoformat(), shift_end=win.end.isoformat(),
                           scheduled_minutes=win.scheduled_minutes)
    res.punch_statuses = punch_statuses(ordered, win, closed)

    if win is None:
        if rule is not None:
            res.overtime_minutes = res.worked_minutes
        res.status = "incomplete" if closed and unpaired else free or "off_day"
    else:
        _judge(res, win, ordered, ins, intervals, open_in, unpaired, ctx)
    if ctx.mark:
        res.status, res.late_minutes, res.early_leave_minutes = ctx.mark, 0, 0
    return res


def _judge(res: DayResult, win: ShiftWindow, ordered, ins, intervals, open_in: bool, unpaired: bool,
           ctx: DayContext) -> None:
    """Late / early-leave / overtime minutes and the status of a day expected to hold `win`."""
    length = win.length_minutes
    if res.first_in is not None and res.first_in > win.start + win.grace_in:
        res.late_minutes = min(length, _minutes(res.first_in - win.start))
    if res.last_out is not None and not open_in:
        if res.last_out < win.end - win.grace_out:
            if res.closed:  # judged on the day's last out, once it is known
                res.early_leave_minutes = min(length, _minutes(win.end - res.last_out))
        elif res.last_out > win.end + win.grace_out:
            res.overtime_minutes = _minutes(res.last_out - win.end)
    if not ordered:
        res.status = "absent" if ctx.employed else "off_day"  # the caller records it only once the day is closed
    elif unpaired and (res.closed or not ins):
        res.status = "incomplete"
    else:
        res.status = (res.closed and _closed_status(res, win, intervals)) or ("late" if res.late_minutes
                                                                              else "present")
