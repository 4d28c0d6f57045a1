"""Application errors: each carries an HTTP status and a stable machine code.

One mapping (`error_response`) turns them, HTTP errors, validation errors, an unreachable database and any other
exception into `{"error": {"code": ..., "message": ..., ...details}}`. It is reached from FastAPI's exception
handlers (`install_handlers`) and from `RequestContextMiddleware`, which also puts `X-Request-ID` on every response
and counts every request in /metrics.
"""
from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

log = logging.getLogger("faceclock.errors")


class AppError(Exception):
    """An answer with a status and a stable `code`. Every error is a class:

        class PunchVoided(Conflict):
            code, message = "punch_voided", "The punch is voided and cannot be changed"

    raised with an optional message and details (`raise PunchVoided(punch_id=3)` → {"error": {"code": ...,
    "message": ..., "punch_id": 3}}). A route lists the ones it answers with in `responses=responses(...)`."""

    status_code = 400
    code = "bad_request"
    message = "Bad request"

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None, **details: Any):
        self.message = message or self.message
        self.details = details
        self.headers = headers
        super().__init__(self.message)

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, **self.details}}


# --- generic
class NotFound(AppError):
    status_code, code, message = 404, "not_found", "Not found"


class Conflict(AppError):
    status_code, code, message = 409, "conflict", "Conflict"


class ValidationFailed(AppError):
    status_code, code, message = 422, "validation_error", "Invalid request"


class ServiceUnavailable(AppError):
    status_code, code, message = 503, "service_unavailable", "Service not ready"


class DatabaseUnavailable(AppError):
    status_code, code, message = 503, "database_unavailable", "The database cannot be reached"


# --- auth
class InvalidCredentials(AppError):
    status_code, code, message = 401, "invalid_credentials", "Wrong username or password"


class NotAuthenticated(AppError):
    status_code, code, message = 401, "not_authenticated", "Authentication required"


class InvalidToken(AppError):
    status_code, code, message = 401, "invalid_token", "Invalid or expired token"


class InvalidDeviceKey(AppError):
    status_code, code, message = 401, "invalid_device_key", "Missing, unknown or revoked device key"


class Forbidden(AppError):
    status_code, code, message = 403, "forbidden", "Not allowed"


class WrongCurrentPassword(AppError):
    status_code, code, message = 403, "wrong_current_password", "The current password is wrong"


class TooManyAttempts(AppError):
    status_code, code, message = 429, "too_many_attempts", "Too many failed attempts, try later"


# --- images / faces
class ImageTooLarge(AppError):
    status_code, code, message = 413, "image_too_large", "Upload exceeds the size limit"


class ImageTooManyPixels(AppError):
    status_code, code, message = 422, "image_too_large", "Image has too many pixels"


class InvalidImage(AppError):
    status_code, code, message = 422, "invalid_image", "Not a decodable JPEG, PNG or WebP image"


class FaceNotFound(AppError):
    status_code, code, message = 422, "no_face", "No face found in the image"


class MultipleFaces(AppError):
    status_code, code, message = 422, "multiple_faces", "More than one face in the image"


class FaceTooSmall(AppError):
    status_code, code, message = 422, "face_too_small", "Face too small: move closer"


class FaceBlurry(AppError):
    status_code, code, message = 422, "face_blurry", "Face is blurry: hold still"


class FaceTooDark(AppError):
    status_code, code, message = 422, "face_too_dark", "Face too dark: more light needed"


class FaceLowConfidence(AppError):
    status_code, code, message = 422, "face_low_confidence", "Face not clear enough"


class UnknownFace(AppError):
    status_code, code, message = 401, "face_not_recognized", "Face not recognized"


class EmployeeCodeRequired(AppError):
    status_code, code = 422, "employee_code_required"
    message = "Face login needs your employee code (FACE_LOGIN_WITHOUT_CODE=false)"


class DuplicateFace(AppError):
    status_code, code, message = 409, "duplicate_face", "Face already enrolled for another user"


class ModelMismatch(AppError):
    status_code, code, message = 409, "model_mismatch", "Embeddings of different models cannot be compared"


class ModelWeightsMissing(AppError):
    status_code, code = 503, "model_weights_missing"
    message = "Face model weights are missing: run `python scripts/fetch_models.py`"


# what a route that reads photos may answer about one of them (the upload dependency and the quality gate)
PHOTO_ERRORS = (ImageTooLarge, InvalidImage, ImageTooManyPixels, FaceNotFound, MultipleFaces, FaceTooSmall, FaceBlurry,
                FaceTooDark, FaceLowConfidence)


class ErrorBody(BaseModel):
    code: str = Field(description="stable machine code, e.g. not_found")
    message: str = Field(description="what went wrong, for people")

    model_config = {"extra": "allow"}  # details of the error (field, image_index, limit_bytes ...)


class ErrorOut(BaseModel):
    """Every error answer: {"error": {"code", "message", ...details}}."""

    error: ErrorBody


