"""The admin console: plain pages in the browser over the public API (no backend of its own, no build step).

GET /                           redirects to /admin
GET /admin                      the page (index.html; hash routes #/today, #/people/12 ... are the console's own)
GET /admin/static/{name}        its scripts and style sheet (a fixed list: nothing else on disk is reachable)
Its words come from the shared message catalogs (GET /i18n/..., server/web). Served like the kiosk page: same
security headers, everything from this server, so it works on a LAN without internet.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from server.web.files import mount_page

STATIC = Path(__file__).resolve().parent / "static"
SCRIPTS = ("api.js", "ui.js", "app.js", "page-today.js", "page-people.js", "enroll.js", "page-devices.js",
           "page-shifts.js", "page-days.js", "page-calendar.js", "page-reports.js")
router = APIRouter(tags=["console"])
FILES = mount_page(router, "/admin", STATIC, (*SCRIPTS, "console.css"), "console")


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    return RedirectResponse("/admin", status_code=307)
