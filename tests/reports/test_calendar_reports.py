"""Holidays, leave, marks and half days in report.csv and /attendance/summary; who the reports cover by default,
and the role / site filters."""
from __future__ import annotations

import csv
import io
from datetime import datetime

from tests.fixtures.world import UTC, madrid_shift


def _csv(world, query):
    r = world.client.get(f"/api/v1/attendance/report.csv?{query}", headers=world.admin)
    assert r.status_code == 200, r.text
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))


def _post(world, path, body):
    r = world.client.post(path, json=body, headers=world.admin)
    assert r.status_code == 201, r.text
    return r.json()


def _world(world, clock):
    """Madrid 09–17 Mon–Fri (break 0, half day under 240 min). December 2026: Tue 8 a holiday (ANA worked it),
    ANA on vacation Wed 2 – Thu 3 and Mon 14 (future), a sick afternoon Fri 4, remote mark Mon 7, 3 h on Wed 9."""
    clock.set(datetime(2026, 11, 30, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift(weekdays=[0, 1, 2, 3, 4], break_minutes=0, half_day_below_minutes=240))
    ana = world.employee("ANA", "Madrid day", site="north", employed_from="2026-11-01")
    bo = world.employee("BO", "Madrid day", site="south", employed_from="2026-11-01")
    _post(world, "/api/v1/holidays", {"date": "2026-12-08", "name": "Inmaculada"})
    _post(world, "/api/v1/leaves", {"user_id": ana["id"], "from": "2026-12-02", "to": "2026-12-03",
                                    "kind": "vacation", "half": None, "reason": "trip"})
    _post(world, "/api/v1/leaves", {"user_id": ana["id"], "from": "2026-12-14", "to": "2026-12-14",
                                    "kind": "vacation", "half": None, "reason": "trip"})
    _post(world, "/api/v1/leaves", {"user_id": ana["id"], "from": "2026-12-04", "to": "2026-12-04",
                                    "kind": "sick", "half": "pm", "reason": "doctor"})
    clock.set(datetime(2026, 12, 10, 12, tzinfo=UTC))
    r = world.client.put(f"/api/v1/attendance/days/{ana['id']}/2026-12-07",
                         json={"status": "remote", "reason": "=HYPERLINK(home)"}, headers=world.admin)
    assert r.status_code == 200, r.text
    for at in ("2026-12-04T09:00", "2026-12-04T13:00", "2026-12-08T10:00", "2026-12-08T12:00", "2026-12-09T09:00",
               "2026-12-09T12:00"):
        world.punch(ana, at + ":00+01:00")
    world.close()
    return ana, bo


def test_the_calendar_in_the_csv(world, clock):
    ana, _ = _world(world, clock)
    rows = {x["date"]: x for x in _csv(world, f"from=2026-12-01&to=2026-12-14&user_id={ana['id']}")}
    assert list(rows["2026-12-01"].keys())[-5:] == ["holiday", "leave_kind", "leave_half", "mark", "mark_reason"]
    status = {d: (x["status"], x["holiday"], x["leave_kind"], x["leave_half"], x["mark"]) for d, x in rows.items()}
    assert status["2026-12-02"] == ("on_leave", "", "vacation", "", "")
    assert status["2026-12-04"] == ("present", "", "sick", "pm", "")
    assert status["2026-12-07"] == ("remote", "", "", "", "remote")
    assert status["2026-12-08"] == ("holiday", "Inmaculada", "", "", "")
    assert status["2026-12-09"][0] == "half_day"
    assert status["2026-12-14"] == ("on_leave", "", "vacation", "", "")  # future leave, computed
    assert status["2026-12-11"][0] == "scheduled" and status["2026-12-05"][0] == "off_day"
    assert rows["2026-12-08"]["overtime_minutes"] == "120"
    assert rows["2026-12-07"]["mark_reason"] == "'=HYPERLINK(home)"  # a formula is never run by a spreadsheet


def test_the_summary_counts_holidays_leave_half_days_and_marks(world, clock):
    ana, _ = _world(world, clock)
    r = world.client.get(f"/api/v1/attendance/summary?from=2026-12-01&to=2026-12-14&user_id={ana['id']}",
                         headers=world.admin)
    assert r.status_code == 200, r.text
    (u,) = r.json()["users"]
    assert (u["holidays"], u["holidays_worked"], u["half_days"], u["remote_days"], u["marked"]) == (1, 1, 1, 1, 1)
    assert u["leave_days"] == 3.5 and u["leave_half_days"] == 1
    assert u["leave_by_kind"] == {"vacation": 3.0, "sick": 0.5}
    assert u["days_present"] == 1 and u["absences"] == 1  # Fri 4 (its morning); Tue 1 absent
    rows = _csv(world, f"from=2026-12-01&to=2026-12-14&user_id={ana['id']}")
    assert u["days"] == len(rows) and u["overtime_minutes"] == sum(int(x["overtime_minutes"]) for x in rows)


def test_reports_cover_scheduled_users_by_default_and_filter_by_role_and_site(world, clock):
    ana, bo = _world(world, clock)
    codes = {x["employee_code"] for x in _csv(world, "from=2026-12-01&to=2026-12-03")}
    assert codes == {"ANA", "BO"}  # the admin account (no shift, no punch) is not a row of off days
    assert "ADMIN" in {x["employee_code"] for x in _csv(world, "from=2026-12-01&to=2026-12-03&all_users=true")}
    assert {x["employee_code"] for x in _csv(world, "from=2026-12-01&to=2026-12-03&site=south")} == {"BO"}
    assert _csv(world, "from=2026-12-01&to=2026-12-03&role=manager") == []
    r = world.client.get("/api/v1/attendance/summary?from=2026-12-01&to=2026-12-03&site=north", headers=world.admin)
    assert [u["employee_code"] for u in r.json()["users"]] == ["ANA"]
