"""Whole-day marks (PUT / DELETE /attendance/days/{user_id}/{date}) and the half-day / absent thresholds of shifts."""
from __future__ import annotations

from datetime import datetime

from tests.fixtures.world import UTC, error_code, madrid_shift
from tests.fixtures.api import PASSWORD, bearer, login


def _mark(world, user, day, status, reason="off-site meeting", headers=None):
    return world.client.put(f"/api/v1/attendance/days/{user['id']}/{day}", json={"status": status, "reason": reason},
                            headers=headers or world.admin)


def test_a_mark_overrides_the_punches_and_removing_it_gives_them_back(world, clock):
    clock.set(datetime(2026, 11, 30, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift())
    ana = world.employee("ANA", "Madrid day", employed_from="2026-11-01")
    clock.set(datetime(2026, 11, 30, 18, tzinfo=UTC))
    world.close()
    assert world.day(ana, "2026-11-30")["status"] == "absent"
    r = _mark(world, ana, "2026-11-30", "present")
    assert r.status_code == 200, r.text
    day = r.json()["work_day"]
    assert day["status"] == "present" and day["marked"] and day["mark"]["reason"] == "off-site meeting"
    assert day["worked_minutes"] == 0  # minutes come from punches only
    assert world.day(ana, "2026-11-30")["mark"]["status"] == "present"
    r = _mark(world, ana, "2026-11-30", "remote", reason="worked from home")
    assert r.json()["work_day"]["status"] == "remote"
    r = world.client.request("DELETE", f"/api/v1/attendance/days/{ana['id']}/2026-11-30",
                             json={"reason": "mistake"}, headers=world.admin)
    assert r.status_code == 200 and r.json()["work_day"]["status"] == "absent"
    assert not r.json()["work_day"]["marked"]
    audit = world.client.get("/api/v1/audit?entity=work_day", headers=world.admin).json()["items"]
    assert [e["action"] for e in audit] == ["attendance.unmark", "attendance.mark", "attendance.mark"]
    assert audit[1]["before"]["status"] == "present" and audit[1]["after"]["status"] == "remote"
    missing = world.client.delete(f"/api/v1/attendance/days/{ana['id']}/2026-11-30?reason=x", headers=world.admin)
    assert missing.status_code == 404


def test_a_marked_late_day_is_not_late_and_keeps_its_minutes(world, clock):
    clock.set(datetime(2026, 11, 30, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift(break_minutes=0))
    bo = world.employee("BO", "Madrid day", employed_from="2026-11-01")
    clock.set(datetime(2026, 11, 30, 12, tzinfo=UTC))
    world.punch(bo, "2026-11-30T11:00:00+01:00")
    world.punch(bo, "2026-11-30T12:00:00+01:00")
    day = _mark(world, bo, "2026-11-30", "remote", reason="worked from home until 11").json()["work_day"]
    assert day["status"] == "remote" and day["late_minutes"] == 0 and day["worked_minutes"] == 60
    # a later punch recomputes the day: the mark stays
    world.punch(bo, "2026-11-30T12:30:00+01:00")
    assert world.day(bo, "2026-11-30")["status"] == "remote"


def test_marks_need_a_manager_a_reason_and_a_day_of_employment(world, clock):
    clock.set(datetime(2026, 11, 30, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift())
    cy = world.employee("CY", "Madrid day", employed_from="2026-11-10")
    employee = bearer(login(world.client, "CY", PASSWORD)["access_token"])
    assert _mark(world, cy, "2026-11-20", "present", headers=employee).status_code == 403
    assert _mark(world, cy, "2026-11-20", "present", reason="").status_code == 422
    assert _mark(world, cy, "2026-11-20", "late").status_code == 422
    r = _mark(world, cy, "2026-11-09", "present")
    assert r.status_code == 422 and error_code(r) == "outside_employment"


def test_thresholds_make_short_days_half_day_or_absent_once_closed(world, clock):
    clock.set(datetime(2026, 11, 30, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift(break_minutes=0, half_day_below_minutes=240, absent_below_minutes=60))
    users = {code: world.employee(code, "Madrid day", employed_from="2026-11-01") for code in ("A45", "H200", "P300")}
    clock.set(datetime(2026, 11, 30, 14, tzinfo=UTC))
    for code, minutes in (("A45", 45), ("H200", 200), ("P300", 300)):
        world.punch(users[code], "2026-11-30T09:00:00+01:00")
        world.punch(users[code], f"2026-11-30T{9 + minutes // 60:02d}:{minutes % 60:02d}:00+01:00")
    assert world.day(users["A45"], "2026-11-30")["status"] == "present"  # open: judged once the day closes
    clock.set(datetime(2026, 11, 30, 18, tzinfo=UTC))
    world.close()
    assert {c: world.day(u, "2026-11-30")["status"] for c, u in users.items()} == {
        "A45": "absent", "H200": "half_day", "P300": "present"}
    assert world.day(users["A45"], "2026-11-30")["worked_minutes"] == 45  # the minutes stay reported


def test_thresholds_are_halved_on_a_half_day_of_leave_and_validated(world, clock):
    clock.set(datetime(2026, 11, 30, 8, tzinfo=UTC))
    sid = world.new_shift(**madrid_shift(break_minutes=0, half_day_below_minutes=240))
    dee = world.employee("DEE", "Madrid day", employed_from="2026-11-01")
    r = world.client.post("/api/v1/leaves", json={"user_id": dee["id"], "from": "2026-11-30", "to": "2026-11-30",
                                                  "kind": "personal", "half": "pm", "reason": "doctor"},
                          headers=world.admin)
    assert r.status_code == 201, r.text
    clock.set(datetime(2026, 11, 30, 18, tzinfo=UTC))
    world.punch(dee, "2026-11-30T09:00:00+01:00")
    world.punch(dee, "2026-11-30T11:30:00+01:00")  # 150 ≥ 240 / 2
    assert world.day(dee, "2026-11-30")["status"] == "present"
    bad = world.client.patch(f"/api/v1/shifts/{sid}", json={"absent_below_minutes": 300}, headers=world.admin)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "absent_below_minutes"
    too_long = world.client.patch(f"/api/v1/shifts/{sid}", json={"half_day_below_minutes": 600}, headers=world.admin)
    assert too_long.status_code == 422
    cleared = world.client.patch(f"/api/v1/shifts/{sid}", json={"half_day_below_minutes": None}, headers=world.admin)
    assert cleared.status_code == 200 and cleared.json()["half_day_below_minutes"] is None


def test_thresholds_on_the_short_dst_night(world, clock):
    """Saturday 28 March 2026, Madrid night 22:00 CET → 06:00 CEST: 7 real hours. Thresholds are real minutes: the
    whole night (420) is above 360, leaving at 03:30 CEST (270 minutes) is a half day."""
    clock.set(datetime(2026, 3, 20, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift("Madrid night", "22:00", "06:00", break_minutes=0, half_day_below_minutes=360))
    whole = world.employee("WHOLE", "Madrid night", employed_from="2026-03-01")
    part = world.employee("PART", "Madrid night", employed_from="2026-03-01")
    clock.set(datetime(2026, 3, 30, 12, tzinfo=UTC))
    for user, out in ((whole, "2026-03-29T06:00:00+02:00"), (part, "2026-03-29T03:30:00+02:00")):
        world.punch(user, "2026-03-28T22:00:00+01:00")
        world.punch(user, out)
    world.close()
    night = world.day(whole, "2026-03-28")
    assert night["status"] == "present" and night["worked_minutes"] == 420
    short = world.day(part, "2026-03-28")
    assert short["status"] == "half_day" and short["worked_minutes"] == 270 and short["early_leave_minutes"] == 150
