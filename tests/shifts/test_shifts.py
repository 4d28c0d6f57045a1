"""Shifts CRUD and assignments over HTTP (real app, real database)."""
from __future__ import annotations

from tests.fixtures.api import admin_headers, create_user, error_code, user_headers

NIGHT_MADRID = {"name": "Madrid night", "timezone": "Europe/Madrid", "start_time": "22:00", "end_time": "06:00",
                "weekdays": [0, 1, 2, 3, 4], "grace_in_minutes": 10, "grace_out_minutes": 5, "break_minutes": 30}


def test_seeded_shifts_are_listed(client):
    admin = admin_headers(client)
    names = {s["name"]: s for s in client.get("/api/v1/shifts", headers=admin).json()}
    assert {"Day", "Night"} <= set(names)
    assert names["Night"]["overnight"] is True and names["Day"]["overnight"] is False


def test_crud_and_archive(client):
    admin = admin_headers(client)
    r = client.post("/api/v1/shifts", json=NIGHT_MADRID, headers=admin)
    assert r.status_code == 201, r.text
    shift = r.json()
    assert shift["overnight"] and shift["start_time"] == "22:00:00" and shift["timezone"] == "Europe/Madrid"
    assert client.post("/api/v1/shifts", json=NIGHT_MADRID, headers=admin).status_code == 409

    r = client.patch(f"/api/v1/shifts/{shift['id']}", json={"grace_in_minutes": 15, "weekdays": [5, 6, 5]},
                     headers=admin)
    assert r.status_code == 200 and r.json()["grace_in_minutes"] == 15 and r.json()["weekdays"] == [5, 6]
    assert client.get(f"/api/v1/shifts/{shift['id']}", headers=admin).json()["grace_in_minutes"] == 15

    assert client.delete(f"/api/v1/shifts/{shift['id']}", headers=admin).status_code == 204
    listed = [s["id"] for s in client.get("/api/v1/shifts", headers=admin).json()]
    assert shift["id"] not in listed
    archived = client.get("/api/v1/shifts?include_inactive=true", headers=admin).json()
    assert any(s["id"] == shift["id"] and not s["is_active"] for s in archived)
    assert client.get("/api/v1/shifts/999999", headers=admin).status_code == 404


def test_validation(client):
    admin = admin_headers(client)
    bad_zone = dict(NIGHT_MADRID, name="x", timezone="Mars/Olympus")
    assert client.post("/api/v1/shifts", json=bad_zone, headers=admin).status_code == 422
    bad_days = dict(NIGHT_MADRID, name="y", weekdays=[7])
    assert client.post("/api/v1/shifts", json=bad_days, headers=admin).status_code == 422
    long_break = dict(NIGHT_MADRID, name="z", break_minutes=480)
    assert client.post("/api/v1/shifts", json=long_break, headers=admin).status_code == 422


def test_only_admin_writes_shifts(client):
    admin = admin_headers(client)
    _, employee = user_headers(client, admin, code="E1")
    _, manager = user_headers(client, admin, code="M1", role="manager", site="north")
    assert client.get("/api/v1/shifts", headers=employee).status_code == 200
    assert client.post("/api/v1/shifts", json=NIGHT_MADRID, headers=employee).status_code == 403
    assert client.post("/api/v1/shifts", json=NIGHT_MADRID, headers=manager).status_code == 403
    assert client.get("/api/v1/shifts").status_code == 401


def _shift_id(client, headers, name):
    return next(s["id"] for s in client.get("/api/v1/shifts", headers=headers).json() if s["name"] == name)


def test_assignments_history_and_overlaps(client):
    admin = admin_headers(client)
    user = create_user(client, admin, code="E2")
    day, night = _shift_id(client, admin, "Day"), _shift_id(client, admin, "Night")
    url = f"/api/v1/users/{user['id']}/shift"

    r = client.put(url, json={"shift_id": day, "valid_from": "2026-01-01"}, headers=admin)
    assert r.status_code == 200, r.text
    # from March on, nights: the open-ended day assignment is ended on the last day of February
    r = client.put(url, json={"shift_id": night, "valid_from": "2026-03-01", "valid_to": "2026-03-31"}, headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["closed"][0]["valid_to"] == "2026-02-28"
    assert [(a["shift_name"], a["valid_from"], a["valid_to"]) for a in body["history"]] == [
        ("Day", "2026-01-01", "2026-02-28"), ("Night", "2026-03-01", "2026-03-31")]

    # overlapping a bounded range → 409, nothing changed
    r = client.put(url, json={"shift_id": day, "valid_from": "2026-03-15"}, headers=admin)
    assert r.status_code == 409 and error_code(r) == "assignment_overlap"
    r = client.put(url, json={"shift_id": day, "valid_from": "2025-12-01", "valid_to": "2026-01-05"}, headers=admin)
    assert r.status_code == 409
    r = client.put(url, json={"shift_id": day, "valid_from": "2026-04-01"}, headers=admin)
    assert r.status_code == 200
    hist = client.get(f"/api/v1/users/{user['id']}/shifts", headers=admin).json()
    assert len(hist) == 3 and hist[-1]["valid_to"] is None

    r = client.put(url, json={"shift_id": day, "valid_from": "2026-05-02", "valid_to": "2026-05-01"}, headers=admin)
    assert r.status_code == 422


def test_managers_assign_only_their_site(client):
    admin = admin_headers(client)
    _, manager = user_headers(client, admin, code="M2", role="manager", site="north")
    mine = create_user(client, admin, code="N1", site="north")
    other = create_user(client, admin, code="S1", site="south")
    day = _shift_id(client, admin, "Day")
    body = {"shift_id": day, "valid_from": "2026-01-01"}
    assert client.put(f"/api/v1/users/{mine['id']}/shift", json=body, headers=manager).status_code == 200
    assert client.put(f"/api/v1/users/{other['id']}/shift", json=body, headers=manager).status_code == 403
    _, employee = user_headers(client, admin, code="N2", site="north")
    assert client.put(f"/api/v1/users/{mine['id']}/shift", json=body, headers=employee).status_code == 403


def test_archived_shift_cannot_be_assigned(client):
    admin = admin_headers(client)
    user = create_user(client, admin, code="E3")
    sid = client.post("/api/v1/shifts", json=dict(NIGHT_MADRID, name="temp"), headers=admin).json()["id"]
    client.delete(f"/api/v1/shifts/{sid}", headers=admin)
    r = client.put(f"/api/v1/users/{user['id']}/shift", json={"shift_id": sid, "valid_from": "2026-01-01"},
                   headers=admin)
    assert r.status_code == 409 and error_code(r) == "shift_archived"


def test_changes_are_audited(client):
    admin = admin_headers(client)
    sid = client.post("/api/v1/shifts", json=dict(NIGHT_MADRID, name="audited"), headers=admin).json()["id"]
    client.patch(f"/api/v1/shifts/{sid}", json={"break_minutes": 45}, headers=admin)
    app = client.app
    from server.audit.models import AuditEntry
    from sqlalchemy import select

    with app.state.db.session() as s:
        actions = [e.action for e in s.scalars(select(AuditEntry).where(AuditEntry.entity_id == str(sid)))]
    assert "shifts.create" in actions and "shifts.update" in actions
