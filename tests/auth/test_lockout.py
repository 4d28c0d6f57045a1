"""Lockout counters in the database: 5 failures per subject / 20 per client in 15 minutes → 429 + Retry-After,
holding across app restarts; and login timing does not tell whether a user exists."""
from __future__ import annotations

import statistics
import time

from fastapi.testclient import TestClient

from server.main import create_app
from tests.fixtures.api import PASSWORD, admin_headers, create_user, error_code


def _attempt(client, username, password="wrong-password-x"):
    return client.post("/api/v1/auth/login", data={"username": username, "password": password})


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


def test_employee_codes_are_exact_so_case_variants_have_their_own_counter(client):
    """Login looks employee_code up exactly (it is unique case-sensitively), so counting does too."""
    admin = admin_headers(client)
    upper = create_user(client, admin, code="E1")
    lower = create_user(client, admin, code="e1")
    assert upper["id"] != lower["id"]
    for _ in range(5):
        assert _attempt(client, "E1").status_code == 401
    assert _attempt(client, "E1", PASSWORD).status_code == 429
    assert _attempt(client, "e1", PASSWORD).status_code == 200  # another user, not locked
    # an unknown code is counted as typed: "GHOST" failures do not lock "ghost"
    for _ in range(5):
        _attempt(client, "GHOST")
    assert _attempt(client, "GHOST").status_code == 429
    assert _attempt(client, "ghost").status_code == 401


def test_emails_are_case_insensitive_for_login_and_counting(client):
    create_user(client, admin_headers(client), code="E2", email="mix@example.com")
    for typed in ("MIX@example.com", "Mix@Example.COM", "mix@EXAMPLE.com", "E2", "mix@example.com"):
        assert _attempt(client, typed).status_code == 401
    assert _attempt(client, "MIX@EXAMPLE.COM", PASSWORD).status_code == 429


def test_lockout_holds_across_app_restarts(settings):
    with TestClient(create_app(settings)) as c:
        create_user(c, admin_headers(c), code="E1")
        for _ in range(5):
            assert _attempt(c, "E1").status_code == 401
    with TestClient(create_app(settings)) as c:  # a new process would see the same database
        r = _attempt(c, "E1", PASSWORD)
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) > 0


def test_lock_lifts_when_the_window_passes(client, clock):
    create_user(client, admin_headers(client), code="E1")
    for _ in range(5):
        _attempt(client, "E1")
    assert _attempt(client, "E1", PASSWORD).status_code == 429
    clock.advance(minutes=15, seconds=1)
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
    """Every path (known user, unknown name, user without a password) runs one argon2 verification.

    Robust on a busy machine: the three kinds of attempt and a bare argon2 verification are interleaved round by
    round (load hits all alike), and medians of paired per-round differences are compared with argon2's own cost,
    measured in the same rounds. A path that skipped argon2 would differ by about that whole cost and fail.
    """
    from server.users.passwords import hash_password, verify_password

    settings = settings_factory(db_url, lockout_max_per_user=1000, lockout_max_per_client=1000)
    reference_hash = hash_password(PASSWORD)
    with TestClient(create_app(settings)) as c:
        admin = admin_headers(c)
        create_user(c, admin, code="E1")
        create_user(c, admin, code="FACEONLY", password=None)

        def timed_ms(fn) -> float:
            t0 = time.perf_counter()
            fn()
            return (time.perf_counter() - t0) * 1000

        def attempt(username):
            assert _attempt(c, username).status_code == 401

        _attempt(c, "warm-up")
        rounds = {"known": [], "unknown": [], "no_password": [], "argon2": []}
        for i in range(11):
            kinds = [("known", lambda: attempt("E1")), ("unknown", lambda: attempt("ghost")),
                     ("no_password", lambda: attempt("FACEONLY")),
                     ("argon2", lambda: verify_password("wrong-password-x", reference_hash))]
            for name, fn in kinds[i % 4:] + kinds[:i % 4]:  # rotate the order too
                rounds[name].append(timed_ms(fn))
    argon2 = statistics.median(rounds["argon2"])
    medians = {k: statistics.median(v) for k, v in rounds.items()}
    for path in ("known", "unknown", "no_password"):  # each really pays for one argon2 verification
        assert medians[path] > 0.7 * argon2, medians
    for path in ("unknown", "no_password"):  # and none differs from the known user by a good part of it
        diff = statistics.median(a - b for a, b in zip(rounds["known"], rounds[path]))
        assert abs(diff) < 0.4 * argon2, (path, diff, medians)
