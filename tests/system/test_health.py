"""/health, /ready, /status, /metrics, the error shape and X-Request-ID, through the real app."""
from __future__ import annotations


def test_health_and_ready(client):
    assert client.get("/health").json() == {"status": "ok"}
    r = client.get("/ready")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ready"] is True
    for step in ("settings", "directories", "migrations", "face_engine", "gallery", "seeds", "scheduler", "database"):
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
    assert list(s["startup"]) == ["settings", "directories", "migrations", "face_engine", "gallery", "seeds",
                                  "scheduler"]


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


def _app_with_failing_routes(settings):
    """The real app plus two routes that exist only in this test: one raises a bug, one loses the database."""
    from sqlalchemy.exc import OperationalError

    from server.main import create_app

    app = create_app(settings)

    def boom():
        raise RuntimeError("a bug")

    def db_gone():
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    app.add_api_route("/test-only/boom", boom, methods=["GET"])
    app.add_api_route("/test-only/db-gone", db_gone, methods=["GET"])
    return app


def test_unhandled_error_is_a_json_500_with_request_id_and_counted(settings, caplog):
    from fastapi.testclient import TestClient

    with TestClient(_app_with_failing_routes(settings)) as c:
        r = c.get("/test-only/boom", headers={"X-Request-ID": "req-500"})
        assert r.status_code == 500
        assert r.headers["X-Request-ID"] == "req-500"
        assert r.json()["error"] == {"code": "internal_error", "message": "Internal server error",
                                     "request_id": "req-500"}
        r = c.get("/test-only/boom")
        assert len(r.headers["X-Request-ID"]) == 32  # generated when the client sends none
        text = c.get("/metrics").text
    assert 'http_requests_total{method="GET",route="/test-only/boom",status="500"} 2' in text
    logged = [rec for rec in caplog.records if rec.name == "faceclock.errors" and rec.exc_info]
    assert logged and "req-500" in logged[0].getMessage()
    assert isinstance(logged[0].exc_info[1], RuntimeError)


def test_lost_database_is_503_database_unavailable_with_retry_after_and_request_id(settings):
    from fastapi.testclient import TestClient

    with TestClient(_app_with_failing_routes(settings)) as c:
        r = c.get("/test-only/db-gone", headers={"X-Request-ID": "req-503"})
        assert r.status_code == 503
        assert r.json()["error"]["code"] == "database_unavailable"
        assert r.headers["Retry-After"] == "5"
        assert r.headers["X-Request-ID"] == "req-503"
        text = c.get("/metrics").text
    assert 'http_requests_total{method="GET",route="/test-only/db-gone",status="503"} 1' in text


def test_request_id_on_404_422_413_and_all_counted(client, settings):
    from server.body_limit import body_limit

    r404 = client.get("/nope", headers={"X-Request-ID": "a-404"})
    r422 = client.post("/api/v1/auth/login", data={}, headers={"X-Request-ID": "a-422"})
    r413 = client.post("/api/v1/auth/login", content=b"x" * (body_limit(settings.upload_max_bytes) + 1),
                       headers={"content-type": "application/x-www-form-urlencoded", "X-Request-ID": "a-413"})
    for r, status, rid in ((r404, 404, "a-404"), (r422, 422, "a-422"), (r413, 413, "a-413")):
        assert r.status_code == status
        assert r.headers["X-Request-ID"] == rid
        assert "code" in r.json()["error"]
    text = client.get("/metrics").text
    assert 'route="unmatched",status="404"} 1' in text
    assert 'http_requests_total{method="POST",route="/api/v1/auth/login",status="422"} 1' in text
    assert 'http_requests_total{method="POST",route="unmatched",status="413"} 1' in text


def test_an_unusable_request_id_is_replaced(client):
    r = client.get("/health", headers={"X-Request-ID": "x" * 200})
    assert len(r.headers["X-Request-ID"]) == 32 and r.headers["X-Request-ID"] != "x" * 200
    assert r.headers.get_list("X-Request-ID") == [r.headers["X-Request-ID"]]
