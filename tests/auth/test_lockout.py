"""Lockout counters in the database: 5 failures per subject / 20 per client in 15 minutes → 429 + Retry-After,
holding across app restarts; and login timing does not tell whether a user exists."""
from __future__ import annotations

import statistics
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from server import clock
from server.main import create_app
from tests.auth.helpers import PASSWORD, admin_headers, create_user, error_code


def _attempt(client, username, password="wrong-password-x"):
    return client.post("/api/v1/auth/login", data={"username": username, "password": password})


@pytest.fixture
def restore_clock():
    yield
    clock.set_clock(None)


def test_five_failures_lock_the_user_with_retry_after(client):
    create_user(client, admin_headers(client), code="E1", email="e1@example.com")
    for _ in range(5):
        assert _attempt(client, "E1").status_code == 401
    r = _attempt(client, "E1", PASSWORD)  # even the right password
    assert r.status_code == 429
    assert error_code(r) == "too_many_attempts"
    assert 850 <= int(r.headers["Retry-After"]) <= 900
    # the user is locked whichever name is typed
    assert _attempt(client, "e1@example.com", PASSWORD).status_code == 429
    # other users are not
    assert _attempt(client, "admin@example.com", "wrong-password-x").status_code == 401


def test_lockout_holds_across_app_restarts(settings):
    with TestClient(create_app(settings)) as c:
        create_user(c, admin_headers(c), code="E1")
        for _ in range(5):
            assert _attempt(c, "E1").status_code == 401
    with TestClient(create_app(settings)) as c:  # a new process would see the same database
        r = _attempt(c, "E1", PASSWORD)
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) > 0


def test_lock_lifts_when_the_window_passes(client, restore_clock):
    create_user(client, admin_headers(client), code="E1")
    for _ in range(5):
        _attempt(client, "E1")
    assert _attempt(client, "E1", PASSWORD).status_code == 429
    start = clock.now()
    clock.set_clock(lambda: start + timedelta(minutes=15, seconds=1))
    assert _attempt(client, "E1", PASSWORD).status_code == 200


def test_success_resets_the_user_counter(client):
    create_user(client, admin_headers(client), code="E1")
    for _ in range(4):
        _attempt(client, "E1")
    assert _attempt(client, "E1", PASSWORD).status_code == 200
    for _ in range(4):
        assert _attempt(client, "E1").status_code == 401
    assert _attempt(client, "E1", PASSWORD).status_code == 200


def test_twenty_failures_from_one_client_lock_the_client(client):
    for i in range(20):
        assert _attempt(client, f"nobody-{i}").status_code == 401
    r = _attempt(client, "admin@example.com", "whatever-password")
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0


def test_unknown_users_are_locked_like_known_ones(client):
    for _ in range(5):
        assert _attempt(client, "ghost").status_code == 401
    assert _attempt(client, "ghost").status_code == 429


def test_login_timing_does_not_reveal_whether_the_user_exists(settings_factory, db_url):
    settings = settings_factory(db_url, lockout_max_per_user=1000, lockout_max_per_client=1000)
    with TestClient(create_app(settings)) as c:
        admin = admin_headers(c)
        create_user(c, admin, code="E1")
        create_user(c, admin, code="FACEONLY", password=None)

        def median_ms(username):
            times = []
            for _ in range(9):
                t0 = time.perf_counter()
                assert _attempt(c, username).status_code == 401
                times.append((time.perf_counter() - t0) * 1000)
            return statistics.median(times)

        _attempt(c, "warm-up")
        known, unknown, no_password = median_ms("E1"), median_ms("ghost"), median_ms("FACEONLY")
    # every path runs one argon2 verification; the difference must stay well inside argon2's own cost
    slowest = max(known, unknown, no_password)
    assert min(known, unknown, no_password) > 0.6 * slowest, (known, unknown, no_password)
