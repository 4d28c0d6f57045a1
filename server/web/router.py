"""The pages' shared files: GET /i18n/{name} — i18n.js (language choice, t(), dates and times by locale, error codes
in plain words) and one message catalog per language (en.json, es.json). Used by /kiosk and /admin."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from server.web.files import StaticFiles

LANGUAGES = ("en", "es")
I18N = StaticFiles(Path(__file__).resolve().parent / "static", ("i18n.js", *(f"{lang}.json" for lang in LANGUAGES)),
                   "i18n")

router = APIRouter(tags=["pages"])


@router.get("/i18n/{name}", include_in_schema=False)
def i18n_file(name: str) -> FileResponse:
    return I18N.response(name)
