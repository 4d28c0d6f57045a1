"""Work-day endpoints and corrections: manual punch, correct, void — audited, never deleted, day recomputed."""
from __future__ import annotations

from sqlalchemy import select

from server.attendance.models import Punch
from server.audit.models import AuditEntry
from tests.fixtures.world import error_code, madrid_shift
from tests.fixtures.api import bearer, login, PASSWORD, user_headers


def _audit(client, punch_id):
    with client.app.state.db.session() as s:
        return [(e.action, e.before, e.after, e.reason, e.actor_user_id)
                for e in s.scalars(select(AuditEntry).where(AuditEntry.entity == "punch",
                                                            AuditEntry.entity_id == str(punch_id))
                                   .order_by(AuditEntry.id))]


def _day(world, user, date="2026-11-25"):
    r = world.client.get(f"/api/v1/attendance/days?user_id={user['id']}&from={date}&to={date}&include_punches=true",
                         headers=world.admin)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    return items[0] if items else None


def test_manual_punch_correct_and_void(world, clock):
    world.new_shift(**madrid_shift())
    ana = world.employee("ANA", "Madrid day")
    clock.set(clock.t.replace(hour=17))  # 18:00 Madrid: the day is over
    admin_id = world.client.get("/api/v1/users/me", headers=world.admin).json()["id"]

    # she forgot to check in: the manager adds it (reason required)
    no_reason = {"user_id": ana["id"], "at": "2026-11-25T09:30:00+01:00", "kind": "in"}
    assert world.client.post("/api/v1/attendance/punches", json=no_reason, headers=world.admin).status_code == 422
    blank = dict(no_reason, reason="   ")
    assert world.client.post("/api/v1/attendance/punches", json=blank, headers=world.admin).status_code == 422
    r = world.client.post("/api/v1/attendance/punches", json=dict(no_reason, reason="forgot badge"),
                          headers=world.admin)
    assert r.status_code == 201, r.text
    manual = r.json()["punch"]
    assert manual["source"] == "manual" and manual["status"] == "late" and manual["reason"] == "forgot badge"
    out = {"user_id": ana["id"], "at": "2026-11-25T17:00:00+01:00", "reason": "left on time"}
    r = world.client.post("/api/v1/attendance/punches", json=out, headers=world.admin)
    assert r.json()["punch"]["kind"] == "out"  # alternates when kind is not given
    day = r.json()["work_day"]
    assert day["status"] == "late" and day["late_minutes"] == 30 and day["worked_minutes"] == 7 * 60 + 30 - 60
    assert day["first_in_local"].startswith("2026-11-25T09:30:00+01:00")

    # correction: she was actually there at 09:02
    r = world.client.patch(f"/api/v1/attendance/punches/{manual['id']}",
                           json={"at": "2026-11-25T09:02:00+01:00", "reason": "CCTV shows 09:02"}, headers=world.admin)
    assert r.status_code == 200, r.text
    assert r.json()["punch"]["status"] == "on_time"
    assert r.json()["work_day"]["status"] == "present" and r.json()["work_day"]["late_minutes"] == 0
    assert world.client.patch(f"/api/v1/attendance/punches/{manual['id']}", json={"kind": "out"},
                              headers=world.admin).status_code == 422  # no reason

    # void the check-in: the punch stays, marked voided; the day has only an out → incomplete once closed
    r = world.client.request("DELETE", f"/api/v1/attendance/punches/{manual['id']}",
                             json={"reason": "duplicate entry"}, headers=world.admin)
    assert r.status_code == 200, r.text
    assert r.json()["punch"]["voided_at"] is not None and r.json()["punch"]["void_reason"] == "duplicate entry"
    assert r.json()["work_day"]["status"] == "incomplete"
    assert world.client.delete(f"/api/v1/attendance/punches/{manual['id']}?reason=again",
                               headers=world.admin).status_code == 409
    assert world.client.delete(f"/api/v1/attendance/punches/{manual['id']}", headers=world.admin).status_code == 422

    with world.client.app.state.db.session() as s:
        assert s.get(Punch, manual["id"]) is not None  # never physically deleted
    listed = world.client.get(f"/api/v1/attendance/punches?user_id={ana['id']}&from=2026-11-25&to=2026-11-25",
                              headers=world.admin).json()
    assert listed["total"] == 2 and any(p["voided_at"] for p in listed["items"])

    trail = _audit(world.client, manual["id"])
    assert [a[0] for a in trail] == ["punch.create", "punch.correct", "punch.void"]
    assert trail[1][1]["at"].startswith("2026-11-25T08:30:00") and trail[1][2]["at"].startswith("2026-11-25T08:02:00")
    assert trail[1][3] == "CCTV shows 09:02" and all(a[4] == admin_id for a in trail)

    # the same trail over HTTP, oldest first, with who made each change (the console's punch history)
    r = world.client.get(f"/api/v1/attendance/punches/{manual['id']}/audit", headers=world.admin)
    assert r.status_code == 200, r.text
    http = r.json()
    assert [(e["action"], e["reason"], e["actor_user_id"]) for e in http] == [(a[0], a[3], a[4]) for a in trail]
    assert {e["actor_name"] for e in http} == {world.client.get("/api/v1/users/me", headers=world.admin).json()[
        "full_name"]}
    assert http[1]["before"]["at"].startswith("2026-11-25T08:30:00") and http[2]["after"]["voided_at"]
    r = world.client.get("/api/v1/attendance/punches/999999/audit", headers=world.admin)
    assert r.status_code == 404 and error_code(r) == "not_found"


