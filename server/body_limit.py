"""Rejects request bodies over the limit with 413 `image_too_large` before they are read whole.

The limit is UPLOAD_MAX_BYTES per photo times the most photos one request may carry (enrollment takes 5), plus
room for the multipart envelope and form fields. A declared Content-Length over it is refused at once; a chunked
body is counted as it streams and cut off when it passes the limit. Per-photo limits are checked while reading
each file (server/faces/images.py).
"""
from __future__ import annotations

import json

from starlette.exceptions import HTTPException

MAX_PHOTOS_PER_REQUEST = 5
ENVELOPE_BYTES = 1 << 20


class BodyTooLarge(HTTPException):
    """An HTTPException so that FastAPI's body parsing re-raises it as is (it turns other errors into 400)."""

    def __init__(self, limit: int):
        super().__init__(413, f"Request body exceeds {limit} bytes")


def body_limit(upload_max_bytes: int) -> int:
    return upload_max_bytes * MAX_PHOTOS_PER_REQUEST + ENVELOPE_BYTES


class BodyLimitMiddleware:
    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._reject(send)
        seen = 0
        started = False

        async def counting_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._reject(send)

    async def _reject(self, send):
        body = json.dumps({"error": {"code": "image_too_large",
                                     "message": f"Request body exceeds {self.max_bytes} bytes"}}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
