"""Leave: whole days on_leave with their kind (holidays and days off stay what they are), half days that halve
what the day expects, overlaps, attendance already recorded, employment, cancelling; DST and overnight shifts."""
from __future__ import annotations

from datetime import datetime

from tests.fixtures.world import UTC, error_code, madrid_shift


def _leave(world, user, first, last=None, kind="vacation", half=None, reason="approved by HR", expect=201):
    body = {"user_id": user["id"], "from": first, "to": last or first, "kind": kind, "half": half, "reason": reason}
    r = world.client.post("/api/v1/leaves", json=body, headers=world.admin)
    assert r.status_code == expect, r.text
    return r.json() if expect == 201 else r


def test_a_week_of_vacation_around_a_holiday_and_a_weekend(world, clock):
    clock.set(datetime(2026, 11, 30, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift(weekdays=[0, 1, 2, 3, 4]))
    ana = world.employee("ANA", "Madrid day", employed_from="2026-11-01")
    world.client.post("/api/v1/holidays", json={"date": "2026-12-08", "name": "Inmaculada"}, headers=world.admin)
    lv = _leave(world, ana, "2026-12-04", "2026-12-09")  # Fri 4 .. Wed 9, Tue 8 a holiday
    assert lv["status"] == "approved" and lv["kind"] == "vacation" and lv["half"] is None
    clock.set(datetime(2026, 12, 10, 20, tzinfo=UTC))
    world.close()
    statuses = {d: (world.day(ana, d) or {}).get("status") for d in
                ("2026-12-04", "2026-12-05", "2026-12-06", "2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10")}
    assert statuses == {"2026-12-04": "on_leave", "2026-12-05": None, "2026-12-06": None, "2026-12-07": "on_leave",
                        "2026-12-08": "holiday", "2026-12-09": "on_leave", "2026-12-10": "absent"}
    day = world.day(ana, "2026-12-07")
    assert day["leave_kind"] == "vacation" and day["leave_half"] is None and day["worked_minutes"] == 0
    assert world.day(ana, "2026-12-08")["leave_kind"] is None  # a holiday is not a day of leave
    # cancelling puts the days back to what the punches say, and is audited with its reason
    r = world.client.request("DELETE", f"/api/v1/leaves/{lv['id']}", json={"reason": "plans changed"},
                             headers=world.admin)
    assert r.status_code == 200 and r.json()["status"] == "cancelled" and r.json()["cancel_reason"] == "plans changed"
    assert world.day(ana, "2026-12-07")["status"] == "absent"
    again = world.client.delete(f"/api/v1/leaves/{lv['id']}?reason=twice", headers=world.admin)
    assert again.status_code == 409 and error_code(again) == "leave_cancelled"
    audit = world.client.get("/api/v1/audit?entity=leave", headers=world.admin).json()["items"]
    assert [e["action"] for e in audit] == ["leaves.cancel", "leaves.create"]
    assert audit[0]["before"]["cancelled_at"] is None and audit[0]["after"]["cancelled_at"]
    listed = world.client.get("/api/v1/leaves?from=2026-12-01&to=2026-12-31&include_cancelled=true",
                              headers=world.admin).json()
    assert listed["total"] == 1 and listed["items"][0]["status"] == "cancelled"


def test_a_morning_off_judges_the_afternoon_only(world, clock):
    clock.set(datetime(2026, 11, 30, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift())  # 09–17, break 60, grace 5
    bo = world.employee("BO", "Madrid day", employed_from="2026-11-01")
    _leave(world, bo, "2026-12-01", half="am", kind="personal")
    clock.set(datetime(2026, 12, 1, 12, 3, tzinfo=UTC))  # 13:03: on time for the afternoon
    assert world.check(bo).json()["punch"]["status"] == "on_time"
    clock.set(datetime(2026, 12, 1, 16, 0, tzinfo=UTC))  # 17:00
    world.check(bo)
    clock.set(datetime(2026, 12, 1, 18, tzinfo=UTC))
    world.close()
    day = world.day(bo, "2026-12-01")
    assert day["status"] == "present" and day["leave_kind"] == "personal" and day["leave_half"] == "am"
    assert day["late_minutes"] == 0 and day["early_leave_minutes"] == 0
    assert day["worked_minutes"] == 237 - 30  # half the 60-minute break allowance
    assert day["details"]["scheduled_minutes"] == 240 - 30


def test_an_afternoon_off_is_no_early_leave_and_missing_the_morning_is_absent(world, clock):
    clock.set(datetime(2026, 11, 30, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift(break_minutes=0))
    cy = world.employee("CY", "Madrid day", employed_from="2026-11-01")
    _leave(world, cy, "2026-12-01", half="pm", kind="sick")
    _leave(world, cy, "2026-12-02", half="pm", kind="sick")
    clock.set(datetime(2026, 12, 3, 12, tzinfo=UTC))
    world.punch(cy, "2026-12-01T09:00:00+01:00")
    world.punch(cy, "2026-12-01T13:00:00+01:00")
    world.close()
    worked = world.day(cy, "2026-12-01")
    assert worked["status"] == "present" and worked["early_leave_minutes"] == 0 and worked["worked_minutes"] == 240
    missed = world.day(cy, "2026-12-02")
    assert missed["status"] == "absent" and missed["leave_kind"] == "sick" and missed["leave_half"] == "pm"


def test_two_halves_make_a_whole_day_and_other_overlaps_are_refused(world, clock):
    clock.set(datetime(2026, 11, 30, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift())
    dee = world.employee("DEE", "Madrid day", employed_from="2026-11-01")
    _leave(world, dee, "2026-12-01", half="am", kind="personal")
    _leave(world, dee, "2026-12-01", half="pm", kind="vacation")
    r = _leave(world, dee, "2026-11-30", "2026-12-02", expect=409)
    assert error_code(r) == "leave_overlap" and r.json()["error"]["existing"]["half"] in ("am", "pm")
    assert error_code(_leave(world, dee, "2026-12-01", half="am", expect=409)) == "leave_overlap"
    clock.set(datetime(2026, 12, 1, 18, tzinfo=UTC))
    world.close()
    day = world.day(dee, "2026-12-01")
    assert day["status"] == "on_leave" and day["leave_half"] is None and day["leave_kind"] == "personal"


def test_whole_day_leave_over_punches_or_outside_employment_is_refused(world, clock):
    clock.set(datetime(2026, 11, 30, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift())
    eve = world.employee("EVE", "Madrid day", employed_from="2026-11-20")
    world.punch(eve, "2026-11-27T09:00:00+01:00")
    r = _leave(world, eve, "2026-11-26", "2026-11-28", expect=409)
    assert error_code(r) == "attendance_recorded" and r.json()["error"]["dates"] == ["2026-11-27"]
    _leave(world, eve, "2026-11-27", half="pm")  # a half day goes with the other half's punches
    r = _leave(world, eve, "2026-11-18", "2026-11-21", expect=422)
    assert error_code(r) == "outside_employment" and r.json()["error"]["employed_from"] == "2026-11-20"
    assert _leave(world, eve, "2026-12-02", "2026-12-01", expect=422).status_code == 422
    assert _leave(world, eve, "2026-12-01", "2026-12-02", half="am", expect=422).status_code == 422
    assert _leave(world, eve, "2026-12-01", kind="holiday", expect=422).status_code == 422
    assert _leave(world, eve, "2026-12-01", reason="  ", expect=422).status_code == 422


def test_half_a_dst_night_on_leave(world, clock):
    """Saturday 24 October 2026, Madrid night 22:00 CEST → 06:00 CET lasts 9 hours: its first half ends at
    02:30 CEST (00:30 UTC); with the second half on leave, leaving then is no early leave."""
    clock.set(datetime(2026, 10, 20, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift("Madrid night", "22:00", "06:00", break_minutes=0))
    owl = world.employee("OWL", "Madrid night", employed_from="2026-10-01")
    _leave(world, owl, "2026-10-24", half="pm", kind="personal")
    clock.set(datetime(2026, 10, 26, 12, tzinfo=UTC))
    world.punch(owl, "2026-10-24T22:00:00+02:00")
    world.punch(owl, "2026-10-25T02:30:00+02:00")
    world.close()
    day = world.day(owl, "2026-10-24")
    assert day["status"] == "present" and day["worked_minutes"] == 270 and day["early_leave_minutes"] == 0
    assert day["details"]["shift_end"] == "2026-10-25T00:30:00+00:00"
    # a whole night of leave the next Saturday
    _leave(world, owl, "2026-10-31", kind="vacation")
    clock.set(datetime(2026, 11, 2, 12, tzinfo=UTC))
    world.close()
    assert world.day(owl, "2026-10-31")["status"] == "on_leave"


def test_the_employee_sees_its_leave_in_its_own_days_and_list(world, clock):
    from tests.fixtures.api import PASSWORD, bearer, login

    clock.set(datetime(2026, 11, 30, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift())
    fay = world.employee("FAY", "Madrid day", employed_from="2026-11-01")
    other = world.employee("GUS", "Madrid day", employed_from="2026-11-01")
    _leave(world, fay, "2026-11-23", "2026-11-24", kind="sick")
    _leave(world, other, "2026-11-23", kind="vacation")
    world.close()
    me = bearer(login(world.client, "FAY", PASSWORD)["access_token"])
    days = world.client.get("/api/v1/attendance/me?from=2026-11-23&to=2026-11-24", headers=me).json()["items"]
    assert [(d["status"], d["leave_kind"]) for d in days] == [("on_leave", "sick"), ("on_leave", "sick")]
    mine = world.client.get("/api/v1/leaves?from=2026-11-01&to=2026-11-30", headers=me).json()
    assert [x["user_id"] for x in mine["items"]] == [fay["id"]]  # never another's
    assert world.client.post("/api/v1/leaves", json={"user_id": fay["id"], "from": "2026-12-01", "to": "2026-12-01",
                                                     "kind": "sick", "half": None, "reason": "x"},
                             headers=me).status_code == 403


def test_a_day_marked_ahead_gets_the_leave_too(world, clock):
    clock.set(datetime(2026, 11, 30, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift())
    hal = world.employee("HAL", "Madrid day", employed_from="2026-11-01")
    r = world.client.put(f"/api/v1/attendance/days/{hal['id']}/2026-12-10",
                         json={"status": "on_leave", "reason": "told us ahead"}, headers=world.admin)
    assert r.status_code == 200 and r.json()["work_day"]["leave_kind"] is None
    _leave(world, hal, "2026-12-09", "2026-12-11", kind="personal")
    day = world.day(hal, "2026-12-10")
    assert day["status"] == "on_leave" and day["marked"] and day["leave_kind"] == "personal"
    assert world.day(hal, "2026-12-09") is None  # nothing recorded ahead without a mark
