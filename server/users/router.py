"""Users (admin / manager) and the caller's own record. Enrollment endpoints: server/users/faces_router.py."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from server.auth.deps import current_user, require_manager
from server.deps import get_session, get_settings_dep
from server.users import service
from server.users.schemas import Role, UserCreate, UserOut, UserPage, UserUpdate
from server.users.models import User

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.get("/me", response_model=UserOut, summary="The authenticated user")
def me(user: User = Depends(current_user)):
    return UserOut.of(user)


@router.post("", status_code=201, response_model=UserOut,
             responses={409: {"description": "conflict (field: employee_code | email)"}},
             summary="Create a user (admin; manager: employees of its own site)")
def create_user(body: UserCreate, actor: User = Depends(require_manager), session: Session = Depends(get_session),
                settings=Depends(get_settings_dep)):
    return UserOut.of(service.create_user(session, settings, actor=actor, data=body))


@router.get("", response_model=UserPage, summary="List users (admin: all; manager: its own site)")
def list_users(role: Role | None = None, active: bool | None = None, search: str | None = Query(None, max_length=100),
               site: str | None = None, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
               actor: User = Depends(require_manager), session: Session = Depends(get_session)):
    items, total = service.list_users(session, actor=actor, role=role, active=active, search=search, site=site,
                                      limit=limit, offset=offset)
    return {"items": [UserOut.of(u) for u in items], "total": total, "limit": limit, "offset": offset}


@router.get("/{user_id}", response_model=UserOut, summary="A user (self, or a user the caller manages)")
def get_user(user_id: int, actor: User = Depends(current_user), session: Session = Depends(get_session)):
    return UserOut.of(service.get_visible_user(session, actor, user_id))


@router.patch("/{user_id}", response_model=UserOut,
              summary="Update a user (admin; manager: employees of its site; self: name, email, timezone, password)")
def update_user(user_id: int, body: UserUpdate, actor: User = Depends(current_user),
                session: Session = Depends(get_session), settings=Depends(get_settings_dep)):
    user = service.get_user(session, user_id) if actor.id == user_id else \
        service.get_managed_user(session, actor, user_id)
    return UserOut.of(service.update_user(session, settings, actor=actor, user=user, data=body))


@router.delete("/{user_id}", status_code=204,
               summary="Delete a user: deactivate, revoke tokens, erase biometric data (attendance stays)")
def delete_user(user_id: int, request: Request, actor: User = Depends(require_manager),
                session: Session = Depends(get_session), settings=Depends(get_settings_dep)):
    user = service.get_managed_user(session, actor, user_id)
    service.deactivate_user(session, actor=actor, user=user)
    from server.users.enrollment import erase_biometrics

    erase_biometrics(request, session, settings, actor=actor, user=user, reason="user deleted")
    return Response(status_code=204)
