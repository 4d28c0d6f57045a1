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
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

log = logging.getLogger("faceclock.errors")


class AppError(Exception):
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


def _error(name: str, status: int, code: str, message: str) -> type[AppError]:
    return type(name, (AppError,), {"status_code": status, "code": code, "message": message})


# generic
NotFound = _error("NotFound", 404, "not_found", "Not found")
Conflict = _error("Conflict", 409, "conflict", "Conflict")
ValidationFailed = _error("ValidationFailed", 422, "validation_error", "Invalid request")
ServiceUnavailable = _error("ServiceUnavailable", 503, "service_unavailable", "Service not ready")
DatabaseUnavailable = _error("DatabaseUnavailable", 503, "database_unavailable", "The database cannot be reached")
# auth
InvalidCredentials = _error("InvalidCredentials", 401, "invalid_credentials", "Wrong username or password")
NotAuthenticated = _error("NotAuthenticated", 401, "not_authenticated", "Authentication required")
InvalidToken = _error("InvalidToken", 401, "invalid_token", "Invalid or expired token")
InvalidDeviceKey = _error("InvalidDeviceKey", 401, "invalid_device_key", "Missing, unknown or revoked device key")
Forbidden = _error("Forbidden", 403, "forbidden", "Not allowed")
WrongCurrentPassword = _error("WrongCurrentPassword", 403, "wrong_current_password", "The current password is wrong")
TooManyAttempts = _error("TooManyAttempts", 429, "too_many_attempts", "Too many failed attempts, try later")
# images / faces
ImageTooLarge = _error("ImageTooLarge", 413, "image_too_large", "Upload exceeds the size limit")
ImageTooManyPixels = _error("ImageTooManyPixels", 422, "image_too_large", "Image has too many pixels")
InvalidImage = _error("InvalidImage", 422, "invalid_image", "Not a decodable JPEG, PNG or WebP image")
FaceNotFound = _error("FaceNotFound", 422, "no_face", "No face found in the image")
MultipleFaces = _error("MultipleFaces", 422, "multiple_faces", "More than one face in the image")
FaceTooSmall = _error("FaceTooSmall", 422, "face_too_small", "Face too small: move closer")
FaceBlurry = _error("FaceBlurry", 422, "face_blurry", "Face is blurry: hold still")
FaceTooDark = _error("FaceTooDark", 422, "face_too_dark", "Face too dark: more light needed")
FaceLowConfidence = _error("FaceLowConfidence", 422, "face_low_confidence", "Face not clear enough")
UnknownFace = _error("UnknownFace", 401, "face_not_recognized", "Face not recognized")
EmployeeCodeRequired = _error("EmployeeCodeRequired", 422, "employee_code_required",
                              "Face login needs your employee code (FACE_LOGIN_WITHOUT_CODE=false)")
DuplicateFace = _error("DuplicateFace", 409, "duplicate_face", "Face already enrolled for another user")
ModelMismatch = _error("ModelMismatch", 409, "model_mismatch", "Embeddings of different models cannot be compared")
ModelWeightsMissing = _error(
    "ModelWeightsMissing", 503, "model_weights_missing",
    "Face model weights are missing: run `python scripts/fetch_models.py`",
)


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
