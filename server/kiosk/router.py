"""The kiosk web page (static files, no build step) and the kiosk's key check.

GET /kiosk                      the page (index.html)
GET /kiosk/static/{name}        its script and style sheet (a fixed list: nothing else on disk is reachable)
GET /api/v1/kiosk/ping          X-Device-Key → 200 {device, server_time}; 401 invalid_device_key otherwise

The check itself (POST /api/v1/kiosk/check) lives with attendance (server/attendance/router.py).
"""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse
from pydantic import BaseModel

from server.auth.deps import require_device
from server.clock import now
from server.devices.models import Device
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


class PingDevice(BaseModel):
    id: int
    name: str
    site: str | None = None


class PingOut(BaseModel):
    ok: bool = True
    device: PingDevice
    server_time: str


@router.get("/kiosk", include_in_schema=False)
def kiosk_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8", headers=_HEADERS)


@router.get("/kiosk/static/{name}", include_in_schema=False)
def kiosk_static(name: str) -> FileResponse:
    media_type = _FILES.get(name)
    if media_type is None:
        raise NotFound("No such kiosk file")
    return FileResponse(STATIC / name, media_type=media_type, headers=_HEADERS)


@router.get("/api/v1/kiosk/ping", response_model=PingOut,
            summary="Kiosk key check: 200 with the device when X-Device-Key is valid, 401 invalid_device_key otherwise")
def kiosk_ping(device: Device = Depends(require_device)) -> PingOut:
    return PingOut(device=PingDevice(id=device.id, name=device.name, site=device.site),
                   server_time=now().isoformat())
