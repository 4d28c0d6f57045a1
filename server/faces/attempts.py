"""The face decision records (FaceAttempt rows, written by service.record_attempt): the admin's list of them
(GET /api/v1/face-attempts, mounted with the audit log by server/audit/router.py)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.faces.models import FaceAttempt
from server.kit.pages import paginate


def list_attempts(session: Session, *, purpose: str | None = None, decision: str | None = None,
                  user_id: int | None = None, device_id: int | None = None,
                  since: datetime | None = None, until: datetime | None = None,
                  limit: int = 50, offset: int = 0) -> tuple[list, int]:
    """Face decision records (written by the faces service), newest first, with the filtered total.
    `decision` matches exactly, or by prefix when it ends with ':' (e.g. "rejected:")."""
    q = select(FaceAttempt)
    if purpose:
        q = q.where(FaceAttempt.purpose == purpose)
    if decision:
        q = q.where(FaceAttempt.decision.startswith(decision) if decision.endswith(":")
                    else FaceAttempt.decision == decision)
    if user_id is not None:
        q = q.where(FaceAttempt.best_user_id == user_id)
    if device_id is not None:
        q = q.where(FaceAttempt.device_id == device_id)
    if since is not None:
        q = q.where(FaceAttempt.at >= since)
    if until is not None:
        q = q.where(FaceAttempt.at < until)
    return paginate(session, q, (FaceAttempt.at.desc(), FaceAttempt.id.desc()), limit=limit, offset=offset)
