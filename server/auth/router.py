"""Login (password, face), token refresh and logout. Also mounts the admin record lists (audit, face attempts)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from server.audit.router import router as records_router
from server.auth import service
from server.auth.schemas import FaceLoginResponse, RefreshRequest, TokenResponse
from server.deps import SessionDep, SettingsDep, client_id
from server.errors import (PHOTO_ERRORS, EmployeeCodeRequired, InvalidCredentials, InvalidToken, ModelWeightsMissing,
                           TooManyAttempts, UnknownFace, ValidationFailed, responses)
from server.faces.uploads import Photos
from server.liveness.errors import CHALLENGE_ERRORS
from server.faces.deps import FaceRuntimeDep
from server.liveness.service import MAX_FRAMES as LIVENESS_FRAMES
from server.users.schemas import UserOut

# up to 5 frames answer a liveness challenge (service.face_login allows 3 without one)
LoginFrames = Annotated[list[bytes], Depends(Photos("login", "image", many="images", most=LIVENESS_FRAMES,
                                                    message="Send one image (or 1 to 3 frames as images; 2 to 5 "
                                                            "with a challenge_id)"))]

_auth = APIRouter(prefix="/api/v1/auth", tags=["auth"])

_LOCKED = (TooManyAttempts, "Retry-After header")


@_auth.post("/login", response_model=TokenResponse, responses=responses(InvalidCredentials, _LOCKED, ValidationFailed),
             summary="Password login (OAuth2 password form: username = email or employee_code)")
def login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep,
          settings: SettingsDep):
    _, pair = service.password_login(session, settings, username=form.username, password=form.password,
                                     client=client_id(request))
    return pair.as_dict()


@_auth.post("/face-login", response_model=FaceLoginResponse,
            responses=responses(UnknownFace, PHOTO_ERRORS, (EmployeeCodeRequired, "FACE_LOGIN_WITHOUT_CODE=false"),
                                ValidationFailed, CHALLENGE_ERRORS, _LOCKED, ModelWeightsMissing),
            summary="Face login: 1:1 with employee_code, else 1:N (one image, or up to 3 frames; 2-5 frames with "
                    "a challenge_id)")
def face_login(request: Request, session: SessionDep, settings: SettingsDep, frames: LoginFrames, rt: FaceRuntimeDep,
               employee_code: str | None = Form(None, max_length=64),
               challenge_id: str | None = Form(None, description="from POST /auth/face-login/challenge (required "
                                                                 "when LIVENESS_LOGIN=challenge)")):
    result = service.face_login(session, settings, rt, frames=frames,
                                employee_code=employee_code, client=client_id(request), challenge_id=challenge_id)
    return {**result.tokens.as_dict(), "user": UserOut.of(result.user), "score": round(result.score, 4),
            "model_id": result.model_id}


@_auth.post("/refresh", response_model=TokenResponse, responses=responses(InvalidToken),
             summary="Spend a refresh token for a new pair (a spent token presented again revokes its family)")
def refresh(body: RefreshRequest, session: SessionDep, settings: SettingsDep):
    _, pair = service.refresh(session, settings, body.refresh_token)
    return pair.as_dict()


@_auth.post("/logout", status_code=204, responses=responses(InvalidToken),
            summary="Revoke the refresh token (and its family)")
def logout(body: RefreshRequest, session: SessionDep, settings: SettingsDep):
    service.logout(session, settings, body.refresh_token)
    return Response(status_code=204)


# main.py includes `server.<domain>.router.router` for a fixed list of domains ("audit" is not one of them), so the
# admin record lists of server/audit/router.py are mounted here. Keep this at the end: routes are copied on include.
router = APIRouter()
router.include_router(_auth)
router.include_router(records_router)
