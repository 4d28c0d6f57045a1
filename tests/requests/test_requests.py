"""Employee requests: nothing changes before approval; approving applies the change through the manager's own code
(same audit entries, same recompute); rejecting needs a reason; who sees and decides what."""
from __future__ import annotations

from datetime import datetime

from tests.fixtures.world import UTC, error_code, madrid_shift
from tests.fixtures.api import PASSWORD, bearer, create_user, login


def _headers(world, code):
    return bearer(login(world.client, code, PASSWORD)["access_token"])


def _ask(world, headers, expect=201, **body):
    r = world.client.post("/api/v1/requests", json=body, headers=headers)
    assert r.status_code == expect, r.text
    return r.json()


def _decide(world, req, action, headers, reason=None, expect=200):
    r = world.client.post(f"/api/v1/requests/{req['id']}/{action}", json={"reason": reason}, headers=headers)
    assert r.status_code == expect, r.text
    return r.json()


def test_a_missed_punch_changes_nothing_until_approved(world, clock):
    clock.set(datetime(2026, 11, 30, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift(break_minutes=0))
    ana = world.employee("ANA", "Madrid day", site="north", employed_from="2026-11-01")
    create_user(world.client, world.admin, code="BOSS", role="manager", site="north")
    clock.set(datetime(2026, 11, 30, 16, 30, tzinfo=UTC))  # 17:30
    world.check(ana, captured_at="2026-11-30T09:00:00+01:00")
    me = _headers(world, "ANA")
    req = _ask(world, me, type="missed_punch", at="2026-11-30T17:00:00+01:00", kind="out",
               reason="the kiosk was down at 17:00")
    assert req["status"] == "pending" and req["change"] == {"at": "2026-11-30T17:00:00+01:00", "kind": "out"}
    assert len(world.day(ana, "2026-11-30")["punches"]) == 1  # nothing changed
    # she cannot approve it herself, nor can a manager of another site
    assert world.client.post(f"/api/v1/requests/{req['id']}/approve", json={}, headers=me).status_code == 403
    create_user(world.client, world.admin, code="SOUTH", role="manager", site="south")
    r = world.client.post(f"/api/v1/requests/{req['id']}/approve", json={}, headers=_headers(world, "SOUTH"))
    assert r.status_code == 403
    done = _decide(world, req, "approve", _headers(world, "BOSS"))
    assert done["status"] == "approved" and done["decided_by"] and done["result"]["work_date"] == "2026-11-30"
    day = world.day(ana, "2026-11-30")
    assert day["worked_minutes"] == 480 and [p["source"] for p in day["punches"]] == ["kiosk", "manual"]
    assert day["punches"][1]["reason"] == f"the kiosk was down at 17:00 (request {req['id']})"
    actions = [e["action"] for e in world.client.get("/api/v1/audit", headers=world.admin).json()["items"]
               if e["entity"] in ("request", "punch")]
    assert actions == ["requests.approve", "punch.create", "requests.create"]
    again = world.client.post(f"/api/v1/requests/{req['id']}/reject", json={"reason": "no"},
                              headers=_headers(world, "BOSS"))
    assert again.status_code == 409 and error_code(again) == "request_not_pending"


def test_leave_correction_and_mark_requests(world, clock):
    clock.set(datetime(2026, 11, 30, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift(break_minutes=0))
    bo = world.employee("BO", "Madrid day", employed_from="2026-11-01")
    me = _headers(world, "BO")
    leave = _ask(world, me, type="leave", **{"from": "2026-12-07", "to": "2026-12-09"}, kind="vacation",
                 reason="family trip")
    mark = _ask(world, me, type="mark", date="2026-11-27", status="remote", reason="worked from home")
    clock.set(datetime(2026, 11, 30, 9, tzinfo=UTC))
    punch = world.check(bo).json()["punch"]  # 10:00, she was at 09:00
    me = _headers(world, "BO")  # the clock moved past the token's life
    fix = _ask(world, me, type="correction", punch_id=punch["id"], at="2026-11-30T09:00:00+01:00",
               reason="the kiosk did not see me at 09:00")
    assert world.client.get("/api/v1/leaves?from=2026-12-01&to=2026-12-31", headers=world.admin).json()["total"] == 0
    assert _decide(world, leave, "approve", world.admin)["result"]["leave_id"]
    assert _decide(world, mark, "approve", world.admin)["result"] == {"work_date": "2026-11-27", "status": "remote"}
    assert _decide(world, fix, "approve", world.admin)["result"]["punch_id"] == punch["id"]
    assert world.day(bo, "2026-11-27")["status"] == "remote" and world.day(bo, "2026-11-27")["marked"]
    today = world.day(bo, "2026-11-30")
    assert today["late_minutes"] == 0 and today["punches"][0]["local_time"].startswith("2026-11-30T09:00")
    lv = world.client.get("/api/v1/leaves?from=2026-12-01&to=2026-12-31", headers=world.admin).json()["items"]
    assert [(x["from"], x["to"], x["kind"]) for x in lv] == [("2026-12-07", "2026-12-09", "vacation")]
    # a request the change itself refuses stays pending: the overlap is reported, nothing is stored
    me = _headers(world, "BO")
    twice = _ask(world, me, type="leave", **{"from": "2026-12-09", "to": "2026-12-10"}, kind="personal",
                 reason="one more day")
    r = world.client.post(f"/api/v1/requests/{twice['id']}/approve", json={}, headers=world.admin)
    assert r.status_code == 409 and error_code(r) == "leave_overlap"
    listed = world.client.get("/api/v1/requests?status=pending", headers=me).json()
    assert [x["id"] for x in listed["items"]] == [twice["id"]]
    assert _decide(world, twice, "reject", world.admin, expect=422)
    rejected = _decide(world, twice, "reject", world.admin, reason="already on leave that day")
    assert rejected["status"] == "rejected" and rejected["decision_reason"] == "already on leave that day"


def test_who_sees_which_requests_and_withdrawing_one(world, clock):
    clock.set(datetime(2026, 11, 30, 8, tzinfo=UTC))
    world.employee("CY", site="north")
    world.employee("DEE", site="south")
    create_user(world.client, world.admin, code="BOSS", role="manager", site="north")
    cy, dee = _headers(world, "CY"), _headers(world, "DEE")
    mine = _ask(world, cy, type="mark", date="2026-11-30", status="remote", reason="home")
    _ask(world, dee, type="mark", date="2026-11-30", status="remote", reason="home")
    assert [x["employee_code"] for x in world.client.get("/api/v1/requests", headers=cy).json()["items"]] == ["CY"]
    boss = world.client.get("/api/v1/requests", headers=_headers(world, "BOSS")).json()
    assert [x["employee_code"] for x in boss["items"]] == ["CY"]
    assert world.client.get("/api/v1/requests", headers=world.admin).json()["total"] == 2
    assert world.client.post(f"/api/v1/requests/{mine['id']}/cancel", headers=dee).status_code == 403
    r = world.client.post(f"/api/v1/requests/{mine['id']}/cancel", headers=cy)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    # bad input is a 422, another's punch a 404
    _ask(world, cy, expect=422, type="missed_punch", at="2026-11-30T09:00:00", reason="no offset")
    _ask(world, cy, expect=422, type="leave", **{"from": "2026-12-02", "to": "2026-12-01"}, kind="sick", reason="x")
    _ask(world, cy, expect=422, type="teleport", reason="x")
    _ask(world, cy, expect=404, type="correction", punch_id=12345, kind="in", reason="x")
    future = _ask(world, cy, expect=422, type="missed_punch", at="2026-12-30T09:00:00+01:00", reason="x")
    assert future["error"]["field"] == "at"
    early = _ask(world, cy, expect=422, type="leave", **{"from": "2020-01-01", "to": "2020-01-02"}, kind="sick",
                 reason="x")
    assert early["error"]["code"] == "outside_employment"
