"""Kinds re-derived when punches arrive out of order (offline kiosks), explicit kinds kept, and per-punch statuses
that judge only the arrival and the departure (a lunch break is not a late arrival)."""
from __future__ import annotations

from datetime import datetime

from tests.fixtures.world import UTC, madrid_shift


def _punches(world, user, day="2026-11-25"):
    r = world.client.get(f"/api/v1/attendance/punches?user_id={user['id']}&from={day}&to={day}",
                         headers=world.admin)
    assert r.status_code == 200, r.text
    return [(p["local_time"][11:16], p["kind"], p["status"]) for p in r.json()["items"] if not p["voided_at"]]


def _day(world, user, day="2026-11-25"):
    r = world.client.get(f"/api/v1/attendance/days?user_id={user['id']}&from={day}&to={day}", headers=world.admin)
    items = r.json()["items"]
    return items[0] if items else None


def test_offline_punch_uploaded_late_rederives_the_kinds(world, clock):
    world.new_shift(**madrid_shift())  # 09:00-17:00 Madrid, grace 5, break 60
    ana = world.employee("ANA", "Madrid day")
    # the kiosk was offline in the morning: her 08:58 check-in is queued; online again at 17:01
    clock.set(datetime(2026, 11, 25, 16, 1, tzinfo=UTC))  # 17:01 Madrid
    evening = world.check(ana).json()["punch"]
    assert evening["kind"] == "in"  # the only punch of the day so far
    clock.set(datetime(2026, 11, 25, 16, 3, tzinfo=UTC))
    r = world.check(ana, captured_at="2026-11-25T08:58:00+01:00")  # the queue is uploaded
    assert r.status_code == 200, r.text
    morning = r.json()["punch"]
    assert morning["kind"] == "in" and morning["status"] == "on_time" and morning["work_date"] == "2026-11-25"
    assert _punches(world, ana) == [("08:58", "in", "on_time"), ("17:01", "out", "on_time")]
    day = _day(world, ana)
    assert day["status"] == "present" and day["worked_minutes"] == 8 * 60 + 3 - 60
    assert day["first_in_local"].startswith("2026-11-25T08:58") and day["last_out_local"].startswith("2026-11-25T17:01")


def test_response_shows_the_kind_the_punch_ends_up_with(world, clock):
    """A late upload in the middle of a day: the answer shows its place in the day, and the punches after it flip."""
    world.new_shift(**madrid_shift())
    bo = world.employee("BO", "Madrid day")
    clock.set(datetime(2026, 11, 25, 7, 58, tzinfo=UTC))  # 08:58
    assert world.check(bo).json()["punch"]["kind"] == "in"
    clock.set(datetime(2026, 11, 25, 16, 2, tzinfo=UTC))  # 17:02 (her 12:00 and 13:00 punches were queued)
    assert world.check(bo).json()["punch"]["kind"] == "out"
    clock.advance(minutes=1)
    lunch_out = world.check(bo, captured_at="2026-11-25T12:00:00+01:00").json()["punch"]
    assert lunch_out["kind"] == "out"
    assert _punches(world, bo) == [("08:58", "in", "on_time"), ("12:00", "out", "on_time"),
                                   ("17:02", "in", "on_time")]  # until the 13:00 punch arrives
    back = world.check(bo, captured_at="2026-11-25T13:00:00+01:00").json()["punch"]
    assert back["kind"] == "in" and back["status"] == "on_time"
    assert _punches(world, bo) == [("08:58", "in", "on_time"), ("12:00", "out", "on_time"),
                                   ("13:00", "in", "on_time"), ("17:02", "out", "on_time")]
    day = _day(world, bo)
    assert day["status"] == "present" and day["worked_minutes"] == 8 * 60 + 4 - 60  # the hour taken is the break


