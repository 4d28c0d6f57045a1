"""CORS_ORIGINS (issue 16, item 5): a browser app on an allowed origin can call the API (preflight and answers,
errors included); any other origin gets no Access-Control-Allow-Origin, so its page cannot read the answers."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.api import bearer, login
from tests.fixtures import ADMIN_PASSWORD

HR = "https://hr.example.com"
EVIL = "https://evil.example.net"
ME = "/api/v1/users/me"


@pytest.fixture
def cors_client(settings_factory, db_url):
    from server.main import create_app

    app = create_app(settings_factory(db_url, cors_origins=f" {HR}/, http://localhost:5173 "))
    with TestClient(app) as c:
        yield c


def _preflight(client, origin: str, method: str = "GET", headers: str = "authorization", path: str = ME):
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                         "Access-Control-Request-Headers": headers})


def test_an_allowed_origin_gets_preflight_and_answers(cors_client):
    r = _preflight(cors_client, HR)
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == HR
    assert "GET" in r.headers["access-control-allow-methods"]
    assert "authorization" in r.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in r.headers  # Bearer tokens, never cookies

    token = login(cors_client, "admin@example.com", ADMIN_PASSWORD)["access_token"]
    r = cors_client.get(ME, headers={**bearer(token), "Origin": HR})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == HR
    assert "x-request-id" in r.headers["access-control-expose-headers"].lower()
    r = cors_client.get(ME, headers={"Origin": HR})  # an error answer is readable too (the app can show it)
    assert r.status_code == 401 and r.headers["access-control-allow-origin"] == HR

    r = _preflight(cors_client, "http://localhost:5173", "POST", "x-device-key,content-type", "/api/v1/kiosk/check")
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "http://localhost:5173"


def test_a_refused_origin_gets_no_cors_headers(cors_client):
    r = _preflight(cors_client, EVIL)
    assert r.status_code == 400
    assert "access-control-allow-origin" not in r.headers
    token = login(cors_client, "admin@example.com", ADMIN_PASSWORD)["access_token"]
    r = cors_client.get(ME, headers={**bearer(token), "Origin": EVIL})
    assert "access-control-allow-origin" not in r.headers  # the browser keeps the answer from the page
    r = _preflight(cors_client, HR, headers="x-custom-header")  # an allowed origin, a header we do not take
    assert r.status_code == 400


def test_without_cors_origins_there_is_no_cors(client):
    r = _preflight(client, HR)
    assert r.status_code == 405
    assert "access-control-allow-origin" not in r.headers
    assert "access-control-allow-origin" not in client.get("/health", headers={"Origin": HR}).headers


def test_a_star_allows_any_origin(settings_factory, db_url):
    from server.main import create_app

    with TestClient(create_app(settings_factory(db_url, cors_origins="*"))) as c:
        r = _preflight(c, EVIL)
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"


def test_cors_origins_comes_from_the_environment(monkeypatch):
    from server.config import Settings

    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example/")
    assert Settings().cors_origin_list == ["https://a.example", "https://b.example"]
    monkeypatch.setenv("CORS_ORIGINS", "")
    assert Settings().cors_origin_list == []
