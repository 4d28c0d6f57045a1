from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from seeds.base import insert_if_absent
from server.users.models import Role

ROLES = {
    "admin": "Everything: users, devices, shifts, reports, settings",
    "manager": "Users of their own site, attendance reports and corrections",
    "employee": "Own profile and own attendance",
}


def seed(session: Session) -> int:
    """Creates missing roles; returns how many were created."""
    existing = set(session.scalars(select(Role.name)))
    return sum(insert_if_absent(session, Role(name=name, description=description))
               for name, description in ROLES.items() if name not in existing)
