"""Leave: approved absences of a user for whole days or half of one day. No FastAPI here.

Creating a leave means it is approved (managers of the user's site and admins create them, or approve an employee's
request, which calls the same code). Two leaves of a user never overlap, except an "am" and a "pm" half of the same
day. Cancelling keeps the row (cancelled_at, cancelled_by, cancel_reason). The work days it touches are recomputed
by attendance/flows.py (leaves does not import attendance).
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.kit.pages import paginate
from server.audit.service import record as audit
from server.clock import now as clock_now
from server.errors import Conflict, ValidationFailed
from server.kit.rows import get_or_404
from server.leaves.models import Leave
from server.users.models import User

MAX_LEAVE_DAYS = 366


class LeaveOverlap(Conflict):
    code = "leave_overlap"
    message = "The user already has leave on part of those dates"


class LeaveCancelled(Conflict):
    code = "leave_cancelled"
    message = "The leave is already cancelled"


def snapshot(lv: Leave) -> dict:
    return {"user_id": lv.user_id, "from": lv.from_date.isoformat(), "to": lv.to_date.isoformat(), "kind": lv.kind,
            "half": lv.half, "reason": lv.reason,
            "cancelled_at": lv.cancelled_at.isoformat() if lv.cancelled_at else None}


def dates_of(lv: Leave) -> list[date]:
    return [lv.from_date + timedelta(days=i) for i in range((lv.to_date - lv.from_date).days + 1)]


def check_dates(first: date, last: date, half: str | None) -> None:
    if last < first:
        raise ValidationFailed("'to' is before 'from'", field="to")
    if half is not None and last != first:
        raise ValidationFailed("A half-day leave is one day: from = to", field="half")
    if (last - first).days >= MAX_LEAVE_DAYS:
        raise ValidationFailed(f"At most {MAX_LEAVE_DAYS} days in one leave", field="to")


def _overlapping(session: Session, user_id: int, first: date, last: date) -> list[Leave]:
    return list(session.scalars(select(Leave).where(
        Leave.user_id == user_id, Leave.cancelled_at.is_(None), Leave.from_date <= last, Leave.to_date >= first)))


def check_overlap(session: Session, user_id: int, first: date, last: date, half: str | None) -> None:
    for other in _overlapping(session, user_id, first, last):
        if half is not None and other.half is not None and other.half != half:
            continue  # the other half of the same day
        raise LeaveOverlap(existing={"id": other.id, **snapshot(other)})


def create_leave(session: Session, *, actor: User, user: User, first: date, last: date, kind: str,
                 half: str | None, reason: str) -> Leave:
    check_dates(first, last, half)
    check_overlap(session, user.id, first, last, half)
    lv = Leave(user_id=user.id, from_date=first, to_date=last, kind=kind, half=half, reason=reason.strip(),
               created_by=actor.id, created_at=clock_now())
    session.add(lv)
    session.flush()
    audit(session, actor_user_id=actor.id, action="leaves.create", entity="leave", entity_id=lv.id,
          after=snapshot(lv), reason=lv.reason)
    return lv


def get_leave(session: Session, leave_id: int) -> Leave:
    return get_or_404(session, Leave, leave_id)


def cancel_leave(session: Session, *, actor: User, leave: Leave, reason: str) -> Leave:
    if leave.cancelled_at is not None:
        raise LeaveCancelled()
    before = snapshot(leave)
    leave.cancelled_at = clock_now()
    leave.cancelled_by = actor.id
    leave.cancel_reason = reason.strip()
    session.flush()
    audit(session, actor_user_id=actor.id, action="leaves.cancel", entity="leave", entity_id=leave.id,
          before=before, after=snapshot(leave), reason=leave.cancel_reason)
    return leave


def list_leaves(session: Session, *, users_clause, user_id: int | None, start: date, end: date,
                kind: str | None = None, include_cancelled: bool = False, limit: int = 500,
                offset: int = 0) -> tuple[list[Leave], int]:
    """Leaves overlapping [start, end], of the users `users_clause` (a WHERE on User, None: everyone) allows."""
    q = select(Leave).join(User, User.id == Leave.user_id).where(Leave.from_date <= end, Leave.to_date >= start)
    if users_clause is not None:
        q = q.where(users_clause)
    if user_id is not None:
        q = q.where(Leave.user_id == user_id)
    if kind is not None:
        q = q.where(Leave.kind == kind)
    if not include_cancelled:
        q = q.where(Leave.cancelled_at.is_(None))
    return paginate(session, q, (Leave.from_date, Leave.id), limit=limit, offset=offset)
