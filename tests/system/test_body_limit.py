"""Oversized bodies get 413 image_too_large before being read whole, declared or streamed; limits are per route (how
many photos the route accepts)."""
from __future__ import annotations

import asyncio
import json

import pytest

from server.body_limit import BodyLimitMiddleware, body_limit


def test_declared_content_length_over_limit_is_refused(client, settings):
    limit = body_limit(settings.upload_max_bytes)
    r = client.post("/api/v1/auth/login", content=b"x" * (limit + 1),
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "image_too_large"
    assert r.headers["X-Request-ID"]


def test_streamed_body_is_cut_off_without_reading_it_all():
    # 40 kB offered in 400-byte chunks, limit 1 kB (an int: one limit for every route)
    status, received, app_calls, _ = _drive(1000, "POST", "/anything", chunks=100, chunk=b"x" * 400)
    assert (status, app_calls) == (413, 1)
    assert received == 3  # stopped at the first chunk past the limit


MiB = 1 << 20
ROUTES = [  # (method, path, photos the route accepts)
    ("POST", "/api/v1/users/17/faces", 5),
    ("POST", "/api/v1/kiosk/check", 3),
    ("POST", "/api/v1/auth/face-login", 3),
    ("POST", "/api/v1/faces/verify", 2),
    ("POST", "/api/v1/faces/identify", 1),
]


def _drive(limits, method: str, path: str, *, declared: int | None = None, chunks: int = 0, chunk: bytes = b""):
    """Run the middleware around an app that reads the whole body. Returns (status, receive calls, app calls, body)."""
    calls = {"app": 0, "receive": 0}

    async def app(scope, receive, send):
        calls["app"] += 1
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive():
        calls["receive"] += 1
        n = calls["receive"]
        return {"type": "http.request", "body": chunk if n <= chunks else b"", "more_body": n < chunks}

    sent = []

    async def send(msg):
        sent.append(msg)

    headers = [] if declared is None else [(b"content-length", str(declared).encode())]
    asyncio.run(BodyLimitMiddleware(app, max_bytes=limits)({"type": "http", "method": method, "path": path,
                                                            "headers": headers}, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], calls["receive"], calls["app"], body


@pytest.mark.parametrize("method,path,photos", ROUTES)
def test_each_photo_route_allows_its_own_photos_and_no_more(method, path, photos):
    per_photo = 8 * MiB
    limits = body_limit(per_photo)
    limit = photos * per_photo + MiB
    assert limits.for_request(method, path) == limit
    status, received, app_calls, body = _drive(limits, method, path, declared=limit + 1)
    assert (status, received, app_calls) == (413, 0, 0)  # declared: refused at once, nothing read
    err = json.loads(body)["error"]
    assert err["code"] == "image_too_large" and err["limit_bytes"] == limit and str(limit) in err["message"]
    assert _drive(limits, method, path, declared=limit)[0] == 200
    one_mib = b"x" * MiB  # chunked (no Content-Length): every chunk up to the limit passes, the next one is cut off
    full = limit // MiB
    assert _drive(limits, method, path, chunks=full, chunk=one_mib)[:2] == (200, full)
    status, received, _, _ = _drive(limits, method, path, chunks=full + 5, chunk=one_mib)
    assert (status, received) == (413, full + 1)


@pytest.mark.parametrize("method,path", [("POST", "/api/v1/auth/login"), ("POST", "/api/v1/users"),
                                         ("PATCH", "/api/v1/users/3"), ("GET", "/api/v1/faces/identify"),
                                         ("POST", "/api/v1/users/3/faces/extra"), ("POST", "/nowhere")])
def test_every_other_route_takes_one_mib(method, path):
    limits = body_limit(8 * MiB)
    assert limits.for_request(method, path) == MiB == limits.default
    assert _drive(limits, method, path, declared=MiB + 1)[:3] == (413, 0, 0)
    assert _drive(limits, method, path, declared=MiB)[0] == 200


def test_a_30mb_single_photo_body_is_refused_through_the_app(client, settings):
    """Regression: one cap of 5 photos + 1 MiB (41 MiB) for every route let a 30 MB kiosk/face-login/identify body
    be read and spooled before it was refused."""
    body = b"x" * (30 * 1000 * 1000)
    for path in ("/api/v1/kiosk/check", "/api/v1/auth/face-login", "/api/v1/faces/identify", "/api/v1/faces/verify"):
        r = client.post(path, content=body, headers={"content-type": "multipart/form-data; boundary=x"})
        assert r.status_code == 413, (path, r.status_code, r.text[:200])
        err = r.json()["error"]
        assert err["code"] == "image_too_large" and err["limit_bytes"] < 30 * 1000 * 1000
        assert r.headers["X-Request-ID"]
    small = client.post("/api/v1/faces/identify", content=b"x" * (MiB + 10),  # over 1 MiB, under 1 photo + 1 MiB
                        headers={"content-type": "multipart/form-data; boundary=x"})
    assert small.status_code != 413


def test_a_json_route_refuses_a_body_a_photo_route_would_take(client):
    r = client.post("/api/v1/users", content=b"{" + b" " * (2 * MiB) + b"}",
                    headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["limit_bytes"] == MiB
