"""Idempotent seeds: roles, default shifts, first admin. Run from the lifespan or `python -m seeds`."""
from __future__ import annotations

from sqlalchemy.orm import Session

from seeds import roles, shifts, users


def run_all(session: Session, settings) -> dict:
    """Returns what changed, e.g. {"roles": 3, "shifts": 2, "admin": "created"}; empty values when nothing did."""
    return {
        "roles": roles.seed(session),
        "shifts": shifts.seed(session, settings.default_timezone),
        "admin": users.seed(session, settings),
    }
