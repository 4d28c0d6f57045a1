"""Approving an employee request applies its change through the very code of the manager's direct action, as the
approver: a manual punch (attendance.corrections.manual_punch), a punch correction (correct_punch), a leave
(attendance.flows.create_leave) or a whole-day mark (attendance.marks.set_mark). Each writes its own audit entry and
recomputes its work days; if it refuses (a leave overlap, a punch in the future …) the approval fails with that
error and nothing is stored (the request stays pending)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from server.config import Settings
from server.attendance import corrections as attendance
from server.attendance import flows
from server.attendance import marks
from server.requests import service
from server.requests.models import EmployeeRequest
from server.users.models import User


def _reason(req: EmployeeRequest) -> str:
    return f"{req.reason} (request {req.id})"


def _apply(session: Session, settings: Settings, actor: User, req: EmployeeRequest) -> dict:
    c = req.payload
    at = datetime.fromisoformat(c["at"]) if c.get("at") else None
    if req.type == "missed_punch":
        new = attendance.manual_punch(session, settings, actor=actor, user_id=req.user_id, at=at, kind=c.get("kind"),
                                      reason=_reason(req))
        return {"punch_id": new.punch.id, "work_date": new.punch.work_date.isoformat()}
    if req.type == "correction":
        punch, _ = attendance.correct_punch(session, settings, actor=actor, punch_id=c["punch_id"], at=at,
                                            kind=c.get("kind"), reason=_reason(req))
        return {"punch_id": punch.id, "work_date": punch.work_date.isoformat()}
    if req.type == "leave":
        lv = flows.create_leave(session, settings, actor=actor, user_id=req.user_id,
                                 first=date.fromisoformat(c["from"]), last=date.fromisoformat(c["to"]),
                                 kind=c["kind"], half=c.get("half"), reason=_reason(req))
        return {"leave_id": lv.id}
    day = date.fromisoformat(c["date"])
    marks.set_mark(session, settings, actor=actor, user_id=req.user_id, work_date=day, status=c["status"],
                   reason=_reason(req))
    return {"work_date": day.isoformat(), "status": c["status"]}


def approve(session: Session, settings: Settings, *, actor: User, request_id: int,
            reason: str | None) -> EmployeeRequest:
    req = service.get_request(session, request_id)
    service.ensure_decider(session, actor, req)
    result = _apply(session, settings, actor, req)
    return service.decide(session, actor=actor, req=req, status="approved", reason=reason, result=result)


def reject(session: Session, *, actor: User, request_id: int, reason: str | None) -> EmployeeRequest:
    req = service.get_request(session, request_id)
    service.ensure_decider(session, actor, req)
    return service.decide(session, actor=actor, req=req, status="rejected", reason=reason)
