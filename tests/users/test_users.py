"""Users CRUD over HTTP with role rules: admin everything, manager its own site's employees, employee itself."""
from __future__ import annotations

import pytest

from tests.fixtures.api import PASSWORD, admin_headers, bearer, create_user, error_code, login, user_headers


@pytest.fixture
def admin(client):
    return admin_headers(client)


def test_create_returns_the_user_without_the_hash(client, admin):
    u = create_user(client, admin, code="E100", email="Ann@Example.com", site="north", timezone="Europe/Paris")
    assert u["employee_code"] == "E100"
    assert u["email"] == "ann@example.com"
    assert u["role"] == "employee"
    assert u["site"] == "north"
    assert u["timezone"] == "Europe/Paris"
    assert u["is_active"] is True
    assert u["has_password"] is True
    assert not any("hash" in k for k in u)
    assert "password" not in u


def test_duplicate_employee_code_and_email_are_409_naming_the_field(client, admin):
    create_user(client, admin, code="E1", email="a@example.com")
    r = client.post("/api/v1/users", json={"employee_code": "E1", "full_name": "x"}, headers=admin)
    assert r.status_code == 409
    assert r.json()["error"] == {"code": "conflict", "message": "employee_code already in use",
                                 "field": "employee_code"}
    r = client.post("/api/v1/users", json={"employee_code": "E2", "full_name": "x", "email": "A@example.com"},
                    headers=admin)
    assert r.status_code == 409
    assert r.json()["error"]["field"] == "email"


def test_password_needs_at_least_ten_characters(client, admin):
    r = client.post("/api/v1/users", json={"employee_code": "E1", "full_name": "x", "password": "123456789"},
                    headers=admin)
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "password"
    create_user(client, admin, code="E1", password="1234567890")
    login(client, "E1", "1234567890")


def test_bad_input_is_422(client, admin):
    for body in ({"employee_code": "E1", "full_name": "x", "role": "superuser"},
                 {"employee_code": "E1", "full_name": "x", "email": "not-an-email"},
                 {"employee_code": "E1", "full_name": "x", "timezone": "Mars/Olympus"},
                 {"employee_code": "has space", "full_name": "x"},
                 {"full_name": "x"}):
        r = client.post("/api/v1/users", json=body, headers=admin)
        assert r.status_code == 422, (body, r.text)


def test_list_pages_and_filters(client, admin):
    for i in range(5):
        create_user(client, admin, code=f"E{i}", site="north" if i % 2 else "south")
    create_user(client, admin, code="M1", role="manager", site="north")
    r = client.get("/api/v1/users", params={"limit": 2}, headers=admin).json()
    assert r["total"] == 7 and len(r["items"]) == 2 and r["limit"] == 2
    page2 = client.get("/api/v1/users", params={"limit": 2, "offset": 2}, headers=admin).json()
    assert {u["id"] for u in page2["items"]}.isdisjoint({u["id"] for u in r["items"]})
    assert client.get("/api/v1/users", params={"role": "manager"}, headers=admin).json()["total"] == 1
    assert client.get("/api/v1/users", params={"site": "north"}, headers=admin).json()["total"] == 3
    assert client.get("/api/v1/users", params={"search": "e3"}, headers=admin).json()["total"] == 1
    e4 = client.get("/api/v1/users", params={"search": "E4"}, headers=admin).json()["items"][0]
    client.patch(f"/api/v1/users/{e4['id']}", json={"is_active": False}, headers=admin)
    assert client.get("/api/v1/users", params={"active": False}, headers=admin).json()["total"] == 1


def test_get_and_patch(client, admin):
    u = create_user(client, admin, code="E1")
    assert client.get(f"/api/v1/users/{u['id']}", headers=admin).json()["employee_code"] == "E1"
    r = client.patch(f"/api/v1/users/{u['id']}", json={"full_name": "Ann Lee", "role": "manager", "site": "x"},
                     headers=admin)
    assert r.status_code == 200
    assert (r.json()["full_name"], r.json()["role"], r.json()["site"]) == ("Ann Lee", "manager", "x")
    assert client.get("/api/v1/users/999999", headers=admin).status_code == 404


