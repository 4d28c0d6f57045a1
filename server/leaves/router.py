"""Leave (rules in service.py; the work days it touches are recomputed by flows.py).

GET    /api/v1/leaves          manager (its site) / admin; an employee: its own. ?user_id&from&to&kind&include_cancelled
POST   /api/v1/leaves          manager / admin: {user_id, from, to, kind, half, reason}; created = approved
DELETE /api/v1/leaves/{id}     manager / admin: cancel, with a reason (?reason= or JSON {reason})
"""
from __future__ import annotations

from fastapi import APIRouter, Body, Query

from server.attendance import flows
from server.attendance.queries import default_range, ensure_supervised
from server.auth.deps import SIGNED_IN, EmployeeDep, ManagerDep
from server.bounds import ApiDate, PathId, UserFilter
from server.deps import SessionDep, SettingsDep
from server.errors import Forbidden, NotFound, ValidationFailed, responses
from server.leaves import service
from server.leaves.schemas import CancelIn, LeaveIn, LeaveKind, LeaveOut, LeavePage
from server.users.employment import OutsideEmployment
from server.users.policy import is_supervisor, visible_users_filter

router = APIRouter(prefix="/api/v1/leaves", tags=["leaves"])

_AUTH = (SIGNED_IN, (Forbidden, "not a manager / admin, or a user outside the manager's site"))


@router.get("", response_model=LeavePage, responses=responses(_AUTH, (NotFound, "user"), (ValidationFailed, "range")),
            summary="Leave overlapping [from, to] (default: the last 30 days); an employee sees its own")
def list_leaves(actor: EmployeeDep, session: SessionDep, settings: SettingsDep, user_id: UserFilter = None,
                from_: ApiDate | None = Query(None, alias="from"), to: ApiDate | None = None,
                kind: LeaveKind | None = None, include_cancelled: bool = False, limit: int = Query(500, ge=1, le=5000),
                offset: int = Query(0, ge=0, le=10**9)):
    start, end = default_range(settings, from_, to)
    if is_supervisor(actor):
        if user_id is not None:
            ensure_supervised(session, actor, user_id)
        clause = visible_users_filter(actor)
    else:
        clause, user_id = None, actor.id
    rows, total = service.list_leaves(session, users_clause=clause, user_id=user_id, start=start, end=end, kind=kind,
                                      include_cancelled=include_cancelled, limit=limit, offset=offset)
    return LeavePage(items=[LeaveOut.of(lv) for lv in rows], total=total, limit=limit, offset=offset)


@router.post("", response_model=LeaveOut, status_code=201,
             responses=responses(_AUTH, (NotFound, "user"), (service.LeaveOverlap, "existing"),
                                 (flows.AttendanceRecorded, "dates"), ValidationFailed, OutsideEmployment),
             summary="Record approved leave; the user's work days of those dates are recomputed")
def create_leave(body: LeaveIn, actor: ManagerDep, session: SessionDep, settings: SettingsDep):
    lv = flows.create_leave(session, settings, actor=actor, user_id=body.user_id, first=body.from_, last=body.to,
                            kind=body.kind, half=body.half, reason=body.reason)
    return LeaveOut.of(lv)


@router.delete("/{leave_id}", response_model=LeaveOut,
               responses=responses(_AUTH, NotFound, service.LeaveCancelled, (ValidationFailed, "no reason")),
               summary="Cancel a leave (kept, with the reason); its work days are recomputed")
def cancel_leave(leave_id: PathId, actor: ManagerDep, session: SessionDep, settings: SettingsDep,
                 reason: str | None = Query(None, max_length=1000), body: CancelIn | None = Body(None)):
    text = body.reason if body is not None else reason
    if not text or not text.strip():
        raise ValidationFailed("A reason is required", field="reason")
    return LeaveOut.of(flows.cancel_leave(session, settings, actor=actor, leave_id=leave_id, reason=text))
