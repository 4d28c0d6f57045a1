"""Static files of the browser pages (kiosk, console): served from a fixed list, with the same security headers.

Everything a page needs is served by the API itself: no CDN, no inline script, nothing else on disk reachable.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from server.errors import NotFound

MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
               ".json": "application/json; charset=utf-8", ".html": "text/html; charset=utf-8",
               ".svg": "image/svg+xml", ".png": "image/png"}
HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; "
                               "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    # the camera: the kiosk's check-in, the console's face login and webcam enrollment (this origin only)
    "Permissions-Policy": "camera=(self), microphone=()",
}


class StaticFiles:
    """The files of one page's folder that may be served: `names` only, each with its media type."""

    def __init__(self, folder: Path, names: tuple[str, ...], what: str):
        self.folder = folder
        self.types = {n: MEDIA_TYPES[Path(n).suffix] for n in names}
        self.what = what
        missing = [n for n in names if not (folder / n).is_file()]
        if missing:
            raise RuntimeError(f"{what}: missing static files {missing}")

    def response(self, name: str) -> FileResponse:
        media_type = self.types.get(name)
        if media_type is None:
            raise NotFound(f"No such {self.what} file")
        return FileResponse(self.folder / name, media_type=media_type, headers=HEADERS)


def page(path: Path) -> FileResponse:
    return FileResponse(path, media_type=MEDIA_TYPES[".html"], headers=HEADERS)


def mount_page(router: APIRouter, path: str, folder: Path, names: tuple[str, ...], what: str) -> StaticFiles:
    """GET {path}: the page (folder/index.html); GET {path}/static/{name}: one of `names` from folder."""
    files = StaticFiles(folder, names, what)

    def page_route() -> FileResponse:
        return page(folder / "index.html")

    def static_route(name: str) -> FileResponse:
        return files.response(name)

    router.add_api_route(path, page_route, methods=["GET"], include_in_schema=False, name=f"{what}_page")
    router.add_api_route(path + "/static/{name}", static_route, methods=["GET"], include_in_schema=False,
                         name=f"{what}_static")
    return files