def test_password_change_revokes_refresh_tokens(client, admin):
    u = create_user(client, admin, code="E1")
    pair = login(client, "E1", PASSWORD)
    r = client.patch(f"/api/v1/users/{u['id']}", json={"password": "a-new-password-1"}, headers=admin)
    assert r.status_code == 200
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401
    login(client, "E1", "a-new-password-1")
    short = client.patch(f"/api/v1/users/{u['id']}", json={"password": "short"}, headers=admin)
    assert short.status_code == 422


def test_own_password_change_needs_the_current_password(client, admin):
    me, headers = user_headers(client, admin, code="E1")
    url = f"/api/v1/users/{me['id']}"
    r = client.patch(url, json={"password": "a-new-password-1"}, headers=headers)
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "current_password"
    r = client.patch(url, json={"password": "a-new-password-1", "current_password": "not-my-password",
                                "full_name": "Changed"}, headers=headers)
    assert r.status_code == 403
    assert error_code(r) == "wrong_current_password"
    assert client.get(url, headers=headers).json()["full_name"] == "User E1"  # nothing of that request applied
    login(client, "E1", PASSWORD)  # the old password still works
    r = client.patch(url, json={"password": "a-new-password-1", "current_password": PASSWORD}, headers=headers)
    assert r.status_code == 200
    login(client, "E1", "a-new-password-1")
    login(client, "E1", PASSWORD, expect=401)


def test_admin_changing_its_own_password_also_confirms_it(client, admin):
    from tests.fixtures import ADMIN_PASSWORD

    me = client.get("/api/v1/users/me", headers=admin).json()
    url = f"/api/v1/users/{me['id']}"
    assert client.patch(url, json={"password": "new-admin-password"}, headers=admin).status_code == 422
    r = client.patch(url, json={"password": "new-admin-password", "current_password": ADMIN_PASSWORD}, headers=admin)
    assert r.status_code == 200


def test_wrong_current_passwords_count_towards_the_lockout(client, admin):
    me, headers = user_headers(client, admin, code="E1")
    url = f"/api/v1/users/{me['id']}"
    for _ in range(5):
        r = client.patch(url, json={"password": "a-new-password-1", "current_password": "guess-guess"},
                         headers=headers)
        assert r.status_code == 403
    r = client.patch(url, json={"password": "a-new-password-1", "current_password": PASSWORD}, headers=headers)
    assert r.status_code == 429
    assert error_code(r) == "too_many_attempts"
    login(client, "E1", PASSWORD, expect=429)


def test_face_only_user_cannot_give_itself_a_password_an_admin_can(client, admin):
    from server.auth.service import issue_token_pair
    from server.users.models import User

    u = create_user(client, admin, code="F1", password=None)  # logs in by face only: a token as face-login gives
    with client.app.state.db.session() as s:
        pair = issue_token_pair(s, client.app.state.settings, s.get(User, u["id"]))
    headers = bearer(pair.access_token)
    r = client.patch(f"/api/v1/users/{u['id']}", json={"password": "a-new-password-1"}, headers=headers)
    assert r.status_code == 403
    assert client.patch(f"/api/v1/users/{u['id']}", json={"password": "a-new-password-1"},
                        headers=admin).status_code == 200
    login(client, "F1", "a-new-password-1")


def test_changes_are_audited(client, admin):
    u = create_user(client, admin, code="E1")
    client.patch(f"/api/v1/users/{u['id']}", json={"full_name": "New Name", "password": "another-pass-123"},
                 headers=admin)
    entries = client.get("/api/v1/audit", params={"entity": "user", "entity_id": u["id"]}, headers=admin).json()
    actions = [e["action"] for e in entries["items"]]
    assert actions == ["users.update", "users.create"]
    update = entries["items"][0]
    assert update["before"] == {"full_name": "User E1"}
    assert update["after"] == {"full_name": "New Name", "password": "changed"}
    assert "another-pass-123" not in str(entries)


def test_admin_cannot_deactivate_or_demote_itself(client, admin):
    me = client.get("/api/v1/users/me", headers=admin).json()
    assert client.patch(f"/api/v1/users/{me['id']}", json={"is_active": False}, headers=admin).status_code == 409
    assert client.patch(f"/api/v1/users/{me['id']}", json={"role": "employee"}, headers=admin).status_code == 409


