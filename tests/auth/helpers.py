"""Small HTTP helpers shared by tests/auth, tests/users, tests/devices (real app, real database)."""
from __future__ import annotations

from tests.conftest import ADMIN_PASSWORD

PASSWORD = "employee-password-1"


def login(client, username: str, password: str, *, expect: int = 200) -> dict:
    r = client.post("/api/v1/auth/login", data={"username": username, "password": password})
    assert r.status_code == expect, r.text
    return r.json()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def admin_headers(client) -> dict:
    return bearer(login(client, "admin@example.com", ADMIN_PASSWORD)["access_token"])


def create_user(client, headers, *, code: str, role: str = "employee", site: str | None = None,
                password: str | None = PASSWORD, email: str | None = None, expect: int = 201, **extra) -> dict:
    body = {"employee_code": code, "full_name": f"User {code}", "role": role, **extra}
    if password is not None:
        body["password"] = password
    if site is not None:
        body["site"] = site
    if email is not None:
        body["email"] = email
    r = client.post("/api/v1/users", json=body, headers=headers)
    assert r.status_code == expect, r.text
    return r.json()


def user_headers(client, admin, *, code: str, role: str = "employee", site: str | None = None) -> tuple[dict, dict]:
    """Creates a user with PASSWORD and returns (user json, bearer headers of that user)."""
    user = create_user(client, admin, code=code, role=role, site=site)
    return user, bearer(login(client, code, PASSWORD)["access_token"])


def error_code(response) -> str:
    return response.json()["error"]["code"]
