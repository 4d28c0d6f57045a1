"""A body of the wrong kind gets 415 unsupported_media_type naming what to send, not a misleading field error.

Without this, JSON sent to a form or multipart route is parsed as an empty form: the client is told "username: Field
required" or "request_id must be a UUID" about fields it did send. `require_body_type` is an app-level dependency
(create_app): for a route whose body is a form (`application/x-www-form-urlencoded`) or multipart
(`multipart/form-data`, with files), a request whose body is neither (JSON, text, a bare image, a body without a
Content-Type) is refused before the route's own checks. Either form kind passes: a form that lacks the files gets the
route's own answer. What a route takes is read from the app's OpenAPI document, i.e. exactly what clients are told.
"""
from __future__ import annotations

from fastapi import Request

from server.errors import AppError

MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"
_FORMS = (MULTIPART, URLENCODED)


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"
    message = "This endpoint takes another kind of body"


def expected_body(app, route, method: str) -> tuple[str, list[str], list[str]] | None:
    """(content type, field names, required field names) of a form or multipart route; None for any other."""
    cache = getattr(app.state, "body_types", None)
    if cache is None:
        cache = app.state.body_types = {}
    key = (route.path_format, method)
    if key not in cache:
        cache[key] = _read(app.openapi(), route.path_format, method.lower())
    return cache[key]


def _read(spec: dict, path: str, method: str) -> tuple[str, list[str], list[str]] | None:
    content = ((spec.get("paths", {}).get(path, {}).get(method) or {}).get("requestBody") or {}).get("content", {})
    kind = next((t for t in _FORMS if t in content), None)
    if kind is None:
        return None
    schema = content[kind].get("schema", {})
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return kind, list(schema.get("properties", {})), list(schema.get("required", []))


async def require_body_type(request: Request) -> None:
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    route = request.scope.get("route")
    expected = expected_body(request.app, route, request.method) if route is not None else None
    if expected is None:
        return
    kind, fields, required = expected
    sent = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if sent in _FORMS:  # either kind parses; a form without the files gets the route's own "send the photo"
        return
    if not sent and request.headers.get("content-length", "0") == "0" and "transfer-encoding" not in request.headers:
        return  # no body at all: the route says which fields are missing
    raise UnsupportedMediaType(
        f"{request.method} {route.path_format} takes {kind} (fields: {', '.join(fields)}; required: "
        f"{', '.join(required) or 'none'}), not {sent or 'a body without a Content-Type'}"
        + (": photos go as files in multipart parts, not inside JSON" if kind == MULTIPART and "json" in sent else ""),
        expected_content_type=kind, fields=fields, required=required, received=sent or None)
