"""Admin record lists: the audit log and the face decision records. Mounted by server/auth/router.py."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query

from server.audit import service
from server.audit.schemas import AuditPage, FaceAttemptPage
from server.auth.deps import SIGNED_IN, AdminDep
from server.faces import attempts
from server.clock import as_utc
from server.deps import SessionDep
from server.errors import Forbidden, ValidationFailed, responses
from server.bounds import QueryId

router = APIRouter(prefix="/api/v1", tags=["records"])
_ADMIN = responses(SIGNED_IN, (Forbidden, "admins only"), ValidationFailed)
Id = QueryId


def _utc(dt: datetime | None) -> datetime | None:
    return None if dt is None else as_utc(dt)  # a naive time is taken as UTC


@router.get("/audit", response_model=AuditPage, responses=_ADMIN, summary="Audit log, newest first (admin)")
def list_audit(_: AdminDep, session: SessionDep, action: str | None = None, entity: str | None = None,
               entity_id: str | None = None, actor_user_id: Id = None, since: datetime | None = None,
               until: datetime | None = None, limit: int = Query(50, ge=1, le=500),
               offset: int = Query(0, ge=0, le=10**9)):
    items, total = service.list_entries(session, action=action, entity=entity, entity_id=entity_id,
                                        actor_user_id=actor_user_id, since=_utc(since), until=_utc(until),
                                        limit=limit, offset=offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/face-attempts", response_model=FaceAttemptPage, responses=_ADMIN,
            summary="Face decision records (login, kiosk, enrollment), newest first (admin)")
def list_face_attempts(_: AdminDep, session: SessionDep, purpose: str | None = None, decision: str | None = None,
                       user_id: Id = None, device_id: Id = None, since: datetime | None = None,
                       until: datetime | None = None, limit: int = Query(50, ge=1, le=500),
                       offset: int = Query(0, ge=0, le=10**9)):
    items, total = attempts.list_attempts(session, purpose=purpose, decision=decision, user_id=user_id,
                                           device_id=device_id, since=_utc(since), until=_utc(until),
                                           limit=limit, offset=offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}