# --- role rules -------------------------------------------------------------------------------------------------

def test_employee_sees_itself_but_not_others(client, admin):
    other = create_user(client, admin, code="E2", site="north")
    me, headers = user_headers(client, admin, code="E1", site="north")
    assert client.get(f"/api/v1/users/{me['id']}", headers=headers).status_code == 200
    r = client.get(f"/api/v1/users/{other['id']}", headers=headers)
    assert r.status_code == 403
    assert error_code(r) == "forbidden"
    assert client.patch(f"/api/v1/users/{other['id']}", json={"full_name": "x"}, headers=headers).status_code == 403
    assert client.delete(f"/api/v1/users/{other['id']}", headers=headers).status_code == 403
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    assert client.post("/api/v1/users", json={"employee_code": "X", "full_name": "x"},
                       headers=headers).status_code == 403


def test_employee_edits_own_profile_but_not_its_role(client, admin):
    me, headers = user_headers(client, admin, code="E1")
    r = client.patch(f"/api/v1/users/{me['id']}", json={"full_name": "Me Myself", "timezone": "UTC"},
                     headers=headers)
    assert r.status_code == 200
    for body in ({"role": "admin"}, {"site": "elsewhere"}, {"is_active": False}):
        r = client.patch(f"/api/v1/users/{me['id']}", json=body, headers=headers)
        assert r.status_code == 403, body


def test_manager_acts_only_on_its_own_site(client, admin):
    mgr, mh = user_headers(client, admin, code="M1", role="manager", site="north")
    mine = create_user(client, admin, code="N1", site="north")
    theirs = create_user(client, admin, code="S1", site="south")
    admin_user = client.get("/api/v1/users/me", headers=admin).json()
    # read
    assert client.get(f"/api/v1/users/{mine['id']}", headers=mh).status_code == 200
    assert client.get(f"/api/v1/users/{theirs['id']}", headers=mh).status_code == 403
    assert client.get(f"/api/v1/users/{admin_user['id']}", headers=mh).status_code == 403
    listing = client.get("/api/v1/users", headers=mh).json()
    assert {u["employee_code"] for u in listing["items"]} == {"M1", "N1"}
    assert client.get("/api/v1/users", params={"site": "south"}, headers=mh).status_code == 403
    # write
    assert client.patch(f"/api/v1/users/{mine['id']}", json={"full_name": "ok"}, headers=mh).status_code == 200
    assert client.patch(f"/api/v1/users/{theirs['id']}", json={"full_name": "no"}, headers=mh).status_code == 403
    assert client.patch(f"/api/v1/users/{mine['id']}", json={"role": "manager"}, headers=mh).status_code == 403
    assert client.patch(f"/api/v1/users/{mine['id']}", json={"site": "south"}, headers=mh).status_code == 403
    assert client.delete(f"/api/v1/users/{theirs['id']}", headers=mh).status_code == 403
    # create: employees of its own site only
    created = create_user(client, mh, code="N2")
    assert created["site"] == "north"
    create_user(client, mh, code="S2", site="south", expect=403)
    create_user(client, mh, code="N3", role="manager", expect=403)
    create_user(client, mh, code="N4", role="admin", expect=403)


def test_manager_cannot_touch_another_manager_of_its_site(client, admin):
    _, mh = user_headers(client, admin, code="M1", role="manager", site="north")
    other = create_user(client, admin, code="M2", role="manager", site="north")
    assert client.patch(f"/api/v1/users/{other['id']}", json={"full_name": "x"}, headers=mh).status_code == 403
    assert client.delete(f"/api/v1/users/{other['id']}", headers=mh).status_code == 403


def test_manager_without_site_manages_nobody(client, admin):
    _, mh = user_headers(client, admin, code="M1", role="manager")
    other = create_user(client, admin, code="E1")
    assert client.get(f"/api/v1/users/{other['id']}", headers=mh).status_code == 403
    create_user(client, mh, code="E2", expect=403)
    assert client.get("/api/v1/users", headers=mh).status_code == 403
