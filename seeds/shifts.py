from __future__ import annotations

from datetime import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from seeds.base import insert_if_absent
from server.shifts.models import Shift

DEFAULT_SHIFTS = (
    {"name": "Day", "start_time": time(9, 0), "end_time": time(17, 0), "weekdays": [0, 1, 2, 3, 4],
     "grace_in_minutes": 5, "grace_out_minutes": 5, "break_minutes": 60},
    {"name": "Night", "start_time": time(22, 0), "end_time": time(6, 0), "weekdays": [0, 1, 2, 3, 4],
     "grace_in_minutes": 5, "grace_out_minutes": 5, "break_minutes": 30},
)


def seed(session: Session, timezone: str) -> int:
    """Creates the default day and overnight shifts when missing (by name); returns how many were created."""
    created = 0
    for spec in DEFAULT_SHIFTS:
        if session.scalar(select(Shift).where(Shift.name == spec["name"])) is None:
            created += insert_if_absent(session, Shift(timezone=timezone, **spec))
    return created
