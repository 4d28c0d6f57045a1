"""Admin face endpoints for integrators: 1:1 verify and 1:N identify. HTTP only: the rules are in service.py."""
from __future__ import annotations

import time

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from sqlalchemy.orm import Session

from server.auth.deps import SIGNED_IN, AdminDep
from server.deps import SessionDep, client_id
from server.errors import PHOTO_ERRORS, Forbidden, ModelWeightsMissing, ValidationFailed, responses
from server.faces import model_change, service
from server.faces.deps import EngineDep
from server.faces.schemas import IdentifyOut, ReembedOut, ReenrollmentOut, VerifyOut
from server.faces.uploads import Photos

router = APIRouter(prefix="/api/v1/faces", tags=["faces"])
PhotoPair = Annotated[list[bytes], Depends(Photos("verify", "image1", "image2"))]
OnePhoto = Annotated[list[bytes], Depends(Photos("identify", "image"))]

_ADMIN = (SIGNED_IN, (Forbidden, "admins only"), ModelWeightsMissing)
_ERRORS = responses(_ADMIN, PHOTO_ERRORS, ValidationFailed)


def _record(session: Session, purpose: str, model_id: str, decision: str, started: float, request: Request,
            **kw) -> None:
    service.record_attempt(session, purpose, model_id=model_id, decision=decision,
                           latency_ms=(time.perf_counter() - started) * 1000, client=client_id(request), **kw)


@router.post("/verify", response_model=VerifyOut, responses=_ERRORS,
             summary="1:1 — do two photos show the same person? (admin)")
def verify(request: Request, _admin: AdminDep, session: SessionDep, photos: PhotoPair, rt: EngineDep):
    started = time.perf_counter()
    result = service.verify(rt, *photos)
    _record(session, "verify", result["model_id"], "same" if result["same"] else "different", started, request,
            best_score=result["similarity"], threshold=result["threshold"])
    return result


@router.post("/identify", response_model=IdentifyOut, responses=_ERRORS,
             summary="1:N — who is this? Top-k enrolled users and the decision (admin)")
def identify(request: Request, _admin: AdminDep, session: SessionDep, photo: OnePhoto, rt: EngineDep,
             top_k: int = Form(5, ge=1, le=50)):
    started = time.perf_counter()
    result = service.identify(rt, photo[0], top_k, session=session)
    best = result["candidates"][0]["user_id"] if result["candidates"] else None
    _record(session, "identify", result["model_id"], result["decision"], started, request,
            best_user_id=best, best_score=result["score"], runner_up_score=result["runner_up"],
            point=result["operating_point"])
    return result


@router.get("/reenrollment", response_model=ReenrollmentOut,
            responses=responses(_ADMIN),
            summary="After a FACE_MODEL change: users whose templates are all of other models (admin)")
def reenrollment(_admin: AdminDep, session: SessionDep, rt: EngineDep):
    return model_change.reenrollment_report(session, rt.model_id)


@router.post("/reembed", response_model=ReembedOut,
             responses=responses(_ADMIN, (model_change.ReembedRunning, "another request or process is re-embedding")),
             summary="Re-embed kept enrollment photos into the current model, user by user (admin)")
def reembed(admin: AdminDep, session: SessionDep, rt: EngineDep,
            limit: int = Query(100, ge=1, le=10_000, description="at most this many users")):
    return model_change.reembed_kept_images(session, rt, limit=limit, actor_user_id=admin.id)
