"""GET /api/v1/attendance/today: where each person stands now, per site (the console's Today page)."""
from __future__ import annotations

from datetime import datetime

from tests.fixtures.world import UTC, error_code, madrid_shift
from tests.fixtures.api import user_headers


def _today(world, headers=None, **params):
    r = world.client.get("/api/v1/attendance/today", params=params, headers=headers or world.admin)
    assert r.status_code == 200, r.text
    return r.json()


def _states(body) -> dict[str, tuple[str, bool]]:
    return {p["employee_code"]: (p["state"], p["late"]) for p in body["people"] if p["employee_code"] != "ADMIN"}


def _at(world, clock, user, when: datetime):
    clock.set(when)
    r = world.check(user)
    assert r.status_code == 200 and r.json()["decision"] == "recognized", r.text
    return r.json()["punch"]


def test_the_day_as_it_goes(world, clock):
    world.new_shift(**madrid_shift())  # 09:00-17:00 Madrid (UTC+1), grace 5 min, every day
    ana = world.employee("ANA", "Madrid day", valid_from="2026-11-25", site="north")
    bob = world.employee("BOB", "Madrid day", valid_from="2026-11-25", site="north")
    world.employee("CARLA", "Madrid day", valid_from="2026-11-25", site="south")
    world.employee("DAN", site="north")  # no shift
    gone = world.employee("GONE", "Madrid day", valid_from="2026-11-25", site="north")
    r = world.client.patch(f"/api/v1/users/{gone['id']}", json={"is_active": False}, headers=world.admin)
    assert r.status_code == 200, r.text

    body = _today(world)  # 08:00 in Madrid: nobody is due yet
    assert _states(body) == {"ANA": ("expected", False), "BOB": ("expected", False), "CARLA": ("expected", False),
                             "DAN": ("off", False)}  # the deactivated user is not listed
    ana_row = next(p for p in body["people"] if p["employee_code"] == "ANA")
    assert ana_row["work_date"] == "2026-11-25" and ana_row["timezone"] == "Europe/Madrid"
    assert ana_row["shift_name"] == "Madrid day" and ana_row["shift_start"].startswith("2026-11-25T08:00:00")
    assert [p["site"] or "" for p in body["people"]] == sorted(p["site"] or "" for p in body["people"])  # by site

    _at(world, clock, ana, datetime(2026, 11, 25, 7, 55, tzinfo=UTC))  # 08:55 Madrid
    clock.set(datetime(2026, 11, 25, 8, 30, tzinfo=UTC))  # 09:30 Madrid
    body = _today(world)
    assert _states(body) == {"ANA": ("in", False), "BOB": ("missing", True), "CARLA": ("missing", True),
                             "DAN": ("off", False)}
    ana_row = next(p for p in body["people"] if p["employee_code"] == "ANA")
    assert ana_row["last_punch"]["kind"] == "in" and ana_row["last_punch"]["source"] == "kiosk"
    assert ana_row["first_in"].startswith("2026-11-25T07:55:00")
    assert body["counts"]["north"] == {"in": 1, "missing": 1, "late": 1, "off": 1}
    assert body["counts"]["south"] == {"missing": 1, "late": 1}

    _at(world, clock, bob, datetime(2026, 11, 25, 8, 40, tzinfo=UTC))  # 09:40 Madrid: late by 40 minutes
    _at(world, clock, ana, datetime(2026, 11, 25, 11, 0, tzinfo=UTC))  # out at noon
    body = _today(world)
    assert _states(body)["ANA"] == ("left", False)
    bob_row = next(p for p in body["people"] if p["employee_code"] == "BOB")
    assert (bob_row["state"], bob_row["late"], bob_row["late_minutes"], bob_row["status"]) == ("in", True, 40, "late")

    clock.set(datetime(2026, 11, 25, 16, 10, tzinfo=UTC))  # 17:10 Madrid: the day has closed (17:00 + 5 min)
    body = _today(world)
    # the day in progress is still the 25th (a day shift's work day starts at 01:00), now closed: BOB's open in is
    # no longer "in", CARLA never came
    assert _states(body) == {"ANA": ("left", False), "BOB": ("left", True), "CARLA": ("absent", False),
                             "DAN": ("off", False)}


