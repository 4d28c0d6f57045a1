"""Login (password, face), token refresh and logout. Also mounts the admin record lists (audit, face attempts)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.orm import Session

from server.audit.router import router as records_router
from server.auth import service
from server.auth.schemas import RefreshRequest, TokenResponse
from server.deps import client_id, get_session, get_settings_dep

_auth = APIRouter(prefix="/api/v1/auth", tags=["auth"])

_LOGIN_ERRORS = {401: {"description": "invalid_credentials"},
                 429: {"description": "too_many_attempts (Retry-After header)"}}


@_auth.post("/login", response_model=TokenResponse, responses=_LOGIN_ERRORS,
             summary="Password login (OAuth2 password form: username = email or employee_code)")
def login(request: Request, form: OAuth2PasswordRequestForm = Depends(), session: Session = Depends(get_session),
          settings=Depends(get_settings_dep)):
    _, pair = service.password_login(session, settings, username=form.username, password=form.password,
                                     client=client_id(request))
    return pair.as_dict()


@_auth.post("/refresh", response_model=TokenResponse, responses={401: {"description": "invalid_token"}},
             summary="Spend a refresh token for a new pair (a spent token presented again revokes its family)")
def refresh(body: RefreshRequest, session: Session = Depends(get_session), settings=Depends(get_settings_dep)):
    _, pair = service.refresh(session, settings, body.refresh_token)
    return pair.as_dict()


@_auth.post("/logout", status_code=204, summary="Revoke the refresh token (and its family)")
def logout(body: RefreshRequest, session: Session = Depends(get_session), settings=Depends(get_settings_dep)):
    service.logout(session, settings, body.refresh_token)
    return Response(status_code=204)


# main.py includes `server.<domain>.router.router` for a fixed list of domains ("audit" is not one of them), so the
# admin record lists of server/audit/router.py are mounted here. Keep this at the end: routes are copied on include.
router = APIRouter()
router.include_router(_auth)
router.include_router(records_router)
