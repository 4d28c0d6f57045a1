"""Idempotent seeds: roles, default shifts, first admin. Run from the lifespan or `python -m seeds`.

Safe under concurrency: the callers hold the startup lock (server.startup.startup_lock) so that several workers do
not seed at once, and each row is inserted in a savepoint, so a row another process inserted first is simply
skipped (unique constraint) instead of failing the start.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from seeds import roles, shifts, users
from seeds.base import SeedError, insert_if_absent
from server.config import Settings

__all__ = ["SeedError", "insert_if_absent", "run_all"]


def run_all(session: Session, settings: Settings) -> dict:
    """Returns what changed, e.g. {"roles": 3, "shifts": 2, "admin": "created"}; empty values when nothing did.
    "admin_password" is there too when the first admin was created with a generated password: show it once."""
    return {
        "roles": roles.seed(session),
        "shifts": shifts.seed(session, settings.default_timezone),
        **users.seed(session, settings),
    }
