"""Holidays: the API, the status `holiday` (never `absent`), minutes worked on a holiday as overtime, per-site
holidays, overnight and DST shifts around a holiday, and the .ics import."""
from __future__ import annotations

from datetime import datetime

from tests.fixtures.world import UTC, error_code, madrid_shift
from tests.fixtures.api import PASSWORD, bearer, create_user, login


def _add(world, date, name, site=None, headers=None, expect=201):
    body = {"date": date, "name": name}
    if site is not None:
        body["site"] = site
    r = world.client.post("/api/v1/holidays", json=body, headers=headers or world.admin)
    assert r.status_code == expect, r.text
    return r.json() if expect == 201 else r


def _manager(world, code, site):
    create_user(world.client, world.admin, code=code, role="manager", site=site)
    return bearer(login(world.client, code, PASSWORD)["access_token"])


def test_a_scheduled_holiday_closes_as_holiday_never_absent(world, clock):
    clock.set(datetime(2026, 12, 1, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift(weekdays=[0, 1, 2, 3, 4]))
    ana = world.employee("ANA", "Madrid day", employed_from="2026-11-01")
    h = _add(world, "2026-12-08", "Inmaculada Concepción")
    assert h["site"] is None and h["date"] == "2026-12-08"
    clock.set(datetime(2026, 12, 8, 20, tzinfo=UTC))  # Tuesday evening: the day is over
    world.close()
    day = world.day(ana, "2026-12-08")
    assert day["status"] == "holiday" and day["holiday"] == "Inmaculada Concepción"
    assert day["worked_minutes"] == 0 and day["late_minutes"] == 0 and day["closed"]
    # deleting the holiday makes the day what its punches say: absent
    r = world.client.delete(f"/api/v1/holidays/{h['id']}?reason=wrong%20date", headers=world.admin)
    assert r.status_code == 204
    assert world.day(ana, "2026-12-08")["status"] == "absent"
    entries = world.client.get("/api/v1/audit?entity=holiday", headers=world.admin).json()["items"]
    assert [e["action"] for e in entries] == ["holidays.delete", "holidays.create"]
    assert entries[0]["before"]["name"] == "Inmaculada Concepción" and entries[0]["reason"] == "wrong date"


def test_minutes_worked_on_a_holiday_count_as_overtime(world, clock):
    clock.set(datetime(2026, 12, 1, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift())  # break 60
    bo = world.employee("BO", "Madrid day", employed_from="2026-11-01")
    _add(world, "2026-12-08", "Inmaculada")
    clock.set(datetime(2026, 12, 8, 8, tzinfo=UTC))  # 09:00
    first = world.check(bo).json()["punch"]
    assert first["status"] == "off_shift"  # nothing is expected of a holiday
    clock.set(datetime(2026, 12, 8, 12, tzinfo=UTC))  # 13:00
    world.check(bo)
    day = world.day(bo, "2026-12-08")
    assert day["status"] == "holiday" and day["worked_minutes"] == 240 and day["overtime_minutes"] == 240
    assert day["late_minutes"] == 0 and day["early_leave_minutes"] == 0  # no break allowance either


def test_a_site_holiday_applies_to_that_site_only_and_managers_manage_their_own(world, clock):
    clock.set(datetime(2026, 12, 1, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift())
    north = world.employee("NOR", "Madrid day", site="north", employed_from="2026-11-01")
    south = world.employee("SOU", "Madrid day", site="south", employed_from="2026-11-01")
    boss = _manager(world, "BOSS", "north")
    h = _add(world, "2026-12-03", "San Francisco Javier", headers=boss)  # a manager's holiday is its site's
    assert h["site"] == "north"
    r = world.client.post("/api/v1/holidays", json={"date": "2026-12-04", "name": "x", "site": "south"}, headers=boss)
    assert r.status_code == 403 and error_code(r) == "forbidden", r.text
    assert error_code(_add(world, "2026-12-03", "Again", site="north", expect=409)) == "holiday_exists"
    clock.set(datetime(2026, 12, 3, 20, tzinfo=UTC))
    world.close()
    assert world.day(north, "2026-12-03")["status"] == "holiday"
    assert world.day(south, "2026-12-03")["status"] == "absent"
    boss = bearer(login(world.client, "BOSS", PASSWORD)["access_token"])  # the clock moved past the token's life
    listed = world.client.get("/api/v1/holidays?from=2026-12-01&to=2026-12-31", headers=boss).json()
    assert [x["name"] for x in listed] == ["San Francisco Javier"]


def test_an_overnight_shift_starting_on_a_holiday_is_the_holiday_the_night_before_is_not(world, clock):
    """The holiday is a work date: the night that starts on it (22:00 → 06:00) is the holiday; the night of the
    eve, which ends on the holiday's morning, is a normal night (frappe/hrms: attendance_date = shift start)."""
    clock.set(datetime(2026, 12, 1, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift("Madrid night", "22:00", "06:00", break_minutes=0))
    owl = world.employee("OWL", "Madrid night", employed_from="2026-11-01")
    _add(world, "2026-12-08", "Inmaculada")
    clock.set(datetime(2026, 12, 9, 12, tzinfo=UTC))
    world.punch(owl, "2026-12-07T22:00:00+01:00")
    world.punch(owl, "2026-12-08T06:00:00+01:00")
    world.close()
    eve = world.day(owl, "2026-12-07")
    assert eve["status"] == "present" and eve["worked_minutes"] == 480 and eve["holiday"] is None
    night = world.day(owl, "2026-12-08")
    assert night["status"] == "holiday" and night["worked_minutes"] == 0


def test_a_night_worked_on_a_dst_holiday_counts_its_nine_hours_as_overtime(world, clock):
    """25 October 2026, Europe/Madrid: the 22:00 → 06:00 night lasts 9 real hours."""
    clock.set(datetime(2026, 10, 20, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift("Madrid night", "22:00", "06:00", break_minutes=0))
    owl = world.employee("OWL", "Madrid night", employed_from="2026-10-01")
    _add(world, "2026-10-24", "Fiesta local")  # Saturday night 24 → Sunday 25 (the change)
    clock.set(datetime(2026, 10, 26, 12, tzinfo=UTC))
    world.punch(owl, "2026-10-24T22:00:00+02:00")
    world.punch(owl, "2026-10-25T06:00:00+01:00")
    day = world.day(owl, "2026-10-24")
    assert day["status"] == "holiday" and day["worked_minutes"] == 9 * 60 and day["overtime_minutes"] == 9 * 60


ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//HR//Holidays 2027//EN\r
BEGIN:VEVENT\r
UID:newyear@hr\r
DTSTAMP:20261101T000000Z\r
DTSTART;VALUE=DATE:20270101\r
DTEND;VALUE=DATE:20270102\r
SUMMARY:Año Nuevo\r
RRULE:FREQ=YEARLY\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:easter@hr\r
DTSTAMP:20261101T000000Z\r
DTSTART;VALUE=DATE:20270325\r
DTEND;VALUE=DATE:20270327\r
SUMMARY:Jueves y Viernes Santo\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:cancelled@hr\r
DTSTAMP:20261101T000000Z\r
DTSTART;VALUE=DATE:20270601\r
STATUS:CANCELLED\r
SUMMARY:Not a holiday\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:dec@hr\r
DTSTAMP:20261101T000000Z\r
DTSTART;VALUE=DATE:20261208\r
SUMMARY:Inmaculada Concepción\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_import_an_ics_calendar(world, clock):
    clock.set(datetime(2026, 12, 1, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift())
    cy = world.employee("CY", "Madrid day", employed_from="2026-11-01")
    _add(world, "2026-12-08", "Already there")
    files = {"file": ("festivos.ics", ICS.encode(), "text/calendar")}
    r = world.client.post("/api/v1/holidays/import", files=files, data={"from": "2026-01-01", "to": "2027-12-31"},
                          headers=world.admin)
    assert r.status_code == 201, r.text
    body = r.json()
    assert [(h["date"], h["name"]) for h in body["created"]] == [
        ("2027-01-01", "Año Nuevo"), ("2027-03-25", "Jueves y Viernes Santo"), ("2027-03-26", "Jueves y Viernes Santo")]
    assert body["skipped"] == [{"date": "2026-12-08", "name": "Inmaculada Concepción", "reason": "holiday_exists"}]
    # the yearly rule (from 2027) expands over any later window; one-off events stay in their year
    r = world.client.post("/api/v1/holidays/import", files=files, data={"from": "2028-01-01", "to": "2028-12-31"},
                          headers=world.admin)
    assert [h["date"] for h in r.json()["created"]] == ["2028-01-01"]
    bad = world.client.post("/api/v1/holidays/import", files={"file": ("x.ics", b"not a calendar", "text/calendar")},
                            headers=world.admin)
    assert bad.status_code == 422 and error_code(bad) == "invalid_ics"
    employee = bearer(login(world.client, "CY", PASSWORD)["access_token"])
    assert world.client.post("/api/v1/holidays/import", files=files, headers=employee).status_code == 403
    assert cy["id"]
