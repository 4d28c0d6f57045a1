"""Liveness scheduler job: liveness.purge_challenges (daily) deletes challenges that expired more than a day ago
(a challenge is useless once expired; the day keeps the recent ones for whoever investigates a refusal)."""
from __future__ import annotations

from datetime import datetime, timedelta

from server.clock import now as clock_now
from server.config import Settings
from server.liveness.service import purge_expired
from server.scheduler import register_job

KEEP = timedelta(days=1)


def purge_challenges(db, settings: Settings, *, now: datetime | None = None) -> dict:
    now = now or clock_now()
    with db.session() as s:
        return {"challenges": purge_expired(s, now - KEEP)}


register_job("liveness.purge_challenges", purge_challenges, "cron", hour=3, minute=27)
