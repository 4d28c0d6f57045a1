"""The kiosk web page (static files, no build step) and the kiosk's key check.

GET /kiosk                      the page (index.html)
GET /kiosk/static/{name}        its script and style sheet (a fixed list: nothing else on disk is reachable)
The page checks its key with GET /api/v1/devices/me (server/devices) and punches with POST /api/v1/kiosk/check
(server/attendance): this module adds no API of its own.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from server.errors import NotFound

STATIC = Path(__file__).resolve().parent / "static"
_FILES = {"kiosk.js": "text/javascript; charset=utf-8", "kiosk.css": "text/css; charset=utf-8"}
# Everything the page needs is served from here: no CDN, no inline script. The camera is only asked for by this page.
_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; "
                               "object-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    "Permissions-Policy": "camera=(self), microphone=()",
}

router = APIRouter(tags=["kiosk"])


@router.get("/kiosk", include_in_schema=False)
def kiosk_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8", headers=_HEADERS)


@router.get("/kiosk/static/{name}", include_in_schema=False)
def kiosk_static(name: str) -> FileResponse:
    media_type = _FILES.get(name)
    if media_type is None:
        raise NotFound("No such kiosk file")
    return FileResponse(STATIC / name, media_type=media_type, headers=_HEADERS)
