"""What every seed module shares: the error of a seed that cannot run, and the idempotent insert."""
from __future__ import annotations

from sqlalchemy.orm import Session

from server.kit.rows import flush_or_conflict
from server.startup import StartupError


class SeedError(StartupError):
    """A seed cannot run with the given settings; the message says which one to fix."""


def insert_if_absent(session: Session, row) -> bool:
    """Adds `row` in a savepoint; False (and nothing added) when a unique constraint says it already exists."""
    return flush_or_conflict(session, None, row)
