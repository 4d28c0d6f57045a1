"""`python -m seeds reset-admin [--email …]` (issue 16, item 4): the way back in when the admin password is lost.
Run as a real command against the database of a running app, on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from tests.fixtures.api import PASSWORD, admin_headers, bearer, create_user, login
from tests.fixtures import ADMIN_PASSWORD

ME = "/api/v1/users/me"


def _reset(db_url, data_dir, *args, admin_password: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("ADMIN_PASSWORD", "ADMIN_EMAIL")}
    env.update(DATABASE_URL=db_url, DATA_DIR=str(data_dir))
    if admin_password is not None:
        env["ADMIN_PASSWORD"] = admin_password
    return subprocess.run([sys.executable, "-m", "seeds", "reset-admin", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def _audit(app, action: str) -> list:
    from server.audit.models import AuditEntry

    with app.state.db.session() as s:
        return [(e.actor_user_id, e.entity_id, e.after, e.reason)
                for e in s.scalars(select(AuditEntry).where(AuditEntry.action == action))]


def test_reset_prints_a_new_password_revokes_and_unlocks(client, app, db_url, settings):
    old = login(client, "admin@example.com", ADMIN_PASSWORD)
    for _ in range(5):  # the owner forgot it: locked out
        login(client, "admin@example.com", "not-the-password", expect=401)
    login(client, "admin@example.com", ADMIN_PASSWORD, expect=429)

    p = _reset(db_url, settings.data_dir)
    assert p.returncode == 0, p.stderr
    line = next(x for x in p.stdout.splitlines() if x.startswith("new password for admin admin@example.com: "))
    password = line.rsplit(": ", 1)[1]
    assert len(password) >= 16
    assert "shown once" in p.stdout

    assert client.get(ME, headers=bearer(old["access_token"])).status_code == 401  # earlier logins revoked
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": old["refresh_token"]}).status_code == 401
    login(client, "admin@example.com", ADMIN_PASSWORD, expect=401)
    fresh = login(client, "admin@example.com", password)  # no longer locked out
    me = client.get(ME, headers=bearer(fresh["access_token"])).json()
    [(actor, entity_id, after, reason)] = _audit(app, "users.reset_admin")
    assert actor is None and entity_id == str(me["id"]) and reason == "python -m seeds reset-admin"
    assert after["password"] == "generated" and password not in str(after)

    again = _reset(db_url, settings.data_dir)  # each run a different password
    assert again.returncode == 0 and password not in again.stdout


def test_reset_takes_admin_password_and_another_admin_by_email(client, app, db_url, settings):
    admin = admin_headers(client)
    create_user(client, admin, code="A2", role="admin", email="second@example.com")
    p = _reset(db_url, settings.data_dir, "--email", "Second@Example.com", admin_password="chosen-password-9")
    assert p.returncode == 0, p.stderr
    assert "chosen-password-9" not in p.stdout + p.stderr
    assert "second@example.com set from ADMIN_PASSWORD" in p.stdout
    login(client, "A2", "chosen-password-9")
    login(client, "admin@example.com", ADMIN_PASSWORD)  # the other admin untouched
    assert _audit(app, "users.reset_admin")[0][2]["password"] == "from ADMIN_PASSWORD"


def test_a_deactivated_admin_is_reactivated(client, app, db_url, settings):
    admin = admin_headers(client)
    a2 = create_user(client, admin, code="A2", role="admin", email="second@example.com")
    assert client.patch(f"/api/v1/users/{a2['id']}", json={"is_active": False}, headers=admin).status_code == 200
    p = _reset(db_url, settings.data_dir, "--email", "second@example.com", admin_password="chosen-password-9")
    assert p.returncode == 0, p.stderr
    login(client, "A2", "chosen-password-9")
    assert _audit(app, "users.reset_admin")[0][2]["is_active"] is True


@pytest.mark.parametrize("args, env_password, words", [
    (("--email", "nobody@example.com"), None, "no user has the e-mail 'nobody@example.com'; admins: admin@example.com"),
    (("--email", "e1@example.com"), None, "e1@example.com has the role employee, not admin"),
    ((), "short", "ADMIN_PASSWORD has 5 characters but PASSWORD_MIN_LENGTH is 10"),
])
def test_refusals_are_one_line_and_change_nothing(client, app, db_url, settings, args, env_password, words):
    create_user(client, admin_headers(client), code="E1", email="e1@example.com")
    p = _reset(db_url, settings.data_dir, *args, admin_password=env_password)
    assert p.returncode == 1
    assert "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines()[-1].startswith(f"seeds reset-admin: {words}")
    login(client, "admin@example.com", ADMIN_PASSWORD)
    login(client, "E1", PASSWORD)
    assert _audit(app, "users.reset_admin") == []
