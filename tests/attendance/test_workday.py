"""Unit tests of the pure work-day arithmetic (no database)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, UTC

import pytest

from server.attendance.workday import (
    ShiftRule, close_at, compute_day, next_kind, punch_status, scheduled_window, window, work_date_for,
)

ALL_DAYS = (0, 1, 2, 3, 4, 5, 6)
DAY = ShiftRule("Europe/Madrid", time(9), time(17), ALL_DAYS, 5, 5, 60, shift_id=1, name="Day")
NIGHT = ShiftRule("Europe/Madrid", time(22), time(6), ALL_DAYS, 5, 5, 30, shift_id=2, name="Night")
WEEKDAYS = ShiftRule("Europe/Madrid", time(9), time(17), (0, 1, 2, 3, 4), 5, 5, 60, shift_id=3)
MADRID_WINTER = timedelta(hours=1)  # CET
MADRID_SUMMER = timedelta(hours=2)  # CEST
LATER = datetime(2030, 1, 1, tzinfo=UTC)  # "now" long after every day below: all closed


@dataclass
class P:
    at: datetime
    kind: str


def madrid(d: date, h: int, m: int = 0, offset: timedelta = MADRID_WINTER) -> datetime:
    """A Madrid wall time given with its UTC offset, as a UTC instant (independent of the code under test)."""
    return datetime(d.year, d.month, d.day, h, m, tzinfo=UTC) - offset


WED = date(2026, 11, 25)  # a Wednesday in winter time


def day(punches, rule=DAY, d=WED, now=LATER):
    return compute_day(d, rule, punches, now)


def test_on_time_full_day():
    r = day([P(madrid(WED, 8, 58), "in"), P(madrid(WED, 17, 1), "out")])
    assert r.status == "present"
    assert r.first_in == madrid(WED, 8, 58) and r.last_out == madrid(WED, 17, 1)
    assert r.worked_minutes == 8 * 60 + 3 - 60  # minus the 60-minute break
    assert (r.late_minutes, r.early_leave_minutes, r.overtime_minutes) == (0, 0, 0)
    assert r.closed


def test_late_within_grace_is_on_time():
    at = madrid(WED, 9, 5)
    assert punch_status("in", at, window(DAY, WED)) == "on_time"
    r = day([P(at, "in"), P(madrid(WED, 17), "out")])
    assert r.status == "present" and r.late_minutes == 0


def test_late_after_grace_counts_from_shift_start():
    at = madrid(WED, 9, 5, ) + timedelta(seconds=30)
    assert punch_status("in", at, window(DAY, WED)) == "late"
    r = day([P(madrid(WED, 9, 20), "in"), P(madrid(WED, 17), "out")])
    assert r.status == "late" and r.late_minutes == 20
    assert r.worked_minutes == 7 * 60 + 40 - 60


def test_early_leave():
    out = madrid(WED, 16, 30)
    assert punch_status("out", out, window(DAY, WED)) == "early_leave"
    r = day([P(madrid(WED, 9), "in"), P(out, "out")])
    assert r.status == "present" and r.early_leave_minutes == 30 and r.overtime_minutes == 0


def test_out_within_grace_is_on_time():
    assert punch_status("out", madrid(WED, 16, 56), window(DAY, WED)) == "on_time"
    assert punch_status("out", madrid(WED, 17, 5), window(DAY, WED)) == "on_time"


def test_overtime():
    out = madrid(WED, 18, 45)
    assert punch_status("out", out, window(DAY, WED)) == "overtime"
    r = day([P(madrid(WED, 9), "in"), P(out, "out")])
    assert r.overtime_minutes == 105 and r.early_leave_minutes == 0
    assert r.worked_minutes == 9 * 60 + 45 - 60


def test_punched_breaks_count_towards_the_allowance():
    punches = [P(madrid(WED, 9), "in"), P(madrid(WED, 13), "out"), P(madrid(WED, 13, 40), "in"),
               P(madrid(WED, 17), "out")]
    r = day(punches)
    assert r.worked_minutes == 8 * 60 - 40 - 20  # 40 taken, 20 more of the 60-minute allowance deducted
    assert r.status == "present" and r.details["pairs"] == 2


def test_overnight_checkout_belongs_to_previous_evening():
    evening = madrid(WED, 21, 55)
    morning = madrid(WED + timedelta(days=1), 6, 2)
    assert work_date_for(evening, NIGHT) == WED
    assert work_date_for(morning, NIGHT) == WED
    r = compute_day(WED, NIGHT, [P(evening, "in"), P(morning, "out")], LATER)
    assert r.status == "present"
    assert r.worked_minutes == 8 * 60 + 7 - 30
    assert r.overtime_minutes == 0 and r.late_minutes == 0


def test_work_date_boundaries_of_a_day_shift():
    # Day 09-17 owns 01:00 .. 01:00 next day (half of the 16 h gap before 09:00)
    assert work_date_for(madrid(WED, 0, 59), DAY) == WED - timedelta(days=1)
    assert work_date_for(madrid(WED, 1, 0), DAY) == WED
    assert work_date_for(madrid(WED, 23, 30), DAY) == WED
    # Night 22-06 owns 14:00 .. 14:00 next day
    assert work_date_for(madrid(WED, 13, 59), NIGHT) == WED - timedelta(days=1)
    assert work_date_for(madrid(WED, 14, 0), NIGHT) == WED


def test_work_date_uses_the_shift_zone_not_utc():
    tokyo = ShiftRule("Asia/Tokyo", time(9), time(18), ALL_DAYS)
    at = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)  # 08:30 on the 26th in Tokyo
    assert work_date_for(at, tokyo) == date(2026, 11, 26)
    assert punch_status("in", at, window(tokyo, date(2026, 11, 26))) == "on_time"


def test_dst_end_last_sunday_of_october_night_lasts_nine_hours():
    sat = date(2026, 10, 24)  # night of Sat 24 -> Sun 25 October 2026: clocks go back 03:00 CEST -> 02:00 CET
    win = window(NIGHT, sat)
    assert win.start == madrid(sat, 22, offset=MADRID_SUMMER)
    assert win.end == madrid(date(2026, 10, 25), 6, offset=MADRID_WINTER)
    assert win.end - win.start == timedelta(hours=9)
    inn, out = win.start, win.end
    assert work_date_for(out, NIGHT) == sat
    r = compute_day(sat, NIGHT, [P(inn, "in"), P(out, "out")], LATER)
    assert r.worked_minutes == 9 * 60 - 30
    assert r.status == "present" and r.overtime_minutes == 0 and r.early_leave_minutes == 0


def test_dst_end_day_shift_on_the_sunday_is_eight_hours():
    sun = date(2026, 10, 25)
    win = window(DAY, sun)
    assert win.start == madrid(sun, 9, offset=MADRID_WINTER)
    assert win.end - win.start == timedelta(hours=8)
    # 08:30 CEST would have been 06:30 UTC; after the change 08:30 local is 07:30 UTC
    assert punch_status("in", madrid(sun, 9, 4), win) == "on_time"
    assert punch_status("in", madrid(sun, 9, 4, offset=MADRID_SUMMER), win) == "on_time"  # 08:04 local
    assert punch_status("in", madrid(sun, 9, 30), win) == "late"


def test_dst_start_last_sunday_of_march_night_lasts_seven_hours():
    sat = date(2026, 3, 28)  # night of Sat 28 -> Sun 29 March 2026: clocks jump 02:00 CET -> 03:00 CEST
    win = window(NIGHT, sat)
    assert win.start == madrid(sat, 22, offset=MADRID_WINTER)
    assert win.end == madrid(date(2026, 3, 29), 6, offset=MADRID_SUMMER)
    assert win.end - win.start == timedelta(hours=7)
    r = compute_day(sat, NIGHT, [P(win.start, "in"), P(win.end, "out")], LATER)
    assert r.worked_minutes == 7 * 60 - 30 and r.status == "present" and r.early_leave_minutes == 0
    # leaving at 05:00 local (summer time) is one hour early, not two
    r = compute_day(sat, NIGHT, [P(win.start, "in"), P(madrid(date(2026, 3, 29), 5, offset=MADRID_SUMMER), "out")],
                    LATER)
    assert r.early_leave_minutes == 60


def test_shift_starting_inside_the_spring_gap():
    odd = ShiftRule("Europe/Madrid", time(2, 30), time(10, 30), ALL_DAYS)
    win = window(odd, date(2026, 3, 29))  # 02:30 does not exist that day: the clocks jumped over it
    assert win.start == madrid(date(2026, 3, 29), 3, 30, offset=MADRID_SUMMER)
    assert win.end - win.start == timedelta(hours=7)


def test_no_shift_assigned():
    punches = [P(madrid(WED, 10), "in"), P(madrid(WED, 12, 30), "out")]
    assert work_date_for(punches[0].at, None, "Europe/Madrid") == WED
    assert punch_status("in", punches[0].at, scheduled_window(None, WED)) == "off_shift"
    r = compute_day(WED, None, punches, LATER, "Europe/Madrid")
    assert r.status == "off_day" and r.shift_id is None
    assert r.worked_minutes == 150 and r.overtime_minutes == 0 and r.late_minutes == 0
    assert close_at(None, WED, "Europe/Madrid") == madrid(WED + timedelta(days=1), 0)


def test_unscheduled_weekday_is_off_day_with_overtime():
    sat = date(2026, 11, 28)
    assert scheduled_window(WEEKDAYS, sat) is None
    r = compute_day(sat, WEEKDAYS, [P(madrid(sat, 10), "in"), P(madrid(sat, 12), "out")], LATER)
    assert r.status == "off_day" and r.worked_minutes == 120 and r.overtime_minutes == 120
    assert compute_day(sat, WEEKDAYS, [], LATER).status == "off_day"


def test_absent_and_incomplete_once_closed():
    before_close = madrid(WED, 17, 4)
    after_close = madrid(WED, 17, 6)
    assert compute_day(WED, DAY, [], after_close).status == "absent"
    only_in = [P(madrid(WED, 9), "in")]
    open_day = compute_day(WED, DAY, only_in, before_close)
    assert not open_day.closed and open_day.status == "present"
    closed_day = compute_day(WED, DAY, only_in, after_close)
    assert closed_day.closed and closed_day.status == "incomplete" and closed_day.worked_minutes == 0
    assert compute_day(WED, DAY, [P(madrid(WED, 17), "out")], before_close).status == "incomplete"


def test_punch_uploaded_late_for_a_closed_day_recomputes_it():
    now = madrid(WED + timedelta(days=2), 10)
    assert compute_day(WED, DAY, [], now).status == "absent"
    # the kiosk was offline: its punches of Wednesday arrive two days later
    late_upload = [P(madrid(WED, 9, 1), "in"), P(madrid(WED, 17, 2), "out")]
    r = compute_day(WED, DAY, late_upload, now)
    assert r.closed and r.status == "present" and r.worked_minutes == 8 * 60 + 1 - 60


def test_next_kind_alternates_by_time():
    assert next_kind([], madrid(WED, 9)) == "in"
    ps = [P(madrid(WED, 9), "in")]
    assert next_kind(ps, madrid(WED, 12)) == "out"
    ps.append(P(madrid(WED, 12), "out"))
    assert next_kind(ps, madrid(WED, 13)) == "in"
    assert next_kind(ps, madrid(WED, 8)) == "in"  # an offline punch from before the first one


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        work_date_for(datetime(2026, 11, 25, 9), DAY)


def test_close_of_an_unscheduled_day_is_wall_clock_arithmetic_across_dst():
    """A weekday shift 13:00-21:00: its work days begin at 05:00 local (half of the 16 h gap before 13:00). Saturday
    24 October 2026 is unscheduled; its work day ends on Sunday at 05:00 local, which is winter time (the clocks went
    back at 03:00): 04:00 UTC, not 03:00 (midnight CEST + 5 h)."""
    afternoon = ShiftRule("Europe/Madrid", time(13), time(21), (0, 1, 2, 3, 4), 5, 5, 0, shift_id=4)
    sat = date(2026, 10, 24)
    assert scheduled_window(afternoon, sat) is None
    assert close_at(afternoon, sat) == madrid(date(2026, 10, 25), 5, offset=MADRID_WINTER)
    assert close_at(afternoon, sat) == datetime(2026, 10, 25, 4, 0, tzinfo=UTC)
    # and in spring (29 March 2026, clocks forward at 02:00): Sunday 05:00 CEST = 03:00 UTC
    assert close_at(afternoon, date(2026, 3, 28)) == datetime(2026, 3, 29, 3, 0, tzinfo=UTC)
    # the close time is where the next work day begins
    sunday_start = madrid(date(2026, 10, 25), 5, offset=MADRID_WINTER)
    assert work_date_for(sunday_start - timedelta(seconds=1), afternoon) == sat
    assert work_date_for(sunday_start, afternoon) == date(2026, 10, 25)


def test_day_statuses_judge_only_arrival_and_departure():
    from server.attendance.workday import derive_kinds, punch_statuses

    @dataclass
    class K:
        at: datetime
        kind: str
        kind_fixed: bool = False

    ps = [K(madrid(WED, 9, 20), "out"), K(madrid(WED, 12), "out"), K(madrid(WED, 13), "in", True),
          K(madrid(WED, 16), "in")]
    assert derive_kinds(ps) == ["in", "out", "in", "out"]
    ps = [P(p.at, k) for p, k in zip(ps, derive_kinds(ps))]
    assert punch_statuses(ps, window(DAY, WED)) == ["late", "on_time", "on_time", "early_leave"]
    assert punch_statuses(ps[:3], window(DAY, WED)) == ["late", "on_time", "on_time"]  # back in: no departure yet
    assert punch_statuses(ps, None) == ["off_shift"] * 4
