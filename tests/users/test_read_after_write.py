"""Regression (issue 16.1): a write's answer left before its commit, so a client reading right after its own write
could miss it (seen over real HTTP: `POST /users` then `GET /users/{id}` → 404 in 2 of 40 tries; a
`PUT /users/{id}/shift` right after creating the user → 404 and the assignment lost). Over a real server
(uvicorn, keep-alive connection) on SQLite and PostgreSQL, every read right after a write must see it."""
from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from live_server import Api, LiveServer  # noqa: E402

TRIES = 40


@pytest.fixture
def api(db_url, tmp_path, models_dir, monkeypatch):
    monkeypatch.setenv("MODELS_DIR", str(models_dir))
    with LiveServer(tmp_path / "server", database_url=db_url) as server:
        client = Api(server.url)
        client.login_admin()
        yield client
        client.close()


def test_created_users_are_readable_and_assignable_at_once(api):
    """Each write, then at once a read on the same connection and one on another (another client of the API)."""
    headers = api._auth()
    other = httpx.Client(base_url=str(api.http.base_url), timeout=60)
    day = next(s["id"] for s in api.http.get("/api/v1/shifts", headers=headers).json() if s["name"] == "Day")
    for i in range(TRIES):
        user = api.create_user(f"RAW{i:02d}", f"Read After Write {i}")
        r = other.get(f"/api/v1/users/{user['id']}", headers=headers)
        assert r.status_code == 200, f"try {i}: GET (other connection) right after POST → {r.status_code} {r.text}"
        r = api.http.get(f"/api/v1/users/{user['id']}", headers=headers)
        assert r.status_code == 200, f"try {i}: GET right after POST → {r.status_code} {r.text}"
        r = api.http.put(f"/api/v1/users/{user['id']}/shift", headers=headers,
                         json={"shift_id": day, "valid_from": "2026-01-05"})
        assert r.status_code == 200, f"try {i}: PUT shift right after POST → {r.status_code} {r.text}"
        history = api.http.get(f"/api/v1/users/{user['id']}/shifts", headers=headers).json()
        assert [a["shift_id"] for a in history] == [day], f"try {i}: the assignment was lost"
    other.close()
    listed = api.http.get("/api/v1/users", params={"search": "RAW", "limit": 100}, headers=headers).json()
    assert listed["total"] == TRIES
