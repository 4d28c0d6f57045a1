"""Corrections by a manager or admin: a manual punch, a corrected time or kind, a voided punch — each with a reason,
audited, the affected days recomputed — and a punch's audit trail. No FastAPI here."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.attendance.models import Punch, WorkDay
from server.attendance.service import NewPunch, PunchVoided, add_punch, recompute_day, resolve_work_date
from server.audit.models import AuditEntry
from server.audit.service import record as audit
from server.clock import as_utc
from server.clock import now as clock_now
from server.config import Settings
from server.errors import ValidationFailed
from server.kit.rows import get_or_404
from server.shifts.service import lock_user
from server.users.models import User
from server.users.service import get_managed_user


def punch_snapshot(p: Punch) -> dict:
    return {"user_id": p.user_id, "kind": p.kind, "at": as_utc(p.at).isoformat(), "work_date": p.work_date.isoformat(),
            "status": p.status, "source": p.source, "kind_fixed": bool(p.kind_fixed),
            "voided_at": p.voided_at.isoformat() if p.voided_at else None}


def _reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise ValidationFailed("A reason is required", field="reason")
    return reason.strip()


def _managed(session: Session, actor: User, user_id: int) -> User:
    return get_managed_user(session, actor, user_id)


def get_punch(session: Session, punch_id: int) -> Punch:
    return get_or_404(session, Punch, punch_id)


def manual_punch(session: Session, settings: Settings, *, actor: User, user_id: int, at: datetime, kind: str | None,
                 reason: str | None) -> NewPunch:
    reason = _reason(reason)
    user = _managed(session, actor, user_id)
    check_not_future(at, settings)
    new = add_punch(session, settings, user=user, at=at, kind=kind, source="manual", created_by=actor.id,
                    reason=reason)
    audit(session, actor_user_id=actor.id, action="punch.create", entity="punch", entity_id=new.punch.id,
          after=punch_snapshot(new.punch), reason=reason)
    return new


def check_not_future(at: datetime, settings: Settings) -> None:
    if as_utc(at) > clock_now() + timedelta(seconds=settings.clock_skew_seconds):
        raise ValidationFailed("A punch cannot be in the future", field="at")


def correct_punch(session: Session, settings: Settings, *, actor: User, punch_id: int, at: datetime | None,
                  kind: str | None,
                  reason: str | None) -> tuple[Punch, WorkDay | None]:
    reason = _reason(reason)
    punch = get_punch(session, punch_id)
    user = _managed(session, actor, punch.user_id)
    if punch.voided_at is not None:
        raise PunchVoided()
    if at is None and kind is None:
        raise ValidationFailed("Nothing to correct: give at and/or kind")
    lock_user(session, user.id)
    before = punch_snapshot(punch)
    old_date = punch.work_date
    if at is not None:
        check_not_future(at, settings)
        punch.at = as_utc(at)
        punch.work_date, _ = resolve_work_date(session, user, punch.at, settings)
    if kind is not None:
        punch.kind = kind
        punch.kind_fixed = True  # a corrected kind is kept by later recomputes
    session.flush()
    if punch.work_date != old_date:
        recompute_day(session, user, old_date, settings)
    wd = recompute_day(session, user, punch.work_date, settings)
    audit(session, actor_user_id=actor.id, action="punch.correct", entity="punch", entity_id=punch.id,
          before=before, after=punch_snapshot(punch), reason=reason)
    return punch, wd


def void_punch(session: Session, settings: Settings, *, actor: User, punch_id: int, reason: str | None
               ) -> tuple[Punch, WorkDay | None]:
    reason = _reason(reason)
    punch = get_punch(session, punch_id)
    user = _managed(session, actor, punch.user_id)
    if punch.voided_at is not None:
        raise PunchVoided()
    lock_user(session, user.id)
    before = punch_snapshot(punch)
    punch.voided_at = clock_now()
    punch.void_reason = reason
    session.flush()
    wd = recompute_day(session, user, punch.work_date, settings)
    audit(session, actor_user_id=actor.id, action="punch.void", entity="punch", entity_id=punch.id,
          before=before, after=punch_snapshot(punch), reason=reason)
    return punch, wd


def punch_history(session: Session, *, actor: User, punch_id: int) -> list[tuple]:
    """The audit trail of one punch, oldest first, as (entry, actor's name): its manual creation, every correction
    and its voiding, each with the reason and the before/after. Managers see the punches of their site's users."""
    punch = get_punch(session, punch_id)
    _managed(session, actor, punch.user_id)
    q = (select(AuditEntry, User.full_name).outerjoin(User, User.id == AuditEntry.actor_user_id)
         .where(AuditEntry.entity == "punch", AuditEntry.entity_id == str(punch.id))
         .order_by(AuditEntry.at, AuditEntry.id))
    return list(session.execute(q).all())
