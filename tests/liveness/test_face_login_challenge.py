"""Face login with LIVENESS_LOGIN=challenge: real photos, the real engine, the decision record and the lockout."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from server.faces.models import FaceAttempt
from tests.fixtures.people import enroll
from tests.fixtures.api import admin_headers, create_user, error_code
from tests.liveness.test_kiosk_challenge import ENROLL, FRONTAL, shifted_copy, stranger_turned, turned


@pytest.fixture
def settings(settings_factory, db_url):
    return settings_factory(db_url, liveness_login="challenge")


@pytest.fixture
def paul(client):
    admin = admin_headers(client)
    user = create_user(client, admin, code="PAUL")
    enroll(client, admin, user["id"], [p.read_bytes() for p in ENROLL])
    return user


def login(client, frames, challenge_id=None, **form):
    data = dict(form, **({"challenge_id": challenge_id} if challenge_id else {}))
    return client.post("/api/v1/auth/face-login", data=data,
                       files=[("images", (f"f{i}.jpg", f, "image/jpeg")) for i, f in enumerate(frames)])


def new_challenge(client) -> dict:
    r = client.post("/api/v1/auth/face-login/challenge")
    assert r.status_code == 201, r.text
    return r.json()


def test_login_answers_a_challenge(client, paul):
    r = login(client, [FRONTAL])
    assert r.status_code == 422 and error_code(r) == "liveness_required"
    c = new_challenge(client)
    r = login(client, [FRONTAL, turned(c["action"])], c["challenge_id"])
    assert r.status_code == 200, r.text
    assert r.json()["user"]["id"] == paul["id"] and r.json()["access_token"]
    r = login(client, [FRONTAL, turned(c["action"])], c["challenge_id"])
    assert r.status_code == 409 and error_code(r) == "challenge_used"
    c = new_challenge(client)  # 1:1 with the employee code
    r = login(client, [FRONTAL, turned(c["action"])], c["challenge_id"], employee_code="PAUL")
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("attack, reason", [("copies", "same_frames"), ("other", "identity_changed"),
                                            ("wrong_way", "wrong_direction")])
def test_login_attacks_are_refused_recorded_and_counted(client, paul, attack, reason):
    c = new_challenge(client)
    wrong = "turn_left" if c["action"] == "turn_right" else "turn_right"
    frames = {"copies": [FRONTAL, shifted_copy(FRONTAL)], "other": [FRONTAL, stranger_turned(c["action"])],
              "wrong_way": [FRONTAL, turned(wrong)]}[attack]
    r = login(client, frames, c["challenge_id"])
    assert r.status_code == 422, r.text
    assert error_code(r) == "liveness_failed" and r.json()["error"]["reason"] == reason
    with client.app.state.db.session() as s:
        row = s.scalars(select(FaceAttempt).where(FaceAttempt.purpose == "login")
                        .order_by(FaceAttempt.id.desc())).first()
        assert row.decision == f"liveness:{reason}" and row.liveness["reason"] == reason
        assert row.best_user_id == paul["id"]
    from server.auth.models import LoginFailure

    with client.app.state.db.session() as s:
        assert len(s.scalars(select(LoginFailure)).all()) == 1  # counted toward the lockout


def test_a_login_challenge_is_bound_to_its_purpose(client, paul):
    admin = admin_headers(client)
    key = client.post("/api/v1/devices", json={"name": "Door"}, headers=admin).json()["api_key"]
    kiosk = client.post("/api/v1/kiosk/challenge", headers={"X-Device-Key": key}).json()
    r = login(client, [FRONTAL, turned(kiosk["action"])], kiosk["challenge_id"])
    assert r.status_code == 422 and error_code(r) == "liveness_required"
