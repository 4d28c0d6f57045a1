"""Employee requests: an employee asks for a change of its own attendance (a missed punch, a correction of one of its
punches, leave, a whole-day mark); nothing changes until a manager of its site (or an admin) approves it, which
applies the change through the manager's own code (requests/flows.py). No FastAPI here.

Statuses: pending → approved | rejected (by a manager, never the requester) | cancelled (by the requester).
Every step is audited (`requests.create`, `requests.approve`, `requests.reject`, `requests.cancel`).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.attendance.models import Punch
from server.attendance.corrections import check_not_future
from server.attendance.service import PunchVoided, fallback_zone
from server.audit.service import record as audit
from server.clock import now as clock_now
from server.config import Settings
from server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.kit.pages import paginate
from server.kit.rows import get_or_404
from server.requests.models import EmployeeRequest
from server.users.employment import ensure_employed
from server.users.models import User
from server.users.policy import is_admin, is_supervisor, visible_users_filter
from server.users.service import get_managed_user


class RequestNotPending(Conflict):
    code = "request_not_pending"
    message = "The request has already been decided or cancelled"


class OwnRequest(Forbidden):
    code = "own_request"
    message = "A request is decided by someone else than the person who made it"


_ACTIONS = {"approved": "requests.approve", "rejected": "requests.reject"}


def snapshot(req: EmployeeRequest) -> dict:
    return {"user_id": req.user_id, "type": req.type, "change": req.payload, "reason": req.reason,
            "status": req.status, "result": req.result}


def _check_own_punch(session: Session, user: User, punch_id: int) -> None:
    punch = session.get(Punch, punch_id)
    if punch is None or punch.user_id != user.id:
        raise NotFound("Punch not found")
    if punch.voided_at is not None:
        raise PunchVoided()


def _check_change(session: Session, settings: Settings, user: User, type: str, change: dict) -> None:
    """What can be told at once: the punch to correct is the requester's and not voided, a punch time is not in
    the future, leave dates are days of employment. Approval checks everything again (the manager's own code)."""
    from datetime import date, datetime


    if type == "correction":
        _check_own_punch(session, user, change["punch_id"])
    if change.get("at"):
        check_not_future(datetime.fromisoformat(change["at"]), settings)
    if type == "leave":
        ensure_employed(user, date.fromisoformat(change["from"]), date.fromisoformat(change["to"]),
                        fallback_zone(user, settings))
    if type == "mark":
        day = date.fromisoformat(change["date"])
        ensure_employed(user, day, day, fallback_zone(user, settings))


def create_request(session: Session, settings: Settings, *, user: User, type: str, change: dict,
                   reason: str) -> EmployeeRequest:
    _check_change(session, settings, user, type, change)
    req = EmployeeRequest(user_id=user.id, type=type, payload=change, reason=reason, status="pending",
                          created_at=clock_now())
    session.add(req)
    session.flush()
    audit(session, actor_user_id=user.id, action="requests.create", entity="request", entity_id=req.id,
          after=snapshot(req), reason=reason)
    return req


def get_request(session: Session, request_id: int) -> EmployeeRequest:
    return get_or_404(session, EmployeeRequest, request_id, "Request")


def ensure_decider(session: Session, actor: User, req: EmployeeRequest) -> User:
    """The requester, if `actor` may decide its request: a manager of its site or an admin, never itself."""
    if actor.id == req.user_id:
        raise OwnRequest()
    if req.status != "pending":
        raise RequestNotPending(status=req.status)
    return get_managed_user(session, actor, req.user_id)


def decide(session: Session, *, actor: User, req: EmployeeRequest, status: str, reason: str | None,
           result: dict | None = None) -> EmployeeRequest:
    if status == "rejected" and (not reason or not reason.strip()):
        raise ValidationFailed("A reason is required to reject", field="reason")
    before = snapshot(req)
    req.status, req.decided_by, req.decided_at = status, actor.id, clock_now()
    req.decision_reason = reason.strip() if reason and reason.strip() else None
    req.result = result
    session.flush()
    audit(session, actor_user_id=actor.id, action=_ACTIONS[status],
          entity="request", entity_id=req.id, before=before, after=snapshot(req), reason=req.decision_reason)
    return req


def cancel(session: Session, *, actor: User, req: EmployeeRequest) -> EmployeeRequest:
    if actor.id != req.user_id:
        raise Forbidden("Only the person who made a request can withdraw it")
    if req.status != "pending":
        raise RequestNotPending(status=req.status)
    before = snapshot(req)
    req.status, req.decided_by, req.decided_at = "cancelled", actor.id, clock_now()
    session.flush()
    audit(session, actor_user_id=actor.id, action="requests.cancel", entity="request", entity_id=req.id,
          before=before, after=snapshot(req))
    return req


def list_requests(session: Session, *, actor: User, user_id: int | None = None, status: str | None = None,
                  type: str | None = None, limit: int = 100, offset: int = 0) -> tuple[list, int]:
    """(request, user) pairs, newest first: an employee's own; a manager's site's (its own included); all for an
    admin."""
    q = select(EmployeeRequest, User).join(User, User.id == EmployeeRequest.user_id)
    if is_supervisor(actor) and (is_admin(actor) or actor.site):
        clause = visible_users_filter(actor)
        if clause is not None:
            q = q.where(clause)
    else:
        q = q.where(EmployeeRequest.user_id == actor.id)
    if user_id is not None:
        q = q.where(EmployeeRequest.user_id == user_id)
    if status is not None:
        q = q.where(EmployeeRequest.status == status)
    if type is not None:
        q = q.where(EmployeeRequest.type == type)
    return paginate(session, q, (EmployeeRequest.created_at.desc(), EmployeeRequest.id.desc()), limit=limit,
                    offset=offset)