def test_correction_moving_a_punch_to_another_day_recomputes_both(world, clock):
    world.new_shift(**madrid_shift())
    ana = world.employee("ANA", "Madrid day")
    clock.set(clock.t.replace(day=27, hour=12))
    p = world.client.post("/api/v1/attendance/punches", headers=world.admin, json={
        "user_id": ana["id"], "at": "2026-11-25T09:00:00+01:00", "kind": "in", "reason": "typo"}).json()["punch"]
    assert _day(world, ana)["status"] == "incomplete"
    r = world.client.patch(f"/api/v1/attendance/punches/{p['id']}", headers=world.admin,
                           json={"at": "2026-11-26T09:00:00+01:00", "reason": "wrong day"})
    assert r.json()["punch"]["work_date"] == "2026-11-26"
    assert _day(world, ana)["status"] == "absent"  # closed, scheduled, no punch left
    assert _day(world, ana, "2026-11-26")["status"] == "incomplete"


def test_future_manual_punch_is_refused(world, clock):
    ana = world.employee("ANA")
    r = world.client.post("/api/v1/attendance/punches", headers=world.admin, json={
        "user_id": ana["id"], "at": "2027-01-01T09:00:00+01:00", "reason": "x"})
    assert r.status_code == 422
    r = world.client.post("/api/v1/attendance/punches", headers=world.admin, json={
        "user_id": ana["id"], "at": "2026-11-25T09:00:00", "reason": "naive"})
    assert r.status_code == 422


def test_roles_and_sites(world, clock):
    north = world.employee("N1", site="north")
    south = world.employee("S1", site="south")
    _, manager = user_headers(world.client, world.admin, code="MN", role="manager", site="north")
    employee = bearer(login(world.client, "N1", PASSWORD)["access_token"])
    world.check(north)
    world.check(south)

    r = world.client.get("/api/v1/attendance/days?from=2026-11-25&to=2026-11-25", headers=manager)
    assert r.status_code == 200 and {d["employee_code"] for d in r.json()["items"]} == {"N1"}
    assert world.client.get(f"/api/v1/attendance/days?user_id={south['id']}", headers=manager).status_code == 403
    assert world.client.get("/api/v1/attendance/days", headers=employee).status_code == 403
    admin_days = world.client.get("/api/v1/attendance/days?from=2026-11-25&to=2026-11-25", headers=world.admin).json()
    assert admin_days["total"] == 2

    mine = world.client.get("/api/v1/attendance/me?from=2026-11-25&to=2026-11-25", headers=employee).json()["items"]
    assert len(mine) == 1 and mine[0]["user_id"] == north["id"] and len(mine[0]["punches"]) == 1
    assert mine[0]["status"] == "off_day"  # no shift assigned

    body = {"user_id": south["id"], "at": "2026-11-25T06:00:00Z", "reason": "x"}
    r = world.client.post("/api/v1/attendance/punches", json=body, headers=manager)
    assert r.status_code == 403
    r = world.client.post("/api/v1/attendance/punches", json=dict(body, user_id=north["id"]), headers=manager)
    assert r.status_code == 201
    own = r.json()["punch"]["id"]
    r = world.client.get(f"/api/v1/attendance/punches/{own}/audit", headers=manager)  # their site's punch
    assert r.status_code == 200 and [e["action"] for e in r.json()] == ["punch.create"]
    south_punch = world.client.get(f"/api/v1/attendance/punches?user_id={south['id']}&from=2026-11-25&to=2026-11-25",
                                   headers=world.admin).json()["items"][0]["id"]
    assert world.client.get(f"/api/v1/attendance/punches/{south_punch}/audit", headers=manager).status_code == 403
    assert world.client.get(f"/api/v1/attendance/punches/{own}/audit", headers=employee).status_code == 403
    r = world.client.post("/api/v1/attendance/punches", json=dict(body, user_id=north["id"]), headers=employee)
    assert r.status_code == 403
    assert error_code(world.client.get("/api/v1/attendance/days?from=2026-11-25&to=2025-11-25",
                                       headers=world.admin)) == "validation_error"
