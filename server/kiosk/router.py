"""The kiosk web page (static files, no build step) and the kiosk's key check.

GET /kiosk                      the page (index.html)
GET /kiosk/static/{name}        its scripts and style sheet (a fixed list: nothing else on disk is reachable)
The page's words come from the shared message catalogs (GET /i18n/..., server/web). It checks its key with
GET /api/v1/devices/me (server/devices) and punches with POST /api/v1/kiosk/check (server/attendance): this module
adds no API of its own.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from server.web.files import mount_page

STATIC = Path(__file__).resolve().parent / "static"
router = APIRouter(tags=["kiosk"])
FILES = mount_page(router, "/kiosk", STATIC, ("kiosk.js", "kiosk-store.js", "kiosk-steady.js", "kiosk-liveness.js",
                                                  "kiosk.css"), "kiosk")
