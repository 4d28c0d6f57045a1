"""Access tokens carry their login (the token family, claim `fam`) and die with it: logout, refresh-token reuse,
a password change and deactivation end that login's access tokens at their next request, on every worker, while
the other logins of the same user keep working (issue 16, item 2)."""
from __future__ import annotations

import jwt
from fastapi.testclient import TestClient

from server.auth import tokens
from tests.fixtures.api import PASSWORD, admin_headers, bearer, create_user, error_code, login
from tests.fixtures import ADMIN_PASSWORD

ME = "/api/v1/users/me"


def _me(client, pair) -> int:
    return client.get(ME, headers=bearer(pair["access_token"])).status_code


def test_access_tokens_name_their_login(client, settings):
    pair = login(client, "admin@example.com", ADMIN_PASSWORD)
    access = tokens.decode_token(settings, pair["access_token"])
    refresh = tokens.decode_token(settings, pair["refresh_token"], typ=tokens.REFRESH)
    assert access["fam"] == refresh["fam"]
    again = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).json()
    assert tokens.decode_token(settings, again["access_token"])["fam"] == access["fam"]  # rotation keeps the login


def test_logout_ends_the_access_token_of_that_login_only(client):
    pair = login(client, "admin@example.com", ADMIN_PASSWORD)
    other = login(client, "admin@example.com", ADMIN_PASSWORD)
    assert _me(client, pair) == 200
    assert client.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}).status_code == 204
    r = client.get(ME, headers=bearer(pair["access_token"]))  # the very next request: no cache, no delay
    assert r.status_code == 401
    assert error_code(r) == "invalid_token"
    assert r.headers["www-authenticate"] == "Bearer"
    assert _me(client, other) == 200


def test_refresh_reuse_ends_every_access_token_of_the_family(client):
    first = login(client, "admin@example.com", ADMIN_PASSWORD)
    other = login(client, "admin@example.com", ADMIN_PASSWORD)
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    assert _me(client, first) == 200 and _me(client, second) == 200  # rotation alone revokes nothing
    reuse = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    assert _me(client, first) == 401
    assert _me(client, second) == 401  # the thief's fresh pair dies too
    assert _me(client, other) == 200


def test_password_change_and_deactivation_end_access_tokens(client):
    admin = admin_headers(client)
    user = create_user(client, admin, code="E1")
    pair = login(client, "E1", PASSWORD)
    assert _me(client, pair) == 200
    r = client.patch(f"/api/v1/users/{user['id']}", json={"password": "a-new-password-1"}, headers=admin)
    assert r.status_code == 200
    assert _me(client, pair) == 401
    fresh = login(client, "E1", "a-new-password-1")
    assert _me(client, fresh) == 200
    assert client.patch(f"/api/v1/users/{user['id']}", json={"is_active": False}, headers=admin).status_code == 200
    assert _me(client, fresh) == 401


def test_a_revocation_is_seen_by_another_worker_at_once(app, settings):
    """Two app instances on one database (as two uvicorn workers): logout through one, the other refuses."""
    from server.main import create_app

    with TestClient(app) as one, TestClient(create_app(settings)) as two:
        pair = login(one, "admin@example.com", ADMIN_PASSWORD)
        assert _me(two, pair) == 200
        assert two.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}).status_code == 204
        assert _me(one, pair) == 401


def test_tokens_without_a_live_login_are_refused(client, settings):
    pair = login(client, "admin@example.com", ADMIN_PASSWORD)
    claims = tokens.decode_token(settings, pair["access_token"])
    for forged in ({k: v for k, v in claims.items() if k != "fam"},  # no login at all (e.g. issued before)
                   {**claims, "fam": "0" * 32},                      # a login that never existed
                   {**claims, "fam": ""}):
        r = client.get(ME, headers=bearer(jwt.encode(forged, settings.jwt_secret, algorithm="HS256")))
        assert r.status_code == 401, forged
        assert error_code(r) == "invalid_token"


def test_a_login_of_another_user_does_not_vouch_for_this_one(client, settings):
    """The admin's claims with an employee's live login: refused (a family is bound to its user)."""
    create_user(client, admin_headers(client), code="E2")
    e2_fam = tokens.decode_token(settings, login(client, "E2", PASSWORD)["access_token"])["fam"]
    admin_claims = tokens.decode_token(settings, login(client, "admin@example.com", ADMIN_PASSWORD)["access_token"])
    forged = jwt.encode({**admin_claims, "fam": e2_fam}, settings.jwt_secret, algorithm="HS256")
    assert client.get(ME, headers=bearer(forged)).status_code == 401
