"""The transaction rule (server/deps.py): a request's writes are committed before its answer leaves, so a commit
that fails is answered with an error — never a 2xx — and nothing of the write is stored.

The failure is made real: a hook on the session's commit (SQLAlchemy's `before_commit` on the app's session factory)
flushes, so every statement of the request has run in the database, and then raises what a busy SQLite or a
PostgreSQL serialization failure raises (an OperationalError, answered 503 database_unavailable) or any other error
(answered 500). One representative write per router that writes; audit and reports only read.
"""
from __future__ import annotations

import sqlite3
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from server.attendance.models import Punch
from server.auth.models import RefreshToken
from server.devices.models import Device
from server.faces.models import FaceAttempt, FaceTemplate
from server.shifts.models import Shift, ShiftAssignment
from server.users.models import User
from tests.fixtures.people import ANN, enroll, photos  # noqa: F401
from tests.fixtures.api import admin_headers, create_user

FAILURES = {
    # what a busy SQLite ("database is locked") or a PostgreSQL serialization failure raises at COMMIT
    "database_busy": (lambda: OperationalError("COMMIT", None, sqlite3.OperationalError("database is locked")), 503),
    "unexpected": (lambda: RuntimeError("commit failed"), 500),
}


@pytest.fixture(params=sorted(FAILURES))
def failing_commit(request, app):
    """`with failing_commit():` — every commit of the app's sessions inside the block fails (after a flush)."""
    make_error, status = FAILURES[request.param]
    armed = {"on": False, "failed": 0}

    def hook(session):
        if armed["on"] and not session.in_nested_transaction():  # the transaction's commit, not a savepoint's
            session.flush()  # every statement of the transaction has reached the database
            armed["failed"] += 1
            raise make_error()

    @contextmanager
    def arm():
        armed["on"] = True
        try:
            yield
        finally:
            armed["on"] = False
        assert armed["failed"], "the request never committed"

    event.listen(app.state.db.sessionmaker, "before_commit", hook)
    arm.status = status
    yield arm
    event.remove(app.state.db.sessionmaker, "before_commit", hook)


@pytest.fixture
def admin(client):
    return admin_headers(client)


def _count(app, model, *where) -> int:
    with app.state.db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _refused(r, failing_commit) -> None:
    assert not 200 <= r.status_code < 300, f"a failed commit was answered {r.status_code}: {r.text}"
    assert r.status_code == failing_commit.status, r.text
    code = "database_unavailable" if failing_commit.status == 503 else "internal_error"
    assert r.json()["error"]["code"] == code


def test_users_create(client, app, admin, failing_commit):
    with failing_commit():
        r = client.post("/api/v1/users", json={"employee_code": "LOST", "full_name": "Never stored"},
                        headers=admin)
    _refused(r, failing_commit)
    assert _count(app, User, User.employee_code == "LOST") == 0
    assert client.get("/api/v1/users", params={"search": "LOST"}, headers=admin).json()["total"] == 0


def test_users_delete(client, app, admin, failing_commit):
    user = create_user(client, admin, code="KEPT")
    with failing_commit():
        r = client.delete(f"/api/v1/users/{user['id']}", headers=admin)
    _refused(r, failing_commit)
    assert client.get(f"/api/v1/users/{user['id']}", headers=admin).json()["is_active"] is True


def test_enrollment(client, app, admin, failing_commit):
    ann = create_user(client, admin, code="ANN")
    with failing_commit():
        r = client.post(f"/api/v1/users/{ann['id']}/faces", data={"consent": "true"},
                        files=[("images", (f"p{i}.jpg", b, "image/jpeg")) for i, b in enumerate(photos(ANN, 0, 1))],
                        headers=admin)
    _refused(r, failing_commit)
    assert _count(app, FaceTemplate) == 0
    assert app.state.faces.gallery.size() == 0  # the gallery learns templates on commit only
    assert client.get(f"/api/v1/users/{ann['id']}/faces", headers=admin).json() == []


def test_auth_login(client, app, failing_commit):
    before = _count(app, RefreshToken)
    with failing_commit():
        r = client.post("/api/v1/auth/login", data={"username": "admin@example.com",
                                                    "password": "admin-password-123"})
    _refused(r, failing_commit)
    assert "access_token" not in r.json()
    assert _count(app, RefreshToken) == before


def test_devices_create(client, app, admin, failing_commit):
    with failing_commit():
        r = client.post("/api/v1/devices", json={"name": "Lost door"}, headers=admin)
    _refused(r, failing_commit)
    assert "api_key" not in r.json()
    assert _count(app, Device) == 0


def test_shifts_create_and_assign(client, app, admin, failing_commit):
    spec = {"name": "Lost", "timezone": "UTC", "start_time": "08:00", "end_time": "16:00", "weekdays": [0, 1, 2]}
    with failing_commit():
        r = client.post("/api/v1/shifts", json=spec, headers=admin)
    _refused(r, failing_commit)
    assert _count(app, Shift, Shift.name == "Lost") == 0
    user = create_user(client, admin, code="E1")
    day = client.get("/api/v1/shifts", headers=admin).json()[0]["id"]
    with failing_commit():
        r = client.put(f"/api/v1/users/{user['id']}/shift", json={"shift_id": day, "valid_from": "2026-01-05"},
                       headers=admin)
    _refused(r, failing_commit)
    assert _count(app, ShiftAssignment) == 0


