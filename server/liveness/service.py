"""Challenges: issue one, spend it once, and the policy that says who must answer one. No FastAPI here.

A challenge is random (secrets), bound to the device (kiosk) or the client address (face login) it was issued to,
single use and expiring (LIVENESS_CHALLENGE_SECONDS, default 15). Spending it is one conditional UPDATE
(`used_at IS NULL AND expires_at > now`), so two requests racing with one challenge cannot both pass: the loser is
told `challenge_used`.
"""
from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from server.clock import as_utc, now as clock_now
from server.config import Settings
from server.liveness.errors import ChallengeExpired, ChallengeUsed, LivenessRequired
from server.liveness.models import Challenge
from server.liveness.rule import ACTIONS

MODES = ("off", "challenge")
MIN_FRAMES, MAX_FRAMES = 2, 5


@dataclass(frozen=True)
class Issued:
    challenge_id: str
    action: str
    expires_in: int

    def as_dict(self) -> dict:
        return {"challenge_id": self.challenge_id, "action": self.action, "expires_in": self.expires_in}


def device_mode(device, settings: Settings) -> str:
    """The liveness mode in force for a kiosk: its own setting (PATCH /devices/{id}), else LIVENESS."""
    return getattr(device, "liveness_mode", None) or settings.liveness


def issue(session: Session, settings: Settings, *, purpose: str, device_id: int | None = None,
          client: str | None = None) -> Issued:
    """A new challenge with a random action. Flushes; the caller's transaction commits it."""
    seconds = int(settings.liveness_challenge_seconds)
    at = clock_now()
    row = Challenge(id=str(uuid.uuid4()), purpose=purpose, device_id=device_id,
                    client=(client or None) and client[:128], action=secrets.choice(ACTIONS), created_at=at,
                    expires_at=at + timedelta(seconds=seconds))
    session.add(row)
    session.flush()
    return Issued(row.id, row.action, seconds)


def _parse(challenge_id: str | None) -> str | None:
    try:
        return str(uuid.UUID(str(challenge_id).strip()))
    except (ValueError, TypeError, AttributeError):
        return None


def spend(session: Session, challenge_id: str | None, *, purpose: str, device_id: int | None = None,
          client: str | None = None, at: datetime | None = None) -> str:
    """Marks the challenge used and returns its action. Unknown, malformed or someone else's → LivenessRequired
    (422); already used → ChallengeUsed (409); expired → ChallengeExpired (410). Flushes; the caller commits."""
    cid = _parse(challenge_id)
    if cid is None:
        raise LivenessRequired()
    at = at or clock_now()
    column, owner = ((Challenge.device_id, device_id) if purpose == "kiosk"
                     else (Challenge.client, (client or None) and client[:128]))
    spent = session.execute(update(Challenge).where(Challenge.id == cid, Challenge.purpose == purpose, column == owner,
                                                    Challenge.used_at.is_(None), Challenge.expires_at > at)
                            .values(used_at=at).execution_options(synchronize_session=False))
    row = session.scalar(select(Challenge).where(Challenge.id == cid))
    if spent.rowcount == 1:
        return row.action
    if row is None or row.purpose != purpose or getattr(row, column.key) != owner:
        raise LivenessRequired()
    if row.used_at is None and as_utc(row.expires_at) <= at:
        raise ChallengeExpired()
    raise ChallengeUsed()  # used before, or by a concurrent request between our UPDATE and SELECT


def check_frame_count(n: int) -> None:
    if not MIN_FRAMES <= n <= MAX_FRAMES:
        raise LivenessRequired(f"A challenge is answered with {MIN_FRAMES} to {MAX_FRAMES} frames (got {n}): the "
                               "first looking at the camera, the others while turning", frames=n)


def parse_offline_action(value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    value = str(value).strip()
    if value not in ACTIONS:
        raise LivenessRequired(f"offline_action must be one of {', '.join(ACTIONS)}", field="offline_action")
    return value


def purge_expired(session: Session, cutoff: datetime) -> int:
    """Deletes challenges that expired before cutoff (the retention job)."""
    return session.execute(delete(Challenge).where(Challenge.expires_at < cutoff)).rowcount or 0
