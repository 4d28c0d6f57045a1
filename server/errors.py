"""Application errors: each carries an HTTP status and a stable machine code.

One handler (`install_handlers`) turns them, HTTP errors and validation errors into
`{"error": {"code": ..., "message": ..., ...details}}`.
"""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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
DuplicateFace = _error("DuplicateFace", 409, "duplicate_face", "Face already enrolled for another user")
ModelMismatch = _error("ModelMismatch", 409, "model_mismatch", "Embeddings of different models cannot be compared")
ModelWeightsMissing = _error(
    "ModelWeightsMissing", 503, "model_weights_missing",
    "Face model weights are missing: run `python scripts/fetch_models.py`",
)


def _json(status: int, code: str, message: str, headers: dict | None = None, **details: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **details}}, status_code=status, headers=headers)


_HTTP_CODES = {400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "image_too_large", 415: "unsupported_media_type",
               422: "validation_error", 429: "too_many_requests", 503: "service_unavailable"}


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError):
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return _json(exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        fields = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        return _json(422, "validation_error", "Request validation failed", fields=fields)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        from sqlalchemy.exc import DBAPIError, OperationalError

        if isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
            log.warning("database unavailable: %s", exc.__class__.__name__)
            return _json(503, "database_unavailable", "The database cannot be reached", headers={"Retry-After": "5"})
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _json(500, "internal_error", "Internal server error")