def test_attendance_manual_punch(client, app, admin, failing_commit):
    user = create_user(client, admin, code="E1")
    with failing_commit():
        r = client.post("/api/v1/attendance/punches", json={"user_id": user["id"], "at": "2026-01-05T09:00:00Z",
                                                            "kind": "in", "reason": "forgot the badge"},
                        headers=admin)
    _refused(r, failing_commit)
    assert _count(app, Punch) == 0


def test_kiosk_check(client, app, admin, failing_commit):
    """The kiosk check owns its transactions; its commit failing is an error answer too, never a punch."""
    ann = create_user(client, admin, code="ANN")
    enroll(client, admin, ann["id"], photos(ANN, 0, 1))
    key = client.post("/api/v1/devices", json={"name": "Door"}, headers=admin).json()["api_key"]
    with failing_commit():
        r = client.post("/api/v1/kiosk/check", data={"request_id": str(uuid.uuid4())},
                        files={"image": ("f.jpg", photos(ANN, 2)[0], "image/jpeg")}, headers={"X-Device-Key": key})
    _refused(r, failing_commit)
    assert _count(app, Punch) == 0


def test_faces_verify(client, app, admin, failing_commit):
    before = _count(app, FaceAttempt)
    with failing_commit():
        r = client.post("/api/v1/faces/verify", headers=admin,
                        files={"image1": ("a.jpg", photos(ANN, 0)[0], "image/jpeg"),
                               "image2": ("b.jpg", photos(ANN, 1)[0], "image/jpeg")})
    _refused(r, failing_commit)
    assert _count(app, FaceAttempt) == before


def test_kept_records_outlive_the_rollback_and_savepoints(db):
    """keep_on_failure: the record stays when the transaction fails (a savepoint released in between does not
    forget it); the rest of the transaction does not; a transaction that commits writes it once."""
    from server.auth.models import LoginFailure
    from server.clock import now
    from server.database import keep_on_failure

    def failure(s):
        s.add(LoginFailure(kind="password", subject="E1", client="test", at=now()))

    with pytest.raises(RuntimeError), db.session() as s:
        keep_on_failure(s, failure)
        with s.begin_nested():
            s.add(Device(name="gone", key_prefix="fck_x", key_hash="x" * 64, created_at=now()))
        raise RuntimeError("the request fails")
    with db.session() as s:
        keep_on_failure(s, failure)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(LoginFailure)) == 2
        assert s.scalar(select(func.count()).select_from(Device)) == 0


def _today() -> str:
    from server.clock import now

    return now().date().isoformat()


def test_attendance_day_mark(client, app, admin, failing_commit):
    from server.attendance.models import DayMark

    user = create_user(client, admin, code="E1")
    with failing_commit():
        r = client.put(f"/api/v1/attendance/days/{user['id']}/{_today()}", json={"status": "remote", "reason": "x"},
                       headers=admin)
    _refused(r, failing_commit)
    assert _count(app, DayMark) == 0


def test_leaves_create(client, app, admin, failing_commit):
    from server.leaves.models import Leave

    user = create_user(client, admin, code="E1")
    with failing_commit():
        r = client.post("/api/v1/leaves", json={"user_id": user["id"], "from": _today(), "to": _today(),
                                                "kind": "vacation", "reason": "summer"}, headers=admin)
    _refused(r, failing_commit)
    assert _count(app, Leave) == 0


def test_holidays_create(client, app, admin, failing_commit):
    from server.holidays.models import Holiday

    with failing_commit():
        r = client.post("/api/v1/holidays", json={"date": _today(), "name": "Founders' day"}, headers=admin)
    _refused(r, failing_commit)
    assert _count(app, Holiday) == 0


def test_requests_create(client, app, admin, failing_commit):
    from server.requests.models import EmployeeRequest
    from tests.fixtures.api import user_headers

    _, employee = user_headers(client, admin, code="E1")
    with failing_commit():
        r = client.post("/api/v1/requests", json={"type": "missed_punch", "at": f"{_today()}T00:00:01+00:00",
                                                  "kind": "in", "reason": "the kiosk was down"}, headers=employee)
    _refused(r, failing_commit)
    assert _count(app, EmployeeRequest) == 0


def test_liveness_challenges_and_device_change(client, app, admin, failing_commit):
    from server.liveness.models import Challenge

    created = client.post("/api/v1/devices", json={"name": "Door"}, headers=admin).json()
    with failing_commit():
        r = client.post("/api/v1/kiosk/challenge", headers={"X-Device-Key": created["api_key"]})
    _refused(r, failing_commit)
    with failing_commit():
        r = client.post("/api/v1/auth/face-login/challenge")
    _refused(r, failing_commit)
    assert _count(app, Challenge) == 0
    with failing_commit():
        r = client.patch(f"/api/v1/devices/{created['id']}", json={"liveness": "challenge"}, headers=admin)
    _refused(r, failing_commit)
    assert _count(app, Device, Device.liveness_mode.is_not(None)) == 0
