"""Regression tests of the three ledger bugs of issue 13."""
from __future__ import annotations

from datetime import datetime

from tests.fixtures.world import UTC, madrid_shift


def _utc_shift(world, name, start, end, **kw):
    return world.new_shift(name=name, timezone="UTC", start_time=start, end_time=end,
                           weekdays=[0, 1, 2, 3, 4, 5, 6], grace_in_minutes=5, grace_out_minutes=5, **kw)


def _assign(world, user, shift, valid_from, valid_to=None):
    body = {"shift_id": world.shift_id(shift), "valid_from": valid_from}
    if valid_to:
        body["valid_to"] = valid_to
    r = world.client.put(f"/api/v1/users/{user['id']}/shift", json=body, headers=world.admin)
    assert r.status_code == 200, r.text


def _shape(day):
    return None if day is None else (day["status"], day["worked_minutes"],
                                     [(p["local_time"][:16], p["kind"]) for p in day["punches"]])


def test_punches_before_the_first_day_of_an_afternoon_shift(world, clock):
    """Bug 1, first repro: 15:00–23:30 UTC every day from D; punches D−1 16:00, D 00:30, D 15:00, D 23:30."""
    clock.set(datetime(2026, 11, 20, 12, tzinfo=UTC))
    _utc_shift(world, "Late", "15:00", "23:30")
    ana = world.employee("ANA", employed_from="2026-11-01")
    _assign(world, ana, "Late", "2026-11-10")  # D = 10 November
    clock.set(datetime(2026, 11, 20, 12, tzinfo=UTC))
    for at in ("2026-11-09T16:00:00Z", "2026-11-10T00:30:00Z", "2026-11-10T15:00:00Z", "2026-11-10T23:30:00Z"):
        world.punch(ana, at)
    before = world.day(ana, "2026-11-09")
    assert _shape(before) == ("off_day", 510, [("2026-11-09T16:00", "in"), ("2026-11-10T00:30", "out")])
    assert before["shift_id"] is None and all(p["status"] == "off_shift" for p in before["punches"])
    assert _shape(world.day(ana, "2026-11-10")) == (
        "present", 510, [("2026-11-10T15:00", "in"), ("2026-11-10T23:30", "out")])


def test_a_night_shift_assigned_week_by_week_keeps_the_sunday_night_apart(world, clock):
    """Bug 1, second repro: 22:00–06:00 assigned a week at a time from Monday; the Sunday night before the first
    Monday is an off-shift day of its own, the Monday a normal night."""
    clock.set(datetime(2026, 11, 20, 12, tzinfo=UTC))
    _utc_shift(world, "Night UTC", "22:00", "06:00")
    owl = world.employee("OWL", employed_from="2026-11-01")
    _assign(world, owl, "Night UTC", "2026-11-09", "2026-11-15")  # Monday 9 .. Sunday 15
    _assign(world, owl, "Night UTC", "2026-11-16", "2026-11-22")
    for at in ("2026-11-08T22:00:00Z", "2026-11-09T06:00:00Z", "2026-11-09T22:00:00Z", "2026-11-10T06:00:00Z"):
        world.punch(owl, at)
    assert _shape(world.day(owl, "2026-11-08")) == (
        "off_day", 480, [("2026-11-08T22:00", "in"), ("2026-11-09T06:00", "out")])
    monday = world.day(owl, "2026-11-09")
    assert _shape(monday) == ("present", 480, [("2026-11-09T22:00", "in"), ("2026-11-10T06:00", "out")])
    # the same punches replayed through a retroactive assignment (rework_user_days) land the same way
    _assign(world, owl, "Night UTC", "2026-11-23")
    assert _shape(world.day(owl, "2026-11-08"))[1] == 480 and world.day(owl, "2026-11-09")["status"] == "present"


def test_early_leave_never_exceeds_the_shift_and_a_day_outside_it_is_absent(world, clock):
    """Bug 2: in 04:20, out 04:27 on a 09:00–17:00 shift gave early_leave_minutes 752 and `present`."""
    clock.set(datetime(2026, 11, 24, 12, tzinfo=UTC))
    world.new_shift(**madrid_shift(break_minutes=0))
    bo = world.employee("BO", "Madrid day", employed_from="2026-11-01")
    world.punch(bo, "2026-11-24T04:20:00+01:00")
    world.punch(bo, "2026-11-24T04:27:00+01:00")
    assert world.day(bo, "2026-11-24")["early_leave_minutes"] == 0  # open: the last out is not known yet
    clock.set(datetime(2026, 11, 24, 17, tzinfo=UTC))  # 18:00 Madrid
    world.close()
    day = world.day(bo, "2026-11-24")
    assert day["early_leave_minutes"] == 8 * 60  # capped at the shift's length
    assert day["worked_minutes"] == 7 and day["status"] == "absent"  # no minute inside the shift
    # a late arrival after the shift's end is capped the same way
    world.punch(bo, "2026-11-23T18:00:00+01:00")
    world.punch(bo, "2026-11-23T18:30:00+01:00")
    monday = world.day(bo, "2026-11-23")
    assert monday["late_minutes"] == 8 * 60 and monday["overtime_minutes"] == 90 and monday["status"] == "absent"


def test_a_lunch_out_is_not_flashed_as_early_leave_but_the_last_out_is_judged_at_closing(world, clock):
    """Bug 3: judge early leave on the day's last out, not on each out while the day is open."""
    world.new_shift(**madrid_shift())
    cy = world.employee("CY", "Madrid day")
    clock.set(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))  # 09:00
    world.check(cy)
    clock.set(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))  # 13:00 lunch out
    out = world.check(cy).json()["punch"]
    assert out["kind"] == "out" and out["status"] == "on_time"
    assert world.day(cy, "2026-11-25")["early_leave_minutes"] == 0
    # she never comes back: once the day closes, that out is her departure and an early leave
    clock.set(datetime(2026, 11, 25, 16, 6, tzinfo=UTC))  # 17:06, past end + grace
    world.close()
    day = world.day(cy, "2026-11-25")
    assert day["early_leave_minutes"] == 4 * 60 and day["punches"][-1]["status"] == "early_leave"