def test_a_night_shift_after_midnight_is_the_evening_work_day(world, clock):
    world.new_shift(**madrid_shift(name="Late night", start="22:00", end="06:00", break_minutes=0))
    eve = world.employee("EVE", "Late night", valid_from="2026-11-25", site="north")
    _at(world, clock, eve, datetime(2026, 11, 25, 20, 58, tzinfo=UTC))  # 21:58 Madrid
    clock.set(datetime(2026, 11, 26, 1, 0, tzinfo=UTC))  # 02:00 Madrid, the next calendar day
    [row] = [p for p in _today(world)["people"] if p["employee_code"] == "EVE"]
    assert (row["state"], row["work_date"], row["late"]) == ("in", "2026-11-25", False)


def test_a_manager_sees_their_site_only(world, clock):
    world.new_shift(**madrid_shift())
    world.employee("ANA", "Madrid day", valid_from="2026-11-25", site="north")
    world.employee("CARLA", "Madrid day", valid_from="2026-11-25", site="south")
    _, manager = user_headers(world.client, world.admin, code="MGR", role="manager", site="north")
    assert set(_states(_today(world, manager))) == {"ANA", "MGR"}
    assert set(_states(_today(world, manager, site="south"))) == set()  # the filter cannot widen the view
    assert set(_states(_today(world, site="south"))) == {"CARLA"}  # an admin picks a site
    assert "ADMIN" in {p["employee_code"] for p in _today(world, site="")["people"]}  # '' = people without a site

    _, employee = user_headers(world.client, world.admin, code="EMP", site="north")
    r = world.client.get("/api/v1/attendance/today", headers=employee)
    assert r.status_code == 403 and error_code(r) == "forbidden"
    r = world.client.get("/api/v1/attendance/today")
    assert r.status_code == 401


def test_leave_holidays_and_marks_show_on_today(world, clock):
    world.new_shift(**madrid_shift())
    ana = world.employee("ANA", "Madrid day", valid_from="2026-11-25", site="north")
    bob = world.employee("BOB", "Madrid day", valid_from="2026-11-25", site="north")
    world.employee("CARLA", "Madrid day", valid_from="2026-11-25", site="south")
    dan = world.employee("DAN", "Madrid day", valid_from="2026-11-25", site="north")
    eve = world.employee("EVE", "Madrid day", valid_from="2026-11-25", site="north")

    def ok(r, code=201):
        assert r.status_code == code, r.text

    ok(world.client.post("/api/v1/leaves", headers=world.admin, json={
        "user_id": ana["id"], "from": "2026-11-25", "to": "2026-11-27", "kind": "vacation", "reason": "booked"}))
    ok(world.client.post("/api/v1/leaves", headers=world.admin, json={
        "user_id": eve["id"], "from": "2026-11-25", "to": "2026-11-25", "kind": "personal", "half": "am",
        "reason": "doctor"}))
    ok(world.client.post("/api/v1/holidays", headers=world.admin,
                         json={"date": "2026-11-25", "name": "Fiesta local", "site": "south"}))
    ok(world.client.put(f"/api/v1/attendance/days/{bob['id']}/2026-11-25", headers=world.admin,
                        json={"status": "remote", "reason": "works from home today"}), 200)
    clock.set(datetime(2026, 11, 25, 8, 30, tzinfo=UTC))  # 09:30 Madrid
    _at(world, clock, dan, datetime(2026, 11, 25, 7, 58, tzinfo=UTC))
    clock.set(datetime(2026, 11, 25, 8, 30, tzinfo=UTC))
    body = _today(world)
    rows = {p["employee_code"]: p for p in body["people"]}
    assert (rows["ANA"]["state"], rows["ANA"]["leave_kind"], rows["ANA"]["late"]) == ("on_leave", "vacation", False)
    assert (rows["BOB"]["state"], rows["BOB"]["mark"]) == ("remote", "remote")
    assert (rows["CARLA"]["state"], rows["CARLA"]["holiday"]) == ("holiday", "Fiesta local")
    assert rows["DAN"]["state"] == "in" and rows["DAN"]["holiday"] is None  # the holiday is the south site's
    assert (rows["EVE"]["leave_kind"], rows["EVE"]["leave_half"]) == ("personal", "am")  # a half day: still due
    assert body["counts"]["north"]["on_leave"] == 1 and body["counts"]["south"] == {"holiday": 1}
