"""Employee requests (rules in service.py; approving applies the change in flows.py).

POST /api/v1/requests                 any signed-in user, for itself: {type, …change, reason}
GET  /api/v1/requests                 own (employee), the site's (manager), all (admin): ?status&type&user_id
POST /api/v1/requests/{id}/approve    manager of the requester's site / admin, never the requester: {reason?}
POST /api/v1/requests/{id}/reject     same: {reason} (required)
POST /api/v1/requests/{id}/cancel     the requester, while pending
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Body, Query

from server.auth.deps import SIGNED_IN, EmployeeDep, ManagerDep
from server.bounds import PathId, UserFilter
from server.deps import SessionDep, SettingsDep
from server.attendance.flows import AttendanceRecorded
from server.attendance.service import PunchVoided
from server.errors import Forbidden, NotFound, ValidationFailed, responses
from server.leaves.service import LeaveOverlap
from server.users.employment import OutsideEmployment
from server.requests import flows, service
from server.requests.schemas import DecisionIn, RequestIn, RequestOut, RequestPage, RequestStatus, RequestType
from server.users.service import get_user

if TYPE_CHECKING:  # annotations only: a router reads other domains through their services
    from server.users.models import User

router = APIRouter(prefix="/api/v1/requests", tags=["requests"])

_AUTH = (SIGNED_IN, (Forbidden, "role, a user outside the manager's site"), service.OwnRequest)
_DECIDE = (_AUTH, NotFound, service.RequestNotPending, LeaveOverlap, AttendanceRecorded, PunchVoided,
           (ValidationFailed, "reject without a reason; the change's own: a punch in the future …"), OutsideEmployment)


def _out(req, user: User) -> RequestOut:
    return RequestOut(id=req.id, user_id=req.user_id, employee_code=user.employee_code, full_name=user.full_name,
                      type=req.type, change=req.payload, reason=req.reason, status=req.status,
                      created_at=req.created_at, decided_by=req.decided_by, decided_at=req.decided_at,
                      decision_reason=req.decision_reason, result=req.result)


@router.post("", response_model=RequestOut, status_code=201,
             responses=responses(_AUTH, (NotFound, "the punch to correct is not yours"), PunchVoided,
                                 (ValidationFailed, "a punch in the future"), OutsideEmployment),
             summary="Ask for a change of your own attendance; nothing changes until a manager approves it")
def create_request(body: RequestIn, user: EmployeeDep, session: SessionDep, settings: SettingsDep):
    change = body.model_dump(mode="json", by_alias=True, exclude={"type", "reason"})
    req = service.create_request(session, settings, user=user, type=body.type, change=change, reason=body.reason)
    return _out(req, user)


@router.get("", response_model=RequestPage, responses=responses(_AUTH),
            summary="Requests, newest first: your own (employee), your site's (manager), all (admin)")
def list_requests(actor: EmployeeDep, session: SessionDep, status: RequestStatus | None = None,
                  type: RequestType | None = None, user_id: UserFilter = None, limit: int = Query(100, ge=1, le=1000),
                  offset: int = Query(0, ge=0, le=10**9)):
    rows, total = service.list_requests(session, actor=actor, user_id=user_id, status=status, type=type,
                                        limit=limit, offset=offset)
    return RequestPage(items=[_out(r, u) for r, u in rows], total=total, limit=limit, offset=offset)


@router.post("/{request_id}/approve", response_model=RequestOut, responses=responses(_DECIDE),
             summary="Approve: the change is applied as the manager's own action (audited, days recomputed)")
def approve(request_id: PathId, actor: ManagerDep, session: SessionDep, settings: SettingsDep,
            body: DecisionIn | None = Body(None)):
    req = flows.approve(session, settings, actor=actor, request_id=request_id, reason=body.reason if body else None)
    return _out(req, get_user(session, req.user_id))


@router.post("/{request_id}/reject", response_model=RequestOut, responses=responses(_DECIDE),
             summary="Reject with a reason: nothing changes")
def reject(request_id: PathId, body: DecisionIn, actor: ManagerDep, session: SessionDep):
    req = flows.reject(session, actor=actor, request_id=request_id, reason=body.reason)
    return _out(req, get_user(session, req.user_id))


@router.post("/{request_id}/cancel", response_model=RequestOut,
             responses=responses(_AUTH, NotFound, service.RequestNotPending),
             summary="Withdraw your own pending request")
def cancel(request_id: PathId, user: EmployeeDep, session: SessionDep):
    req = service.cancel(session, actor=user, req=service.get_request(session, request_id))
    return _out(req, user)
