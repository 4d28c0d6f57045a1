"""CSV export and summary totals over HTTP."""
from __future__ import annotations

import csv
import io
from datetime import datetime

from server.attendance import jobs
from tests.fixtures.world import UTC, madrid_shift
from tests.fixtures.api import user_headers


def _punch(world, user, at, kind=None):
    body = {"user_id": user["id"], "at": at, "reason": "test data"}
    if kind:
        body["kind"] = kind
    r = world.client.post("/api/v1/attendance/punches", json=body, headers=world.admin)
    assert r.status_code == 201, r.text


def _setup(world, clock):
    world.new_shift(**madrid_shift())
    ana = world.employee("ANA", "Madrid day", valid_from="2026-11-25", full_name='Ana "Nena" Muñoz, Jr.')
    evil = world.employee("EVIL", "Madrid day", valid_from="2026-11-25", full_name="=HYPERLINK(\"http://x\")",
                          site="south")
    clock.set(datetime(2026, 11, 27, 12, tzinfo=UTC))
    _punch(world, ana, "2026-11-25T08:58:00+01:00")
    # 60 minutes of overtime (counted from the shift end, past the grace)
    _punch(world, ana, "2026-11-25T18:00:00+01:00")
    _punch(world, ana, "2026-11-26T09:30:00+01:00")  # late
    _punch(world, ana, "2026-11-26T17:00:00+01:00")
    _punch(world, evil, "2026-11-25T09:00:00+01:00")  # no check-out
    st = world.client.app.state
    jobs.close_days(st.db, st.settings, now=clock.t)
    return ana, evil


def _rows(r, *, with_admin=False):
    """The CSV rows. The seeded admin (created by the app's start, at the real time: after these test dates) has no
    row in them anyway; it is left out so the assertions do not depend on when the suite runs."""
    assert r.content.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
    return rows if with_admin else [x for x in rows if x["employee_code"] != "ADMIN"]


def test_csv_report(world, clock):
    ana, evil = _setup(world, clock)
    r = world.client.get("/api/v1/attendance/report.csv?from=2026-11-25&to=2026-11-26", headers=world.admin)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="attendance_2026-11-25_2026-11-26.csv"' in r.headers["content-disposition"]
    assert b"\r\n" in r.content
    rows = _rows(r)
    assert [(x["employee_code"], x["date"], x["status"]) for x in rows] == [
        ("ANA", "2026-11-25", "present"), ("ANA", "2026-11-26", "late"),
        ("EVIL", "2026-11-25", "incomplete"), ("EVIL", "2026-11-26", "absent")]
    first = rows[0]
    assert first["name"] == 'Ana "Nena" Muñoz, Jr.'  # quotes, comma and accent survive the round trip
    assert first["shift"] == "Madrid day" and first["timezone"] == "Europe/Madrid"
    assert first["first_in"] == "2026-11-25 08:58" and first["last_out"] == "2026-11-25 18:00"
    assert first["worked_minutes"] == str(9 * 60 + 2 - 60) and first["overtime_minutes"] == "60"
    assert rows[1]["late_minutes"] == "30"
    assert rows[2]["name"].startswith("'=")  # a formula is never run by the spreadsheet


def test_csv_scoping_and_filter(world, clock):
    ana, evil = _setup(world, clock)
    r = world.client.get(f"/api/v1/attendance/report.csv?from=2026-11-25&to=2026-11-26&user_id={ana['id']}",
                         headers=world.admin)
    assert {x["employee_code"] for x in _rows(r)} == {"ANA"}
    _, manager = user_headers(world.client, world.admin, code="MS", role="manager", site="south")
    r = world.client.get("/api/v1/attendance/report.csv?from=2026-11-25&to=2026-11-26", headers=manager)
    assert {x["employee_code"] for x in _rows(r)} == {"EVIL"}
    r = world.client.get(f"/api/v1/attendance/report.csv?user_id={ana['id']}", headers=manager)
    assert r.status_code == 403
    _, employee = user_headers(world.client, world.admin, code="EMP")
    assert world.client.get("/api/v1/attendance/report.csv", headers=employee).status_code == 403


def test_csv_streams_many_rows(world, clock):
    from server.attendance.models import WorkDay
    from server.reports import service

    ana = world.employee("ANA")
    with world.client.app.state.db.session() as s:
        from datetime import date, timedelta

        for i in range(2500):
            s.add(WorkDay(user_id=ana["id"], work_date=date(2020, 1, 1) + timedelta(days=i), status="present",
                          worked_minutes=480, late_minutes=0, early_leave_minutes=0, overtime_minutes=0))
    admin_user = None
    with world.client.app.state.db.session() as s:
        from server.users.models import User

        admin_user = s.get(User, world.client.get("/api/v1/users/me", headers=world.admin).json()["id"])
    chunks = list(service.csv_chunks(world.client.app.state.db, world.client.app.state.settings, actor=admin_user,
                                     start=date(2020, 1, 1), end=date(2020, 1, 1) + timedelta(days=2499),
                                     who=service.UserQuery(user_id=ana["id"])))
    assert len(chunks) >= 3  # yielded in batches, not built whole
    assert sum(c.count("\r\n") for c in chunks) == 2501


def test_summary(world, clock):
    ana, evil = _setup(world, clock)
    r = world.client.get("/api/v1/attendance/summary?from=2026-11-25&to=2026-11-26", headers=world.admin)
    assert r.status_code == 200, r.text
    users = {u["employee_code"]: u for u in r.json()["users"]}
    assert users["ANA"]["days_present"] == 2 and users["ANA"]["late_count"] == 1
    assert users["ANA"]["overtime_minutes"] == 60 and users["ANA"]["absences"] == 0
    assert users["ANA"]["late_minutes"] == 30
    assert users["EVIL"]["absences"] == 1 and users["EVIL"]["incomplete"] == 1 and users["EVIL"]["days_present"] == 0
    r = world.client.get(f"/api/v1/attendance/summary?from=2026-11-25&to=2026-11-26&user_id={ana['id']}",
                         headers=world.admin)
    assert [u["employee_code"] for u in r.json()["users"]] == ["ANA"]