def test_manual_and_corrected_kinds_are_kept(world, clock):
    world.new_shift(**madrid_shift())
    cy = world.employee("CY", "Madrid day")
    clock.set(datetime(2026, 11, 25, 7, 59, tzinfo=UTC))  # 08:59
    first = world.check(cy).json()["punch"]
    # a manager records that she left at 12:00 and came back at 13:00 (kinds given explicitly)
    clock.set(datetime(2026, 11, 25, 16, 30, tzinfo=UTC))
    for at, kind in (("2026-11-25T12:00:00+01:00", "out"), ("2026-11-25T13:00:00+01:00", "in")):
        r = world.client.post("/api/v1/attendance/punches", headers=world.admin,
                              json={"user_id": cy["id"], "at": at, "kind": kind, "reason": "badge at home"})
        assert r.status_code == 201 and r.json()["punch"]["kind_fixed"] is True
    out = world.check(cy).json()["punch"]  # 17:30: automatic, the next after a fixed "in"
    assert out["kind"] == "out"
    # the kiosk's first punch is corrected to an "out" (say, she had badged on leaving the night before)
    r = world.client.patch(f"/api/v1/attendance/punches/{first['id']}", headers=world.admin,
                           json={"kind": "out", "reason": "wrong button"})
    assert r.status_code == 200 and r.json()["punch"]["kind_fixed"] is True
    assert [k for _, k, _ in _punches(world, cy)] == ["out", "out", "in", "out"]
    # a later upload recomputes the day: the fixed kinds stay, the automatic 17:30 keeps following them
    clock.advance(minutes=5)
    world.check(cy, captured_at="2026-11-25T15:00:00+01:00")
    assert _punches(world, cy) == [("08:59", "out", "on_time"), ("12:00", "out", "on_time"),
                                   ("13:00", "in", "late"), ("15:00", "out", "on_time"),
                                   ("17:30", "in", "on_time")]


def test_a_lunch_break_is_not_late_nor_early_leave(world, clock):
    world.new_shift(**madrid_shift())
    dee = world.employee("DEE", "Madrid day")
    clock.set(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))  # 09:00
    assert world.check(dee).json()["punch"]["status"] == "on_time"
    clock.set(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))  # 13:00: lunch, not an early leave (issue 13, bug 3)
    assert world.check(dee).json()["punch"]["status"] == "on_time"
    assert _day(world, dee)["early_leave_minutes"] == 0  # the day is open: its last out is not known yet
    clock.set(datetime(2026, 11, 25, 13, 0, tzinfo=UTC))  # 14:00: back from lunch, after start + grace
    back = world.check(dee).json()["punch"]
    assert back["kind"] == "in" and back["status"] == "on_time"
    clock.set(datetime(2026, 11, 25, 16, 2, tzinfo=UTC))  # 17:02
    assert world.check(dee).json()["punch"]["status"] == "on_time"
    assert _punches(world, dee) == [("09:00", "in", "on_time"), ("13:00", "out", "on_time"),
                                    ("14:00", "in", "on_time"), ("17:02", "out", "on_time")]
    day = _day(world, dee)
    assert day["status"] == "present" and day["late_minutes"] == 0 and day["early_leave_minutes"] == 0
    assert day["worked_minutes"] == 7 * 60 + 2  # the hour of lunch covers the 60-minute break allowance


def test_late_and_overtime_are_judged_on_arrival_and_departure(world, clock):
    world.new_shift(**madrid_shift())
    eve = world.employee("EVE", "Madrid day")
    clock.set(datetime(2026, 11, 25, 8, 20, tzinfo=UTC))  # 09:20: late
    world.check(eve)
    clock.set(datetime(2026, 11, 25, 11, 0, tzinfo=UTC))  # 12:00 out, 12:30 in
    world.check(eve)
    clock.advance(minutes=30)
    world.check(eve)
    clock.set(datetime(2026, 11, 25, 17, 0, tzinfo=UTC))  # 18:00: overtime
    world.check(eve)
    assert _punches(world, eve) == [("09:20", "in", "late"), ("12:00", "out", "on_time"),
                                    ("12:30", "in", "on_time"), ("18:00", "out", "overtime")]
    day = _day(world, eve)
    assert day["status"] == "late" and day["late_minutes"] == 20 and day["overtime_minutes"] == 60
