from __future__ import annotations

from sqlalchemy.orm import Session

from server.users.models import Role

ROLES = {
    "admin": "Everything: users, devices, shifts, reports, settings",
    "manager": "Users of their own site, attendance reports and corrections",
    "employee": "Own profile and own attendance",
}


def seed(session: Session) -> int:
    """Creates missing roles; returns how many were created."""
    existing = {r.name for r in session.query(Role).all()}
    created = 0
    for name, description in ROLES.items():
        if name not in existing:
            session.add(Role(name=name, description=description))
            created += 1
    session.flush()
    return created
