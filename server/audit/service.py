"""The audit log: who did what to which entity, when, with before/after and a reason.

Call `record(...)` inside the same session (transaction) as the change it describes, so both commit or neither.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit.models import AuditEntry
from server.clock import now
from server.kit.pages import paginate


def record(session: Session, *, actor_user_id: int | None, action: str, entity: str, entity_id=None,
           before: dict | None = None, after: dict | None = None, reason: str | None = None) -> AuditEntry:
    """Adds an AuditEntry (flushed, not committed). `action` like "users.create", "faces.erase", "punch.correct"."""
    entry = AuditEntry(at=now(), actor_user_id=actor_user_id, action=action, entity=entity,
                       entity_id=None if entity_id is None else str(entity_id),
                       before=before, after=after, reason=reason)
    session.add(entry)
    session.flush()
    return entry


def list_entries(session: Session, *, action: str | None = None, entity: str | None = None,
                 entity_id: str | None = None, actor_user_id: int | None = None,
                 since: datetime | None = None, until: datetime | None = None,
                 limit: int = 50, offset: int = 0) -> tuple[list[AuditEntry], int]:
    """Newest first, with the total count of the filtered set."""
    q = select(AuditEntry)
    if action:
        q = q.where(AuditEntry.action == action)
    if entity:
        q = q.where(AuditEntry.entity == entity)
    if entity_id is not None:
        q = q.where(AuditEntry.entity_id == str(entity_id))
    if actor_user_id is not None:
        q = q.where(AuditEntry.actor_user_id == actor_user_id)
    if since is not None:
        q = q.where(AuditEntry.at >= since)
    if until is not None:
        q = q.where(AuditEntry.at < until)
    return paginate(session, q, (AuditEntry.at.desc(), AuditEntry.id.desc()), limit=limit, offset=offset)
