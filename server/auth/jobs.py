"""Scheduled purge: expired refresh tokens and login failures older than the lockout window (kept a day for
diagnosis). Registered at import by server/jobs.py."""
from __future__ import annotations

from datetime import timedelta

from server.config import Settings
from server.auth.lockout import purge_older_than
from server.auth.service import purge_expired_tokens
from server.clock import now
from server.scheduler import register_job

FAILURE_KEEP = timedelta(days=1)
TOKEN_GRACE = timedelta(days=1)  # an expired token row is kept a day so a late reuse is still reported as reuse


def purge_auth_records(db, settings: Settings) -> dict:
    t = now()
    failure_cutoff = t - max(FAILURE_KEEP, timedelta(minutes=settings.lockout_window_minutes))
    with db.session() as s:
        tokens = purge_expired_tokens(s, t - TOKEN_GRACE)
        failures = purge_older_than(s, failure_cutoff)
    return {"refresh_tokens": tokens, "login_failures": failures}


register_job("auth.purge", purge_auth_records, "interval", hours=1)
