"""Users (admin / manager), the caller's own record, and enrollment / erasure of a user's faces."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, Response

from server.attendance import flows
from server.auth.deps import SIGNED_IN, CurrentUser, ManagerDep
from server.bounds import PathId
from server.deps import SessionDep, SettingsDep, client_id
from server.errors import (
    PHOTO_ERRORS,
    Conflict,
    DuplicateFace,
    Forbidden,
    ModelWeightsMissing,
    NotFound,
    TooManyAttempts,
    ValidationFailed,
    WrongCurrentPassword,
    responses,
)
from server.faces.deps import FaceRuntimeDep
from server.faces.uploads import Photos
from server.faces import enrollment
from server.faces.schemas import EnrollmentOut, TemplateOut
from server.users import service
from server.users.schemas import (
    ConsentTextOut,
    Role,
    UserCreate,
    UserOut,
    UserPage,
    UserUpdate,
)

router = APIRouter(prefix="/api/v1/users", tags=["users"])
UserId = PathId
_MANAGED = (SIGNED_IN, Forbidden, NotFound)  # a user the caller may see or act on


@router.get("/me", response_model=UserOut, responses=responses(SIGNED_IN), summary="The authenticated user")
def me(user: CurrentUser):
    return UserOut.of(user)


@router.get("/consent-text", response_model=ConsentTextOut,
            responses=responses(SIGNED_IN, (enrollment.ConsentTextMissing, "no text for CONSENT_TEXT_VERSION")),
            summary="The consent text enrollment records (CONSENT_TEXT_VERSION), in a language (English otherwise)")
def get_consent_text(_: CurrentUser, settings: SettingsDep, lang: str | None = Query(None, pattern=r"^[a-z]{2}$")):
    version, shown, text = enrollment.consent_text(settings, lang)
    return {"version": version, "lang": shown, "text": text}


@router.post("", status_code=201, response_model=UserOut,
             responses=responses(SIGNED_IN, (Forbidden, "not an admin; a manager creating other than an "
                                                         "employee of its site"),
                                 (Conflict, "field: employee_code or email"), ValidationFailed),
             summary="Create a user (admin; manager: employees of its own site)")
def create_user(body: UserCreate, actor: ManagerDep, session: SessionDep, settings: SettingsDep):
    return UserOut.of(service.create_user(session, settings, actor=actor, data=body))


@router.get("", response_model=UserPage, responses=responses(SIGNED_IN, Forbidden, ValidationFailed),
            summary="List users (admin: all; manager: its own site)")
def list_users(actor: ManagerDep, session: SessionDep, role: Role | None = None, active: bool | None = None,
               search: str | None = Query(None, max_length=100), site: str | None = None,
               limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=10**9)):
    items, total = service.list_users(session, actor=actor, role=role, active=active, search=search, site=site,
                                      limit=limit, offset=offset)
    return {"items": [UserOut.of(u) for u in items], "total": total, "limit": limit, "offset": offset}


@router.get("/{user_id}", response_model=UserOut, responses=responses(_MANAGED),
            summary="A user (self, or a user the caller manages)")
def get_user(user_id: UserId, actor: CurrentUser, session: SessionDep):
    return UserOut.of(service.get_visible_user(session, actor, user_id))


@router.patch("/{user_id}", response_model=UserOut,
              responses=responses(SIGNED_IN, Forbidden, WrongCurrentPassword, NotFound, Conflict,
                                  (ValidationFailed, "field: current_password, required for your own password"),
                                  (TooManyAttempts, "wrong current passwords count as failed logins")),
              summary="Update a user (admin; manager: employees of its site; self: name, email, timezone, password "
                      "with current_password)")
def update_user(user_id: UserId, body: UserUpdate, request: Request, actor: CurrentUser, session: SessionDep,
                settings: SettingsDep):
    user = service.get_user(session, user_id) if actor.id == user_id else \
        service.get_managed_user(session, actor, user_id)
    return UserOut.of(flows.update_user(session, settings, actor=actor, user=user, data=body,
                                        client=client_id(request)))


@router.delete("/{user_id}", status_code=204, responses=responses(_MANAGED, (Conflict, "yourself")),
               summary="Delete a user: deactivate, revoke tokens, erase biometric data (attendance stays)")
def delete_user(user_id: UserId, actor: ManagerDep, session: SessionDep, settings: SettingsDep):
    user = service.get_managed_user(session, actor, user_id)
    flows.deactivate_user(session, settings, actor=actor, user=user)
    enrollment.erase_biometrics(session, settings, actor=actor, user=user, reason="user deleted")
    return Response(status_code=204)


_ENROLL_ERRORS = responses(SIGNED_IN, Forbidden, NotFound, (DuplicateFace, "user_id of the other user"),
                           (Conflict, "user deactivated"),
                           (enrollment.ConsentTextChanged, "consent_text_version is not the current one"),
                           enrollment.ConsentRequired, (PHOTO_ERRORS, "with image_index and failures[]"),
                           ValidationFailed, ModelWeightsMissing)


EnrollPhotos = Annotated[list[bytes], Depends(Photos("enroll", many="images"))]


@router.post("/{user_id}/faces", status_code=201, response_model=EnrollmentOut, responses=_ENROLL_ERRORS,
             summary="Enroll 1-5 face photos (all or nothing; consent=true required)")
def enroll_faces(user_id: UserId, request: Request, actor: ManagerDep, session: SessionDep, settings: SettingsDep,
                 images: EnrollPhotos, rt: FaceRuntimeDep, consent: bool = Form(False),
                 allow_duplicate: bool = Form(False),
                 consent_text_version: str | None = Form(None, max_length=32,
                                                         description="Version of the consent text shown"),
                 consent_lang: str | None = Form(None, pattern=r"^[a-z]{2}$",
                                                 description="Language the consent text was shown in")):
    user = service.get_managed_user(session, actor, user_id)
    rt.require_engine()
    if not consent:
        raise enrollment.ConsentRequired()
    rows = enrollment.enroll(session, settings, rt, actor=actor, user=user, images=images, consent=consent,
                             allow_duplicate=allow_duplicate, client=client_id(request),
                             consent_text_version=consent_text_version, consent_lang=consent_lang)
    return {"user_id": user.id, "templates": [TemplateOut.model_validate(r) for r in rows],
            "consent_at": user.consent_at, "consent_version": user.consent_version}


@router.get("/{user_id}/faces", response_model=list[TemplateOut], responses=responses(_MANAGED),
            summary="A user's enrolled templates")
def list_faces(user_id: UserId, actor: CurrentUser, session: SessionDep):
    user = service.get_visible_user(session, actor, user_id)
    return enrollment.list_templates(session, user.id)


@router.delete("/{user_id}/faces", status_code=204, responses=responses(_MANAGED),
               summary="Erase a user's biometric data: templates, stored photos, gallery entry (self, admin, manager)")
def erase_faces(user_id: UserId, actor: CurrentUser, session: SessionDep, settings: SettingsDep):
    user = service.get_user(session, user_id) if actor.id == user_id else \
        service.get_managed_user(session, actor, user_id)
    enrollment.erase_biometrics(session, settings, actor=actor, user=user,
                                reason="self-service erasure" if actor.id == user_id else None)
    return Response(status_code=204)
