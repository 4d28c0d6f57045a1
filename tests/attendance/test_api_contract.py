"""Attendance and report endpoints: replay after retention, ids out of range (4xx, never 500, on both databases),
kiosk keys refused, and the OpenAPI description of the kiosk check and the summary."""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from server.attendance import jobs
from server.attendance.models import KioskRequest, Punch
from server.attendance.schemas import kiosk_answer
from tests.fixtures.world import error_code

HUGE = 10**20  # beyond 64 bits
BIG = 2**31  # one past PostgreSQL's integer


def _count(world, model):
    with world.client.app.state.db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_replay_after_retention_returns_the_original_punch(world, clock, settings):
    ana = world.employee("ANA")
    rid = str(uuid.uuid4())
    first = world.check(ana, request_id=rid).json()
    st = world.client.app.state
    later = clock.t + timedelta(days=settings.retention_days, hours=1)
    assert jobs.retention(st.db, st.settings, now=later)["kiosk_requests"] == 1  # the stored answer is gone
    clock.set(later)
    again = world.check(ana, request_id=rid)  # the kiosk retries the same request (its punch remains)
    assert again.status_code == 200, again.text
    assert again.json() == first and again.headers.get("Idempotent-Replayed") == "true"
    assert _count(world, Punch) == 1
    # another person's face with that request_id changes nothing: the request is the one already answered
    bo = world.employee("BO")
    assert world.check(bo, request_id=rid).json()["user"]["id"] == ana["id"]
    assert _count(world, Punch) == 1 and _count(world, KioskRequest) == 0


def test_kiosk_answers_match_the_documented_model(world, clock):
    ana = world.employee("ANA")
    recognized = world.check(ana).json()
    assert kiosk_answer.validate_python(recognized).decision == "recognized"
    assert set(recognized) == {"decision", "request_id", "duplicate", "user", "punch"}
    assert set(recognized["punch"]) == {"id", "kind", "at", "local_time", "work_date", "status", "liveness"}
    assert recognized["punch"]["liveness"] is None  # no challenge asked (LIVENESS=off)
    unknown = world.check(b"unknown").json()
    assert kiosk_answer.validate_python(unknown).decision == "unknown" and set(unknown) == {"decision", "request_id"}


def test_openapi_documents_the_kiosk_check_and_the_summary(client):
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    check = spec["paths"]["/api/v1/kiosk/check"]["post"]
    ok = check["responses"]["200"]["content"]["application/json"]["schema"]
    refs = {x["$ref"].rsplit("/", 1)[1] for x in ok.get("oneOf", ok.get("anyOf", []))}
    assert refs == {"KioskRecognized", "KioskUnknown"}
    assert set(schemas["KioskRecognized"]["required"]) == {"decision", "request_id", "duplicate", "user", "punch"}
    assert set(schemas["KioskPunch"]["properties"]) == {"id", "kind", "at", "local_time", "work_date", "status",
                                                        "liveness"}
    status = schemas["KioskPunch"]["properties"]["status"]["$ref"].rsplit("/", 1)[1]  # a named enum (server/openapi.py)
    assert set(schemas[status]["enum"]) == {"on_time", "late", "early_leave", "overtime", "off_shift"}
    assert {"401", "409", "410", "422", "503"} <= set(check["responses"])
    summary = spec["paths"]["/api/v1/attendance/summary"]["get"]
    ref = summary["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/SummaryOut")
    assert {"from", "to", "users"} <= set(schemas["SummaryOut"]["properties"])
    totals = set(schemas["UserTotals"]["properties"])
    assert {"days_present", "late_count", "absences", "overtime_minutes"} <= totals
    for path, method in (("/api/v1/attendance/punches/{punch_id}", "patch"),
                         ("/api/v1/attendance/report.csv", "get"), ("/api/v1/attendance/days", "get")):
        op = spec["paths"][path][method]
        assert op.get("summary") and {"401", "403", "422"} <= set(op["responses"]), (path, op["responses"].keys())


