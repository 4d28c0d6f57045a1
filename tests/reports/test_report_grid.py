"""The report grid: one row per user per day, days without a recorded work day computed (never written) from the
assignment; the summary adds up the same rows."""
from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import datetime

from sqlalchemy import func, select

from server.attendance.models import WorkDay
from tests.fixtures.world import UTC, error_code, madrid_shift


def _csv(world, query):
    r = world.client.get(f"/api/v1/attendance/report.csv?{query}", headers=world.admin)
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
    return [x for x in rows if x["employee_code"] != "ADMIN"]  # the seeded admin exists from the real start time


def _work_day_rows(world) -> int:
    with world.client.app.state.db.session() as s:
        return s.scalar(select(func.count()).select_from(WorkDay))


def _punch(world, user, at):
    r = world.client.post("/api/v1/attendance/punches", json={"user_id": user["id"], "at": at, "reason": "test"},
                          headers=world.admin)
    assert r.status_code == 201, r.text


def _setup(world, clock):
    """Madrid day shift 09:00-17:00 every day. Clock: Wed 25 Nov 2026 07:00 UTC when ANA, FREE are created."""
    if "Madrid day" not in world.shifts:
        world.new_shift(**madrid_shift())
    ana = world.employee("ANA", "Madrid day", valid_from="2026-11-20")  # assigned before she was created
    free = world.employee("FREE")  # no shift at all
    clock.set(datetime(2026, 11, 26, 10, tzinfo=UTC))
    late = world.employee("LATE", "Madrid day", valid_from="2026-11-26")  # created on Thursday
    clock.set(datetime(2026, 11, 27, 12, tzinfo=UTC))  # Friday 13:00 in Madrid: Friday's shift is under way
    _punch(world, ana, "2026-11-25T09:00:00+01:00")
    _punch(world, ana, "2026-11-25T17:00:00+01:00")
    return ana, free, late


def test_one_row_per_user_per_day_computed_without_writing(world, clock):
    ana, free, late = _setup(world, clock)
    before = _work_day_rows(world)
    rows = _csv(world, "from=2026-11-24&to=2026-11-28")
    assert _work_day_rows(world) == before  # a GET writes nothing (no close-the-day job ran either)
    got = [(x["employee_code"], x["date"], x["status"]) for x in rows]
    assert got == [
        # ANA was created on the 25th: the 24th is not a day of hers, although her assignment starts on the 20th
        ("ANA", "2026-11-25", "present"),
        ("ANA", "2026-11-26", "absent"),  # scheduled, closed by time (17:05 passed), no punch
        ("ANA", "2026-11-27", "ongoing"),  # the shift started at 09:00, nothing yet, not closed
        ("ANA", "2026-11-28", "scheduled"),  # tomorrow
        # FREE has no assignment and no punch in the range: left out by default (issue 13)
        ("LATE", "2026-11-26", "absent"), ("LATE", "2026-11-27", "ongoing"), ("LATE", "2026-11-28", "scheduled"),
    ]
    absent = rows[1]
    assert absent["shift"] == "Madrid day" and absent["timezone"] == "Europe/Madrid"
    assert absent["first_in"] == "" and absent["worked_minutes"] == "0"
    assert rows[0]["worked_minutes"] == str(8 * 60 - 60)
    everyone = _csv(world, "from=2026-11-24&to=2026-11-28&all_users=true")
    free_rows = [x for x in everyone if x["employee_code"] == "FREE"]
    assert [x["status"] for x in free_rows] == ["off_day"] * 4
    assert free_rows[0]["shift"] == "" and free_rows[0]["timezone"] == "UTC"  # DEFAULT_TIMEZONE without a shift


def test_computed_absence_matches_the_close_day_job(world, clock):
    from server.attendance import jobs

    t = clock.t
    clock.set(datetime(2026, 11, 2, 7, tzinfo=UTC))
    world.new_shift(**madrid_shift())
    world.employee("OLD", "Madrid day", valid_from="2026-11-02")  # never punched in November
    clock.set(t)
    ana, free, late = _setup(world, clock)
    computed = _csv(world, "from=2026-11-02&to=2026-11-28")
    old = [x["status"] for x in computed if x["employee_code"] == "OLD"]
    assert old == ["absent"] * 25 + ["ongoing", "scheduled"]  # the 2nd .. the 26th; the 27th is under way
    st = world.client.app.state
    jobs.close_days(st.db, st.settings, now=clock.t)  # now the absences of the last week are recorded rows
    with st.db.session() as s:
        assert s.scalar(select(func.count()).select_from(WorkDay).where(WorkDay.status == "absent")) >= 7
    recorded = _csv(world, "from=2026-11-02&to=2026-11-28")
    assert recorded == computed


def test_summary_adds_up_the_csv_rows(world, clock):
    ana, free, late = _setup(world, clock)
    _punch(world, late, "2026-11-27T09:40:00+01:00")  # late, still in
    rows = _csv(world, "from=2026-11-20&to=2026-11-30&all_users=true")
    r = world.client.get("/api/v1/attendance/summary?from=2026-11-20&to=2026-11-30&all_users=true",
                         headers=world.admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["from"] == "2026-11-20" and body["to"] == "2026-11-30"
    users = {u["employee_code"]: u for u in body["users"]}
    for code in ("ANA", "FREE", "LATE"):
        mine = [x for x in rows if x["employee_code"] == code]
        statuses = Counter(x["status"] for x in mine)
        u = users[code]
        assert u["days"] == len(mine)
        assert u["days_present"] == statuses["present"] + statuses["late"]
        assert u["late_count"] == statuses["late"] and u["absences"] == statuses["absent"]
        assert u["off_days"] == statuses["off_day"] and u["incomplete"] == statuses["incomplete"]
        assert u["upcoming"] == statuses["scheduled"] + statuses["ongoing"]
        for key in ("worked_minutes", "late_minutes", "early_leave_minutes", "overtime_minutes"):
            assert u[key] == sum(int(x[key]) for x in mine)
    assert users["ANA"]["days"] == 6 and users["ANA"]["absences"] == 1 and users["ANA"]["upcoming"] == 4
    assert users["LATE"]["late_count"] == 1 and users["LATE"]["late_minutes"] == 40
    assert users["FREE"]["off_days"] == 6 and users["FREE"]["days_present"] == 0


def test_range_is_bounded(world, clock):
    for path in ("report.csv", "summary"):
        r = world.client.get(f"/api/v1/attendance/{path}?from=2025-01-01&to=2026-01-02", headers=world.admin)
        assert r.status_code == 422 and error_code(r) == "validation_error", r.text
        r = world.client.get(f"/api/v1/attendance/{path}?from=2025-01-01&to=2026-01-01", headers=world.admin)
        assert r.status_code == 200, r.text  # 366 days, both ends included
        r = world.client.get(f"/api/v1/attendance/{path}?from=2026-01-02&to=2026-01-01", headers=world.admin)
        assert r.status_code == 422
