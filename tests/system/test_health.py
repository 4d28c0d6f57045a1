"""/health, /ready, /status, /metrics, the error shape and X-Request-ID, through the real app."""
from __future__ import annotations


def test_health_and_ready(client):
    assert client.get("/health").json() == {"status": "ok"}
    r = client.get("/ready")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ready"] is True
    for step in ("directories", "migrations", "face_engine", "gallery", "seeds", "scheduler", "database"):
        assert body["checks"][step] == "ok"


def test_status_reports_process_database_models(client, settings):
    r = client.get("/status")
    assert r.status_code == 200
    s = r.json()
    assert s["version"]
    assert s["uptime_seconds"] >= 0
    assert 10 < s["rss_mb"] < 2000
    assert s["database"]["dialect"] in ("sqlite", "postgresql")
    from server.migrate import head_revision

    assert s["database"]["revision"] == head_revision()
    assert s["models"], "the configured face model is loaded"
    assert s["gallery"]["templates"] == 0
    assert s["scheduler"]["enabled"] is False
    assert list(s["startup"]) == ["directories", "migrations", "face_engine", "gallery", "seeds", "scheduler"]


def test_metrics_count_requests_by_route(client):
    client.get("/health")
    client.get("/health")
    client.get("/nope")
    text = client.get("/metrics").text
    assert 'http_requests_total{method="GET",route="/health",status="200"} 2' in text
    assert 'route="unmatched",status="404"' in text
    assert "http_request_duration_seconds_bucket" in text
    assert "process_resident_memory_bytes" in text


def test_every_error_has_the_same_shape_and_a_request_id(client):
    r = client.get("/does-not-exist")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert r.headers["X-Request-ID"]
    r = client.post("/health")
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"
    r = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert r.headers["X-Request-ID"] == "abc-123"


def test_validation_errors_use_the_error_shape(client):
    r = client.post("/api/v1/auth/login", data={})
    assert r.status_code == 422
    body = r.json()
    assert body["error"]["code"] == "validation_error"
    assert body["error"]["fields"]
