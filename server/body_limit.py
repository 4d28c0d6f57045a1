"""Rejects request bodies over their route's limit with 413 `image_too_large` before they are read whole.

The limit depends on the route: UPLOAD_MAX_BYTES per photo times the most photos that route accepts (THE table,
server/faces/images.PHOTOS_PER_REQUEST, which the routes' upload dependency reads too), plus room for the multipart
envelope and form fields (ENVELOPE_BYTES):

  POST /api/v1/users/{id}/faces   enrollment            5 photos
  POST /api/v1/kiosk/check        kiosk check           3 frames
  POST /api/v1/auth/face-login    face login            3 frames
  (a liveness challenge is answered with up to 5 camera frames in the same body limit: 5 frames of up to 4.8 MiB)
  POST /api/v1/faces/verify       1:1 verify            2 photos
  POST /api/v1/faces/identify     1:N identify          1 photo
  POST /api/v1/faces/batch        batch enrollment      ENROLL_BATCH_MAX_BYTES (default 64 MiB) for the whole body
  anything else                   JSON / form bodies    ENVELOPE_BYTES (1 MiB)

so a 30 MB body sent to a one-photo route is refused after at most its own limit, never spooled up to the largest
route's. A declared Content-Length over the limit is refused at once; a chunked body is counted as it streams and
cut off when it passes the limit. Per-photo limits are checked while reading each file (server/faces/images.py).
"""
from __future__ import annotations

import json
import re

from starlette.exceptions import HTTPException

from server.faces.images import PHOTOS_PER_REQUEST

ENVELOPE_BYTES = 1 << 20
# (method, path pattern, photos the route accepts: PHOTOS_PER_REQUEST of its purpose, the routes' own table)
PHOTO_ROUTES: tuple[tuple[str, str, int], ...] = (
    ("POST", r"/api/v1/users/[^/]+/faces", PHOTOS_PER_REQUEST["enroll"]),
    ("POST", r"/api/v1/kiosk/check", PHOTOS_PER_REQUEST["kiosk"]),
    ("POST", r"/api/v1/auth/face-login", PHOTOS_PER_REQUEST["login"]),
    ("POST", r"/api/v1/faces/verify", PHOTOS_PER_REQUEST["verify"]),
    ("POST", r"/api/v1/faces/identify", PHOTOS_PER_REQUEST["identify"]),
)
MAX_PHOTOS_PER_REQUEST = max(n for _, _, n in PHOTO_ROUTES)
# routes whose whole body has its own limit (bytes, from the settings), whatever the photo count
BATCH_ROUTES: tuple[tuple[str, str], ...] = (("POST", r"/api/v1/faces/batch"),)


class BodyTooLarge(HTTPException):
    """An HTTPException so that FastAPI's body parsing re-raises it as is (it turns other errors into 400)."""

    def __init__(self, limit: int):
        super().__init__(413, f"Request body exceeds {limit} bytes")


class BodyLimits(int):
    """Per-route body limits in bytes: `for_request(method, path)`; `default` for every other route.

    Its int value is the largest route's limit (for callers that want a single ceiling, e.g. "anything above this
    is refused everywhere"); the middleware uses the per-route table.
    """

    default: int
    routes: tuple[tuple[str, re.Pattern, int], ...]

    def __new__(cls, default: int, routes: tuple[tuple[str, re.Pattern, int], ...] = ()):
        obj = super().__new__(cls, max([default, *(limit for _, _, limit in routes)]))
        obj.default, obj.routes = int(default), tuple(routes)
        return obj

    def for_request(self, method: str, path: str) -> int:
        path = path.rstrip("/") or "/"
        for m, pattern, limit in self.routes:
            if m == method and pattern.fullmatch(path):
                return limit
        return self.default

    @property
    def largest(self) -> int:
        return int(self)


def body_limit(upload_max_bytes: int, batch_max_bytes: int | None = None) -> BodyLimits:
    """The limits for UPLOAD_MAX_BYTES per photo (and ENROLL_BATCH_MAX_BYTES for a batch enrollment)."""
    routes = tuple((m, re.compile(p), n * upload_max_bytes + ENVELOPE_BYTES) for m, p, n in PHOTO_ROUTES)
    if batch_max_bytes is not None:
        routes += tuple((m, re.compile(p), int(batch_max_bytes)) for m, p in BATCH_ROUTES)
    return BodyLimits(ENVELOPE_BYTES, routes)


class BodyLimitMiddleware:
    """`max_bytes`: a BodyLimits (per route), or an int applied to every route."""

    def __init__(self, app, max_bytes: BodyLimits | int):
        self.app = app
        self.limits = max_bytes if isinstance(max_bytes, BodyLimits) else BodyLimits(int(max_bytes))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limits.for_request(scope.get("method", "GET"), scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await self._reject(send, limit)
        seen = 0
        started = False

        async def counting_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
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
                await self._reject(send, limit)

    @staticmethod
    async def _reject(send, limit: int):
        body = json.dumps({"error": {"code": "image_too_large", "message": f"Request body exceeds {limit} bytes",
                                     "limit_bytes": limit}}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
