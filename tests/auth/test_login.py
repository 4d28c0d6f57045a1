"""Password login, refresh rotation with reuse detection, logout, /users/me."""
from __future__ import annotations

from tests.fixtures.api import PASSWORD, admin_headers, bearer, create_user, error_code, login
from tests.fixtures import ADMIN_PASSWORD


def test_login_by_email_and_by_employee_code(client):
    by_email = login(client, "admin@example.com", ADMIN_PASSWORD)
    assert by_email["token_type"] == "bearer"
    assert by_email["expires_in"] == 15 * 60
    assert by_email["access_token"] and by_email["refresh_token"]
    by_code = login(client, "ADMIN", ADMIN_PASSWORD)
    me = client.get("/api/v1/users/me", headers=bearer(by_code["access_token"]))
    assert me.status_code == 200
    assert me.json()["email"] == "admin@example.com"
    assert me.json()["role"] == "admin"
    assert "password_hash" not in me.json()


def test_email_login_is_case_insensitive(client):
    login(client, "Admin@Example.COM", ADMIN_PASSWORD)


def test_wrong_password_and_unknown_user_give_the_same_answer(client):
    wrong = client.post("/api/v1/auth/login", data={"username": "admin@example.com", "password": "nope-nope-nope"})
    unknown = client.post("/api/v1/auth/login", data={"username": "ghost@example.com", "password": "nope-nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert error_code(wrong) == "invalid_credentials"


def test_inactive_user_cannot_log_in(client):
    admin = admin_headers(client)
    user = create_user(client, admin, code="E1")
    login(client, "E1", PASSWORD)
    r = client.patch(f"/api/v1/users/{user['id']}", json={"is_active": False}, headers=admin)
    assert r.status_code == 200, r.text
    assert error_code(client.post("/api/v1/auth/login", data={"username": "E1", "password": PASSWORD})) \
        == "invalid_credentials"


def test_me_requires_a_token(client):
    r = client.get("/api/v1/users/me")
    assert r.status_code == 401
    assert error_code(r) == "not_authenticated"
    assert r.headers["www-authenticate"] == "Bearer"


def test_refresh_rotates_and_spends_the_old_token(client):
    first = login(client, "admin@example.com", ADMIN_PASSWORD)
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/users/me", headers=bearer(second["access_token"])).status_code == 200
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 200


def test_refresh_reuse_revokes_the_whole_family(client):
    first = login(client, "admin@example.com", ADMIN_PASSWORD)
    other_login = login(client, "admin@example.com", ADMIN_PASSWORD)  # another family: must survive
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    # the spent token is presented again (stolen copy): 401, and the family's live token dies with it
    reuse = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    assert error_code(reuse) == "invalid_token"
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 401
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": other_login["refresh_token"]})
    assert r.status_code == 200


def test_access_token_is_not_a_refresh_token_and_vice_versa(client):
    pair = login(client, "admin@example.com", ADMIN_PASSWORD)
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": pair["access_token"]}).status_code == 401
    r = client.get("/api/v1/users/me", headers=bearer(pair["refresh_token"]))
    assert r.status_code == 401
    assert error_code(r) == "invalid_token"


def test_logout_revokes_the_refresh_token(client):
    pair = login(client, "admin@example.com", ADMIN_PASSWORD)
    r = client.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})
    assert r.status_code == 204
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert r.status_code == 401


def test_logout_with_a_forged_token_is_rejected(client):
    r = client.post("/api/v1/auth/logout", json={"refresh_token": "not.a.token"})
    assert r.status_code == 401


def test_deactivation_kills_access_and_refresh_tokens(client):
    admin = admin_headers(client)
    user = create_user(client, admin, code="E2")
    pair = login(client, "E2", PASSWORD)
    assert client.patch(f"/api/v1/users/{user['id']}", json={"is_active": False}, headers=admin).status_code == 200
    assert client.get("/api/v1/users/me", headers=bearer(pair["access_token"])).status_code == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401


def test_odd_input_is_a_clean_4xx_never_a_500(client):
    admin = {"Authorization": "Bearer " + login(client, "admin@example.com", ADMIN_PASSWORD)["access_token"]}
    assert client.post("/api/v1/auth/login", data={"username": "a\x00b", "password": "x"}).status_code == 401
    assert client.post("/api/v1/auth/login", data={"username": "x" * 5000, "password": "x"}).status_code == 401
    assert client.post("/api/v1/users", json={"employee_code": "E1", "full_name": "a\x00b"},
                       headers=admin).status_code == 422
    assert client.get("/api/v1/users/99999999999999", headers=admin).status_code == 422
    assert client.get("/api/v1/audit", params={"since": "2026-01-01T00:00:00"}, headers=admin).status_code == 200
    assert client.get("/api/v1/face-attempts", params={"user_id": 2**40}, headers=admin).status_code == 422