def test_ids_out_of_range_are_422_and_unknown_ids_404(world, clock):
    ana = world.employee("ANA")
    admin = world.admin
    c = world.client
    for big in (HUGE, BIG):
        for url in (f"/api/v1/attendance/days?user_id={big}", f"/api/v1/attendance/punches?user_id={big}",
                    f"/api/v1/attendance/report.csv?user_id={big}", f"/api/v1/attendance/summary?user_id={big}",
                    f"/api/v1/attendance/punches?offset={big}", f"/api/v1/attendance/days?offset={HUGE}"):
            r = c.get(url, headers=admin)
            assert r.status_code == 422 and error_code(r) == "validation_error", (url, r.text)
        r = c.patch(f"/api/v1/attendance/punches/{big}", json={"kind": "in", "reason": "x"}, headers=admin)
        assert r.status_code == 422, r.text
        r = c.delete(f"/api/v1/attendance/punches/{big}?reason=x", headers=admin)
        assert r.status_code == 422, r.text
        r = c.post("/api/v1/attendance/punches", headers=admin,
                   json={"user_id": big, "at": "2026-11-25T07:00:00Z", "reason": "x"})
        assert r.status_code == 422, r.text
    top = 2**31 - 1  # in range, but nobody has it
    assert c.get(f"/api/v1/attendance/days?user_id={top}", headers=admin).status_code == 404
    assert c.get(f"/api/v1/attendance/summary?user_id={top}", headers=admin).status_code == 404
    assert c.get(f"/api/v1/attendance/report.csv?user_id={top}", headers=admin).status_code == 404
    r = c.patch(f"/api/v1/attendance/punches/{top}", json={"kind": "in", "reason": "x"}, headers=admin)
    assert r.status_code == 404
    r = c.post("/api/v1/attendance/punches", headers=admin,
               json={"user_id": top, "at": "2026-11-25T07:00:00Z", "reason": "x"})
    assert r.status_code == 404
    assert c.get(f"/api/v1/attendance/days?user_id={ana['id']}", headers=admin).status_code == 200


def test_dates_out_of_range_are_422_never_500(world, clock):
    """Regression (schemathesis): PATCH a punch to 0001-01-01T00:11:11Z overflowed the first zone conversion (500).
    Years outside 1970..2199 are refused as input everywhere a date or time is taken."""
    ana = world.employee("ANA")
    admin, c = world.admin, world.client
    punch = world.check(ana).json()["punch"]
    for at in ("0001-01-01T00:11:11Z", "9999-12-31T23:59:59-05:00", "1969-12-31T23:59:59Z"):
        r = c.patch(f"/api/v1/attendance/punches/{punch['id']}", json={"at": at, "reason": "x"}, headers=admin)
        assert r.status_code == 422 and error_code(r) == "validation_error", (at, r.text)
        r = c.post("/api/v1/attendance/punches", json={"user_id": ana["id"], "at": at, "reason": "x"}, headers=admin)
        assert r.status_code == 422 and error_code(r) == "validation_error", (at, r.text)
        r = world.check(ana, captured_at=at)  # an offline punch far too old, or (year 9999) in the future
        assert r.status_code == 422 and error_code(r) in ("captured_at_in_future", "captured_at_too_old"), r.text
    for day in ("0001-01-01", "9999-12-31"):
        for url in (f"/api/v1/attendance/days?from={day}", f"/api/v1/attendance/me?to={day}",
                    f"/api/v1/attendance/punches?from={day}", f"/api/v1/attendance/report.csv?from={day}",
                    f"/api/v1/attendance/summary?to={day}"):
            r = c.get(url, headers=admin)
            assert r.status_code == 422 and error_code(r) == "validation_error", (url, r.text)
        shift = c.get("/api/v1/shifts", headers=admin).json()[0]["id"]
        r = c.put(f"/api/v1/users/{ana['id']}/shift", json={"shift_id": shift, "valid_from": day}, headers=admin)
        assert r.status_code == 422 and error_code(r) == "validation_error", r.text
    r = world.check(ana, captured_at="0001-01-01T00:00:00+01:00")  # before datetime's range in UTC: too old
    assert r.status_code == 422 and error_code(r) == "captured_at_too_old"
    with world.client.app.state.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Punch)) == 1  # nothing half-written


def test_a_kiosk_key_reaches_only_the_kiosk(world, clock):
    ana = world.employee("ANA")
    punch = world.check(ana).json()["punch"]
    key = {"X-Device-Key": world.device_key}
    c = world.client
    calls = [
        c.get("/api/v1/attendance/days", headers=key),
        c.get("/api/v1/attendance/me", headers=key),
        c.get("/api/v1/attendance/punches", headers=key),
        c.post("/api/v1/attendance/punches", headers=key,
               json={"user_id": ana["id"], "at": "2026-11-25T07:00:00Z", "reason": "x"}),
        c.patch(f"/api/v1/attendance/punches/{punch['id']}", headers=key, json={"kind": "out", "reason": "x"}),
        c.delete(f"/api/v1/attendance/punches/{punch['id']}?reason=x", headers=key),
        c.get("/api/v1/attendance/report.csv", headers=key),
        c.get("/api/v1/attendance/summary", headers=key),
    ]
    for r in calls:
        assert r.status_code == 403 and error_code(r) == "forbidden", (r.request.method, r.request.url, r.text)
    with c.app.state.db.session() as s:
        p = s.get(Punch, punch["id"])
        assert p.voided_at is None and p.kind == "in"
    assert _count(world, Punch) == 1
