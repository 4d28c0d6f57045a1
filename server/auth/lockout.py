"""Failed-login counters in the database (so they hold across workers and restarts).

A subject (an employee_code, exact; or an email, case-insensitive: see `normalize_subject`) is locked after
`lockout_max_per_user` failures of one kind within `lockout_window_minutes`; a client (IP address, or "device:<id>" for
a kiosk) after `lockout_max_per_client`.
`check(...)` raises TooManyAttempts (429) with Retry-After = seconds until the oldest counted failure leaves the window.

Kinds: "password", "face" (login), "kiosk" (kiosk punches, for the attendance domain).
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.config import Settings
from server.auth.models import LoginFailure
from server.clock import as_utc, now
from server.database import keep_on_failure
from server.errors import TooManyAttempts


def normalize_subject(subject: str | None) -> str | None:
    """The counter key of a login name, matching how login looks names up: an email (has "@") is case-insensitive,
    an employee_code is exact (case-sensitive, like its unique constraint), so "E1" and "e1" are two counters."""
    s = (subject or "").replace("\x00", "").strip()
    if "@" in s:
        s = s.lower()
    return s[:320] or None


def _oldest_counted(session: Session, column, value: str, kind: str, since, limit: int) -> datetime | None:
    """Time of the limit-th newest failure in the window, or None when fewer than `limit` are there."""
    times = session.scalars(
        select(LoginFailure.at).where(column == value, LoginFailure.kind == kind, LoginFailure.at > since)
        .order_by(LoginFailure.at.desc()).limit(limit)
    ).all()
    if len(times) < limit:
        return None
    return as_utc(times[-1])  # the limit-th newest: once it leaves the window, one slot frees up


def check(session: Session, settings: Settings, *, kind: str, subject: str | None, client: str) -> None:
    """Raises TooManyAttempts (429, Retry-After) when `subject` or `client` is over its limit for `kind`."""
    t = now()
    window = timedelta(minutes=settings.lockout_window_minutes)
    since = t - window
    unlock_at = []
    subject = normalize_subject(subject)
    if subject:
        oldest = _oldest_counted(session, LoginFailure.subject, subject, kind, since, settings.lockout_max_per_user)
        if oldest is not None:
            unlock_at.append(oldest + window)
    oldest = _oldest_counted(session, LoginFailure.client, client[:128], kind, since, settings.lockout_max_per_client)
    if oldest is not None:
        unlock_at.append(oldest + window)
    if unlock_at:
        seconds = max(1, math.ceil((max(unlock_at) - t).total_seconds()))
        raise TooManyAttempts(headers={"Retry-After": str(seconds)}, retry_after=seconds)


def record_failure(session: Session, *, kind: str, subject: str | None, client: str) -> None:
    """Adds one failure. The request is about to fail and roll back, and the counter must stay: it is written with
    keep_on_failure (again, in a transaction of its own, after the rollback)."""
    subject, client, at = normalize_subject(subject), client[:128], now()
    keep_on_failure(session, lambda s: s.add(LoginFailure(kind=kind, subject=subject, client=client, at=at)))


def clear_subject(session: Session, *, kind: str, subject: str | None) -> None:
    """A successful login resets the subject's counter (not the client's)."""
    subject = normalize_subject(subject)
    if subject:
        session.execute(delete(LoginFailure).where(LoginFailure.kind == kind, LoginFailure.subject == subject))


def purge_older_than(session: Session, cutoff) -> int:
    return session.execute(delete(LoginFailure).where(LoginFailure.at < cutoff)).rowcount or 0
