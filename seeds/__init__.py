"""Idempotent seeds: roles, default shifts, first admin. Run from the lifespan or `python -m seeds`.

Safe under concurrency: the callers hold the startup lock (server.startup.startup_lock) so that several workers do
not seed at once, and each row is inserted in a savepoint, so a row another process inserted first is simply
skipped (unique constraint) instead of failing the start.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from server.config import Settings
from server.kit.rows import flush_or_conflict
from server.startup import StartupError


class SeedError(StartupError):
    """A seed cannot run with the given settings; the message says which one to fix."""


def insert_if_absent(session: Session, row) -> bool:
    """Adds `row` in a savepoint; False (and nothing added) when a unique constraint says it already exists."""
    return flush_or_conflict(session, None, row)


def run_all(session: Session, settings: Settings) -> dict:
    """Returns what changed, e.g. {"roles": 3, "shifts": 2, "admin": "created"}; empty values when nothing did.
    "admin_password" is there too when the first admin was created with a generated password: show it once."""
    from seeds import roles, shifts, users

    return {
        "roles": roles.seed(session),
        "shifts": shifts.seed(session, settings.default_timezone),
        **users.seed(session, settings),
    }
