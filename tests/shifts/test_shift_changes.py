"""Shift and assignment changes recompute the work days they affect; shift routes: overlaps, ids out of range,
kiosk keys, OpenAPI descriptions."""
from __future__ import annotations

from datetime import datetime

from tests.fixtures.world import UTC, error_code, madrid_shift


def _days(world, user, start, end):
    r = world.client.get(f"/api/v1/attendance/days?user_id={user['id']}&from={start}&to={end}&include_punches=true",
                         headers=world.admin)
    assert r.status_code == 200, r.text
    return {d["work_date"]: d for d in r.json()["items"]}


def _assign(world, user, shift, valid_from, valid_to=None, expect=200):
    body = {"shift_id": world.shift_id(shift), "valid_from": valid_from}
    if valid_to:
        body["valid_to"] = valid_to
    r = world.client.put(f"/api/v1/users/{user['id']}/shift", json=body, headers=world.admin)
    assert r.status_code == expect, r.text
    return r


def test_retroactive_night_assignment_moves_the_morning_out_to_the_evening(world, clock):
    world.new_shift(**madrid_shift("Madrid night", "22:00", "06:00", break_minutes=30))
    owl = world.employee("OWL", timezone="Europe/Madrid")  # no shift yet: work days are plain local dates
    clock.set(datetime(2026, 11, 25, 20, 58, tzinfo=UTC))  # Wed 21:58 Madrid
    world.check(owl)
    clock.set(datetime(2026, 11, 26, 5, 2, tzinfo=UTC))  # Thu 06:02 Madrid
    morning = world.check(owl).json()["punch"]
    assert morning["work_date"] == "2026-11-26" and morning["kind"] == "in"  # a new local day, so an "in"
    before = _days(world, owl, "2026-11-24", "2026-11-27")
    assert set(before) == {"2026-11-25", "2026-11-26"}

    clock.set(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    _assign(world, owl, "Madrid night", "2026-11-01")  # HR enters the night shift she has been working
    after = _days(world, owl, "2026-11-24", "2026-11-27")
    assert set(after) == {"2026-11-25"}  # Thursday's night has not begun: nothing to record for it yet
    wed = after["2026-11-25"]
    assert [(p["kind"], p["work_date"], p["status"]) for p in wed["punches"]] == [
        ("in", "2026-11-25", "on_time"), ("out", "2026-11-25", "on_time")]
    assert wed["status"] == "present" and wed["shift_name"] == "Madrid night"
    assert wed["worked_minutes"] == 8 * 60 + 4 - 30


def test_ending_an_assignment_recomputes_the_days_after_it(world, clock):
    world.new_shift(**madrid_shift())  # day 09-17 every day
    ana = world.employee("ANA", "Madrid day", valid_from="2026-11-01")
    clock.set(datetime(2026, 11, 26, 8, 20, tzinfo=UTC))  # Thu 09:20: late
    world.check(ana)
    assert _days(world, ana, "2026-11-26", "2026-11-26")["2026-11-26"]["status"] == "late"
    # from the 26th on she has no shift any more (a bounded assignment elsewhere ends the open-ended one)
    world.new_shift(**madrid_shift("Madrid early", "06:00", "14:00"))
    _assign(world, ana, "Madrid early", "2026-11-20", "2026-11-25")
    thu = _days(world, ana, "2026-11-26", "2026-11-26")["2026-11-26"]
    assert thu["status"] == "off_day" and thu["shift_id"] is None and thu["late_minutes"] == 0
    assert thu["punches"][0]["status"] == "off_shift"


def test_editing_a_shift_start_changes_late_minutes(world, clock):
    clock.set(datetime(2026, 10, 1, 8, tzinfo=UTC))
    sid = world.new_shift(**madrid_shift())  # 09:00-17:00, grace 5
    bo = world.employee("BO", "Madrid day", valid_from="2026-10-01")
    clock.set(datetime(2026, 10, 14, 7, 3, tzinfo=UTC))  # 09:03 CEST: on time
    world.check(bo)
    clock.set(datetime(2026, 11, 24, 8, 3, tzinfo=UTC))  # 09:03 CET: on time
    world.check(bo)
    clock.set(datetime(2026, 11, 24, 16, 0, tzinfo=UTC))
    world.check(bo)
    assert _days(world, bo, "2026-11-24", "2026-11-24")["2026-11-24"]["late_minutes"] == 0

    r = world.client.patch(f"/api/v1/shifts/{sid}", json={"start_time": "08:30"}, headers=world.admin)
    assert r.status_code == 200, r.text
    day = _days(world, bo, "2026-11-24", "2026-11-24")["2026-11-24"]
    assert day["status"] == "late" and day["late_minutes"] == 33 and day["punches"][0]["status"] == "late"
    # a day older than the recompute window (31 days) keeps the figures it was computed with
    old = _days(world, bo, "2026-10-14", "2026-10-14")["2026-10-14"]
    assert old["status"] == "present" and old["late_minutes"] == 0

    r = world.client.patch(f"/api/v1/shifts/{sid}", json={"grace_in_minutes": 40}, headers=world.admin)
    assert r.status_code == 200
    day = _days(world, bo, "2026-11-24", "2026-11-24")["2026-11-24"]
    assert day["status"] == "present" and day["late_minutes"] == 0
    r = world.client.patch(f"/api/v1/shifts/{sid}", json={"name": "Renamed"}, headers=world.admin)
    assert r.status_code == 200  # a name change touches no work day


def test_overlapping_assignments_are_refused(world, clock):
    world.new_shift(**madrid_shift())
    world.new_shift(**madrid_shift("Madrid night", "22:00", "06:00"))
    cy = world.employee("CY")
    _assign(world, cy, "Madrid day", "2026-01-01", "2026-03-31")
    _assign(world, cy, "Madrid night", "2026-04-01")  # open-ended, after it: fine
    for valid_from, valid_to in (("2026-03-31", "2026-04-02"), ("2025-12-01", None), ("2026-02-01", "2026-02-02"),
                                 ("2026-04-01", None)):
        r = _assign(world, cy, "Madrid day", valid_from, valid_to, expect=409)
        assert error_code(r) == "assignment_overlap" and r.json()["error"]["existing"]["id"]
    # the documented convenience: a later start ends the open-ended assignment the day before
    r = _assign(world, cy, "Madrid day", "2026-06-01")
    assert [(a["shift_name"], a["valid_from"], a["valid_to"]) for a in r.json()["history"]] == [
        ("Madrid day", "2026-01-01", "2026-03-31"), ("Madrid night", "2026-04-01", "2026-05-31"),
        ("Madrid day", "2026-06-01", None)]


def test_ids_out_of_range_are_422_and_unknown_ids_404(world, clock):
    sid = world.new_shift(**madrid_shift())
    ana = world.employee("ANA")
    c, admin = world.client, world.admin
    for big in (10**20, 2**31):
        assert c.get(f"/api/v1/shifts/{big}", headers=admin).status_code == 422
        assert c.patch(f"/api/v1/shifts/{big}", json={"grace_in_minutes": 1}, headers=admin).status_code == 422
        assert c.delete(f"/api/v1/shifts/{big}", headers=admin).status_code == 422
        assert c.get(f"/api/v1/users/{big}/shifts", headers=admin).status_code == 422
        r = c.put(f"/api/v1/users/{big}/shift", json={"shift_id": sid, "valid_from": "2026-01-01"}, headers=admin)
        assert r.status_code == 422
        r = c.put(f"/api/v1/users/{ana['id']}/shift", json={"shift_id": big, "valid_from": "2026-01-01"},
                  headers=admin)
        assert r.status_code == 422 and error_code(r) == "validation_error"
    top = 2**31 - 1
    assert c.get(f"/api/v1/shifts/{top}", headers=admin).status_code == 404
    r = c.put(f"/api/v1/users/{ana['id']}/shift", json={"shift_id": top, "valid_from": "2026-01-01"}, headers=admin)
    assert r.status_code == 404
    assert c.put(f"/api/v1/users/{top}/shift", json={"shift_id": sid, "valid_from": "2026-01-01"},
                 headers=admin).status_code == 404


def test_a_kiosk_key_is_refused_on_shift_routes(world, clock):
    sid = world.new_shift(**madrid_shift())
    ana = world.employee("ANA")
    key = {"X-Device-Key": world.device_key}
    c = world.client
    calls = [
        c.get("/api/v1/shifts", headers=key),
        c.get(f"/api/v1/shifts/{sid}", headers=key),
        c.post("/api/v1/shifts", json=madrid_shift("Other"), headers=key),
        c.patch(f"/api/v1/shifts/{sid}", json={"grace_in_minutes": 1}, headers=key),
        c.delete(f"/api/v1/shifts/{sid}", headers=key),
        c.put(f"/api/v1/users/{ana['id']}/shift", json={"shift_id": sid, "valid_from": "2026-01-01"}, headers=key),
        c.get(f"/api/v1/users/{ana['id']}/shifts", headers=key),
    ]
    for r in calls:
        assert r.status_code == 403 and error_code(r) == "forbidden", (r.request.method, r.request.url, r.text)
    shift = c.get(f"/api/v1/shifts/{sid}", headers=world.admin).json()
    assert shift["is_active"] and shift["grace_in_minutes"] == 5
    assert c.get(f"/api/v1/users/{ana['id']}/shifts", headers=world.admin).json() == []


def test_shift_routes_are_described_in_openapi(client):
    paths = client.get("/openapi.json").json()["paths"]
    expected = {("/api/v1/shifts", "get"): {"401", "403"}, ("/api/v1/shifts", "post"): {"409", "422"},
                ("/api/v1/shifts/{shift_id}", "get"): {"404", "422"},
                ("/api/v1/shifts/{shift_id}", "patch"): {"404", "409", "422"},
                ("/api/v1/shifts/{shift_id}", "delete"): {"404"},
                ("/api/v1/users/{user_id}/shift", "put"): {"403", "404", "409", "422"},
                ("/api/v1/users/{user_id}/shifts", "get"): {"403", "404"}}
    for (path, method), codes in expected.items():
        op = paths[path][method]
        assert op.get("summary"), (path, method)
        assert codes <= set(op["responses"]), (path, method, op["responses"].keys())
