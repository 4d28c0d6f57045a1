"""Oversized bodies get 413 image_too_large before being read whole, declared or streamed."""
from __future__ import annotations

import asyncio

from server.body_limit import BodyLimitMiddleware, body_limit


def test_declared_content_length_over_limit_is_refused(client, settings):
    limit = body_limit(settings.upload_max_bytes)
    r = client.post("/api/v1/auth/login", content=b"x" * (limit + 1),
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "image_too_large"
    assert r.headers["X-Request-ID"]


def test_streamed_body_is_cut_off_without_reading_it_all():
    calls = {"app": 0}
    pulled = []

    async def app(scope, receive, send):
        calls["app"] += 1
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    chunks = [b"x" * 400] * 100  # 40 kB offered, limit 1 kB

    async def receive():
        pulled.append(1)
        return {"type": "http.request", "body": chunks[len(pulled) - 1], "more_body": len(pulled) < len(chunks)}

    sent = []

    async def send(msg):
        sent.append(msg)

    mw = BodyLimitMiddleware(app, max_bytes=1000)
    asyncio.run(mw({"type": "http", "headers": []}, receive, send))
    assert sent[0]["status"] == 413
    assert len(pulled) == 3  # stopped at the first chunk past the limit
