from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from server.auth.jobs import purge_auth_records
from server.auth.models import LoginFailure, RefreshToken
from server.scheduler import registered_jobs
from tests.fixtures.api import login
from tests.fixtures import ADMIN_PASSWORD


def _count(db, model):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_purge_job_is_registered():
    import server.jobs  # noqa: F401

    assert "auth.purge" in {j.id for j in registered_jobs()}


def test_purge_removes_expired_tokens_and_old_failures(client, app, settings, clock):
    db = app.state.db
    login(client, "admin@example.com", ADMIN_PASSWORD)
    client.post("/api/v1/auth/login", data={"username": "ghost", "password": "wrong-password"})
    assert purge_auth_records(db, settings) == {"refresh_tokens": 0, "login_failures": 0}
    start = clock.t
    clock.set(start + timedelta(days=2))
    assert purge_auth_records(db, settings) == {"refresh_tokens": 0, "login_failures": 1}
    clock.set(start + timedelta(days=9))
    assert purge_auth_records(db, settings) == {"refresh_tokens": 1, "login_failures": 0}
    assert _count(db, RefreshToken) == 0
    assert _count(db, LoginFailure) == 0
