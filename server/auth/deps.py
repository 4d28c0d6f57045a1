"""Authentication and authorisation dependencies, one per role level, as Annotated aliases:

    user: CurrentUser      # any valid access token of an active user (401 otherwise)
    user: EmployeeDep      # same: any active user (employee, manager, admin)
    user: ManagerDep       # manager or admin (403 otherwise)
    user: AdminDep         # admin only (403 otherwise)
    device: DeviceDep      # X-Device-Key of an active kiosk (401 invalid_device_key otherwise)

Who may act on whom is server/users/policy.py.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.auth.service import live_family
from server.auth.tokens import ACCESS, decode_token
from server.deps import SessionDep, SettingsDep
from server.devices.models import Device
from server.devices.service import authenticate_device
from server.errors import Forbidden, InvalidDeviceKey, InvalidToken, NotAuthenticated
from server.users.models import User
from server.users.policy import is_admin, is_supervisor

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)
_device_key = APIKeyHeader(name="X-Device-Key", auto_error=False, description="Kiosk API key")
_WWW = {"WWW-Authenticate": "Bearer"}


def current_user(request: Request, session: SessionDep, settings: SettingsDep,
                 token: str | None = Depends(_bearer)) -> User:
    """The active user of the Bearer access token. 401 not_authenticated without one, 401 invalid_token otherwise:
    also when the token's login (family) was revoked by logout, refresh-token reuse, deactivation or a password
    change. One query reads the user and probes its family, so a revocation is seen by the next request.

    A kiosk presenting only its valid X-Device-Key is authenticated but not allowed here: 403 forbidden.
    """
    if not token:
        _forbid_devices(request, session)
        raise NotAuthenticated(headers=_WWW)
    try:
        claims = decode_token(settings, token, typ=ACCESS)
    except InvalidToken as exc:
        exc.headers = _WWW
        raise
    user_id = int(claims["sub"])
    user = session.scalar(select(User).where(User.id == user_id, User.is_active.is_(True),
                                             live_family(claims["fam"])))
    if user is None:
        raise InvalidToken(headers=_WWW)
    request.state.user = user
    return user


def _forbid_devices(request: Request, session: Session) -> None:
    key = request.headers.get("x-device-key")
    if key:
        try:
            authenticate_device(session, key, touch=False)
        except InvalidDeviceKey:
            return
        raise Forbidden("Kiosk keys only reach kiosk endpoints")


def require_employee(user: User = Depends(current_user)) -> User:
    """Any active user (every role may see and act on its own data)."""
    return user


def require_manager(user: User = Depends(current_user)) -> User:
    if not is_supervisor(user):
        raise Forbidden("Manager or admin role required")
    return user


def require_admin(user: User = Depends(current_user)) -> User:
    if not is_admin(user):
        raise Forbidden("Admin role required")
    return user


def require_device(request: Request, session: SessionDep, api_key: str | None = Depends(_device_key)) -> Device:
    """The active kiosk of the X-Device-Key header; missing, unknown or revoked → 401 invalid_device_key."""
    device = authenticate_device(session, api_key)
    request.state.device = device
    return device


SIGNED_IN = (NotAuthenticated, InvalidToken)  # what every route behind a user's token may answer (errors.responses)

CurrentUser = Annotated[User, Depends(current_user)]
EmployeeDep = Annotated[User, Depends(require_employee)]
ManagerDep = Annotated[User, Depends(require_manager)]
AdminDep = Annotated[User, Depends(require_admin)]
DeviceDep = Annotated[Device, Depends(require_device)]
