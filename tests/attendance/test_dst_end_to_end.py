"""Daylight-saving end through the kiosk endpoint: Europe/Madrid, Sunday 25 October 2026 (03:00 CEST → 02:00 CET)."""
from __future__ import annotations

from datetime import datetime

from tests.fixtures.world import UTC, madrid_shift


def _day(world, user, day):
    r = world.client.get(f"/api/v1/attendance/days?user_id={user['id']}&from={day}&to={day}&include_punches=true",
                         headers=world.admin)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert len(items) == 1, items
    return items[0]


def test_day_shift_on_the_dst_sunday(world, clock):
    clock.set(datetime(2026, 10, 20, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift("Madrid 8-17", "08:00", "17:00", break_minutes=60))
    ana = world.employee("ANA", "Madrid 8-17", valid_from="2026-10-01")
    clock.set(datetime(2026, 10, 25, 18, 0, tzinfo=UTC))  # the kiosk comes back online on Sunday evening
    r = world.check(ana, captured_at="2026-10-25T08:00:00+01:00")  # winter time already (since 03:00)
    assert r.status_code == 200, r.text
    p = r.json()["punch"]
    assert p["kind"] == "in" and p["status"] == "on_time" and p["at"] == "2026-10-25T07:00:00+00:00"
    assert p["local_time"] == "2026-10-25T08:00:00+01:00" and p["work_date"] == "2026-10-25"
    out = world.check(ana, captured_at="2026-10-25T17:00:00+01:00").json()["punch"]
    assert out["kind"] == "out" and out["status"] == "on_time"
    day = _day(world, ana, "2026-10-25")
    assert day["status"] == "present" and day["worked_minutes"] == 9 * 60 - 60
    assert day["late_minutes"] == 0 and day["early_leave_minutes"] == 0 and day["overtime_minutes"] == 0
    assert day["details"]["scheduled_minutes"] == 9 * 60 - 60


def test_night_shift_across_the_change_counts_the_extra_hour(world, clock):
    clock.set(datetime(2026, 10, 20, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift("Madrid night", "22:00", "06:00", break_minutes=30))
    owl = world.employee("OWL", "Madrid night", valid_from="2026-10-01")
    clock.set(datetime(2026, 10, 25, 9, 0, tzinfo=UTC))
    inn = world.check(owl, captured_at="2026-10-24T22:00:00+02:00").json()["punch"]  # Saturday, summer time
    assert inn["kind"] == "in" and inn["status"] == "on_time" and inn["work_date"] == "2026-10-24"
    out = world.check(owl, captured_at="2026-10-25T06:00:00+01:00").json()["punch"]  # Sunday, winter time
    assert out["kind"] == "out" and out["status"] == "on_time" and out["work_date"] == "2026-10-24"
    assert out["local_time"] == "2026-10-25T06:00:00+01:00"
    day = _day(world, owl, "2026-10-24")
    # 22:00 → 06:00 on the wall clock is 9 real hours that night
    assert day["worked_minutes"] == 9 * 60 - 30 and day["status"] == "present"
    assert day["overtime_minutes"] == 0 and day["early_leave_minutes"] == 0
    assert day["first_in_local"] == "2026-10-24T22:00:00+02:00" and day["last_out_local"] == "2026-10-25T06:00:00+01:00"
    # leaving at 05:00 winter time is one hour early (the repeated hour is no excuse)
    world.client.patch(f"/api/v1/attendance/punches/{out['id']}", headers=world.admin,
                       json={"at": "2026-10-25T05:00:00+01:00", "reason": "left early"})
    day = _day(world, owl, "2026-10-24")
    assert day["early_leave_minutes"] == 60 and day["worked_minutes"] == 8 * 60 - 30
