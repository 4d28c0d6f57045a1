"""Face login with real photos and the real engine: 1:1 and 1:N, frames, quality errors, lockout, decision records."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from server.main import create_app
from tests.fixtures.people import ANN, BOB, CAT, enroll, face_login, no_face, photos, two_faces  # noqa: F401
from tests.fixtures.api import admin_headers, bearer, create_user, error_code, user_headers


@pytest.fixture
def people(client):
    admin = admin_headers(client)
    ann = create_user(client, admin, code="ANN", site="north")
    bob = create_user(client, admin, code="BOB", site="north")
    enroll(client, admin, ann["id"], photos(ANN, 0, 1))
    enroll(client, admin, bob["id"], photos(BOB, 0))
    return {"admin": admin, "ann": ann, "bob": bob}


def test_one_to_many_login_returns_tokens_user_score_and_model(client, app, people):
    r = face_login(client, photos(ANN, 2)[0])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"]["id"] == people["ann"]["id"]
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    assert body["score"] >= app.state.faces.engine.threshold
    assert body["model_id"] == app.state.faces.engine.model_id
    me = client.get("/api/v1/users/me", headers=bearer(body["access_token"]))
    assert me.json()["employee_code"] == "ANN"
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": body["refresh_token"]}).status_code == 200


def test_one_to_one_with_employee_code(client, people):
    r = face_login(client, photos(ANN, 2)[0], employee_code="ANN")
    assert r.status_code == 200
    assert r.json()["user"]["employee_code"] == "ANN"
    r = face_login(client, photos(ANN, 2)[0], employee_code="BOB")  # Ann claiming to be Bob
    assert r.status_code == 401
    assert error_code(r) == "face_not_recognized"
    assert face_login(client, photos(ANN, 2)[0], employee_code="NOBODY").status_code == 401


def test_unknown_face_is_401(client, people):
    r = face_login(client, photos(CAT, 0)[0])
    assert r.status_code == 401
    assert error_code(r) == "face_not_recognized"


@pytest.mark.parametrize("image, code", [(no_face, "no_face"), (two_faces, "multiple_faces")])
def test_quality_failures_are_422_with_the_engine_code(client, people, image, code):
    r = face_login(client, image())
    assert r.status_code == 422
    assert error_code(r) == code


def test_garbage_upload_is_422(client, people):
    r = face_login(client, b"GIF89a not really")
    assert r.status_code == 422
    assert error_code(r) == "invalid_image"


def test_frames_must_all_agree(client, people):
    assert face_login(client, [photos(ANN, 2)[0], photos(ANN, 1)[0]]).status_code == 200
    r = face_login(client, [photos(ANN, 2)[0], photos(BOB, 1)[0]])
    assert r.status_code == 401
    r = face_login(client, photos(ANN, 0, 1, 2) + photos(ANN, 2))
    assert r.status_code == 422


def test_no_image_is_422(client):
    r = client.post("/api/v1/auth/face-login", data={"employee_code": "ANN"})
    assert r.status_code == 422


def test_inactive_user_is_not_recognized(client, people):
    client.patch(f"/api/v1/users/{people['ann']['id']}", json={"is_active": False}, headers=people["admin"])
    assert face_login(client, photos(ANN, 2)[0]).status_code == 401


def test_five_failures_for_a_code_lock_it_even_for_the_right_face(client, people):
    for _ in range(5):
        assert face_login(client, photos(CAT, 0)[0], employee_code="ANN").status_code == 401
    r = face_login(client, photos(ANN, 2)[0], employee_code="ANN")
    assert r.status_code == 429
    assert error_code(r) == "too_many_attempts"
    assert 0 < int(r.headers["Retry-After"]) <= 900
    # Bob is not locked; password login counts separately
    assert face_login(client, photos(BOB, 1)[0], employee_code="BOB").status_code == 200


def test_face_lockout_holds_across_restarts(settings, client, people):
    for _ in range(5):
        face_login(client, photos(CAT, 0)[0], employee_code="ANN")
    with TestClient(create_app(settings)) as other:
        r = face_login(other, photos(ANN, 2)[0], employee_code="ANN")
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def test_twenty_failures_from_one_client_lock_the_client(client, people):
    cat = photos(CAT, 0)[0]
    for _ in range(20):
        assert face_login(client, cat).status_code == 401
    r = face_login(client, photos(ANN, 2)[0])
    assert r.status_code == 429


def test_quality_failures_do_not_count_towards_lockout(client, people):
    for _ in range(6):
        assert face_login(client, no_face(), employee_code="ANN").status_code == 422
    assert face_login(client, photos(ANN, 2)[0], employee_code="ANN").status_code == 200


def test_every_attempt_writes_a_decision_record_admins_can_list(client, app, people):
    admin = people["admin"]
    face_login(client, photos(ANN, 2)[0])
    face_login(client, photos(CAT, 0)[0])
    face_login(client, no_face())
    face_login(client, photos(ANN, 2)[0], employee_code="ANN")
    r = client.get("/api/v1/face-attempts", params={"purpose": "login"}, headers=admin)
    assert r.status_code == 200
    page = r.json()
    assert page["total"] == 4
    newest_first = [a["decision"] for a in page["items"]]
    assert newest_first == ["recognized", "rejected:no_face", "unknown", "recognized"]
    one_to_n = page["items"][3]
    assert one_to_n["best_user_id"] == people["ann"]["id"]
    assert one_to_n["model_id"] == app.state.faces.engine.model_id
    assert one_to_n["best_score"] >= one_to_n["threshold"]
    assert one_to_n["runner_up_score"] is not None and one_to_n["runner_up_score"] < one_to_n["best_score"]
    assert one_to_n["latency_ms"] > 0 and one_to_n["client"] == "testclient"
    unknown = page["items"][2]
    assert unknown["best_score"] < unknown["threshold"]
    enrolls = client.get("/api/v1/face-attempts", params={"purpose": "enroll"}, headers=admin).json()
    assert [a["decision"] for a in enrolls["items"]] == ["enrolled", "enrolled"]
    rejected = client.get("/api/v1/face-attempts", params={"decision": "rejected:"}, headers=admin).json()
    assert rejected["total"] == 1


def test_records_are_admin_only(client, people):
    _, mh = user_headers(client, people["admin"], code="M1", role="manager", site="north")
    _, eh = user_headers(client, people["admin"], code="E9", site="north")
    for headers in (mh, eh):
        assert client.get("/api/v1/face-attempts", headers=headers).status_code == 403
        assert client.get("/api/v1/audit", headers=headers).status_code == 403
    assert client.get("/api/v1/face-attempts").status_code == 401


def _login_records(client, admin):
    return client.get("/api/v1/face-attempts", params={"purpose": "login"}, headers=admin).json()["items"]


def test_inactive_user_one_to_one_is_recorded_as_refused_and_counted(client, app, people):
    admin, ann = people["admin"], people["ann"]
    assert client.patch(f"/api/v1/users/{ann['id']}", json={"is_active": False}, headers=admin).status_code == 200
    r = face_login(client, photos(ANN, 2)[0], employee_code="ANN")
    assert r.status_code == 401
    assert error_code(r) == "face_not_recognized"  # the caller is not told the account is inactive
    record = _login_records(client, admin)[0]
    assert record["decision"] == "refused:inactive_user"
    assert record["best_user_id"] == ann["id"]
    assert record["best_score"] >= record["threshold"]  # the face did match: the record says why login failed
    for _ in range(4):
        assert face_login(client, photos(ANN, 2)[0], employee_code="ANN").status_code == 401
    assert face_login(client, photos(ANN, 2)[0], employee_code="ANN").status_code == 429


def test_user_enrolled_with_another_model_only_is_recorded_and_counted(client, app, people):
    import numpy as np

    from server.faces.models import FaceTemplate

    admin = people["admin"]
    old = create_user(client, admin, code="OLD", site="north")
    v = np.random.default_rng(0).standard_normal(128).astype(np.float32)
    v /= np.linalg.norm(v)
    with app.state.db.session() as s:
        s.add(FaceTemplate(user_id=old["id"], model_id="some-older-model", dim=128, embedding=v.tobytes(),
                           quality={}))
    r = face_login(client, photos(ANN, 2)[0], employee_code="OLD")
    assert r.status_code == 401
    assert error_code(r) == "face_not_recognized"
    record = _login_records(client, admin)[0]
    assert record["decision"] == "rejected:model_mismatch"
    assert record["best_user_id"] == old["id"]
    assert record["model_id"] == app.state.faces.engine.model_id
    for _ in range(4):
        assert face_login(client, photos(ANN, 2)[0], employee_code="OLD").status_code == 401
    r = face_login(client, photos(ANN, 2)[0], employee_code="OLD")
    assert r.status_code == 429
    assert len(_login_records(client, admin)) == 5  # the locked attempt is refused before any face work


def test_every_outcome_of_one_to_one_writes_one_record(client, people):
    admin = people["admin"]
    cases = [(photos(ANN, 2)[0], "ANN", 200, "recognized"), (photos(ANN, 2)[0], "BOB", 401, "unknown"),
             (photos(ANN, 2)[0], "NOBODY", 401, "unknown"), (no_face(), "ANN", 422, "rejected:no_face")]
    for image, code, status, decision in cases:
        before = len(_login_records(client, admin))
        assert face_login(client, image, employee_code=code).status_code == status
        records = _login_records(client, admin)
        assert len(records) == before + 1 and records[0]["decision"] == decision, (code, records[0])


def test_employee_code_is_exact_for_face_lockout(client, people):
    for _ in range(5):
        assert face_login(client, photos(CAT, 0)[0], employee_code="ann").status_code == 401  # no such code
    assert face_login(client, photos(ANN, 2)[0], employee_code="ann").status_code == 429
    assert face_login(client, photos(ANN, 2)[0], employee_code="ANN").status_code == 200