Documented = type[AppError] | tuple[type[AppError], str]


def responses(*errors: Documented) -> dict[int | str, dict]:
    """The OpenAPI `responses` of a route, built from the error classes it answers with (a class, or (class, "when"))
    — one entry per status with the ErrorOut schema and, as description, the codes of that status:

        @router.post(..., responses=responses(AUTH, (Conflict, "field: email | employee_code"), ValidationFailed))

    Tuples of such entries (e.g. a shared SIGNED_IN = (NotAuthenticated, InvalidToken)) are flattened; a note given
    to a tuple, (PHOTO_ERRORS, "with image_index"), goes to each of its errors."""
    by_status: dict[int, dict[str, None]] = {}
    for cls, note in _flatten(errors):
        by_status.setdefault(cls.status_code, {})[cls.code + (f" ({note})" if note else "")] = None
    return {status: {"model": ErrorOut, "description": " | ".join(texts)}
            for status, texts in sorted(by_status.items())}


def _flatten(items, note: str | None = None) -> list[tuple[type[AppError], str | None]]:
    """(class, note) pairs from classes, (class or group, "note") pairs and groups (tuples), nested."""
    out: list[tuple[type[AppError], str | None]] = []
    for item in items:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], str):
            out.extend(_flatten(item[0] if isinstance(item[0], tuple) else (item[0],), item[1]))
        elif isinstance(item, tuple):
            out.extend(_flatten(item, note))
        else:
            out.append((item, note))
    return out


_HTTP_CODES = {400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "image_too_large", 415: "unsupported_media_type",
               422: "validation_error", 429: "too_many_requests", 503: "service_unavailable"}


def _is_database_unavailable(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError, OperationalError

    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def error_response(exc: BaseException, *, request_id: str | None = None) -> JSONResponse:
    """THE error mapping: every exception becomes `{"error": {"code", "message", ...}}` with its status.

    AppError → its status/code; HTTP errors (404, 405, 413 ...) → the status with a code from _HTTP_CODES; request
    validation → 422 validation_error with `fields`; a database that cannot be reached → 503 database_unavailable
    with Retry-After; anything else → 500 internal_error (logged with its traceback and the request id).
    """
    headers: dict[str, str] | None = None
    if isinstance(exc, AppError):
        status, body, headers = exc.status_code, exc.body(), exc.headers
    elif isinstance(exc, StarletteHTTPException):
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        status, body, headers = exc.status_code, {"error": {"code": code, "message": message}}, exc.headers
    elif isinstance(exc, RequestValidationError):
        fields = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        status = 422
        body = {"error": {"code": "validation_error", "message": "Request validation failed", "fields": fields}}
    elif isinstance(exc, ClientDisconnect):
        status, body = 400, {"error": {"code": "client_disconnected", "message": "The client went away"}}
    elif _is_database_unavailable(exc):
        log.warning("database unavailable (request %s): %s", request_id, exc.__class__.__name__)
        status, headers = 503, {"Retry-After": "5"}
        body = DatabaseUnavailable().body()
    else:
        log.error("unhandled error (request %s)", request_id, exc_info=exc)
        status = 500
        body = {"error": {"code": "internal_error", "message": "Internal server error", "request_id": request_id}}
    return JSONResponse(body, status_code=status, headers=headers)


def install_handlers(app: FastAPI) -> None:
    """FastAPI's own exception middleware maps these three kinds; everything else that escapes an endpoint is
    mapped by RequestContextMiddleware. Both call `error_response`."""

    async def _handle(request: Request, exc: Exception):
        return error_response(exc, request_id=getattr(request.state, "request_id", None))

    for kind in (AppError, StarletteHTTPException, RequestValidationError):
        app.add_exception_handler(kind, _handle)


def _request_id(scope) -> str:
    for name, value in scope.get("headers") or ():
        if name == b"x-request-id":
            rid = value.decode("latin-1")
            if 0 < len(rid) <= 128 and rid.isprintable():
                return rid
            break
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """Pure ASGI, just inside Starlette's ServerErrorMiddleware, so it sees every response and every exception:

    * gives each request an id (the client's `X-Request-ID` when sane, else a new one) and puts it on the response;
    * turns an exception that escaped the app into the JSON error of `error_response` (500 internal_error, 503
      database_unavailable ...), so even those answers carry the id and the error shape;
    * records the request in the per-process metrics (method, route template or "unmatched", status, latency).
    """

    def __init__(self, app, metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = rid
        header = (b"x-request-id", rid.encode("latin-1"))
        status = None
        t0 = time.perf_counter()

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if status is not None:  # the answer is already on its way: nothing else can be sent
                log.error("error after the response started (request %s)", rid, exc_info=exc)
                raise
            response = error_response(exc, request_id=rid)
            await response(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe(scope.get("method", ""), route, status or 500, time.perf_counter() - t0)
