from __future__ import annotations

import logging

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from seeds import SeedError, insert_if_absent
from server.auth.passwords import generate_password, hash_password
from server.users.models import User

log = logging.getLogger("faceclock.seeds")


def seed(session: Session, settings) -> str | None:
    """Creates the first admin if no user has that email/code. Never touches an existing admin's password.

    Returns "created" when it made the admin, None when nothing changed. An ADMIN_PASSWORD shorter than
    PASSWORD_MIN_LENGTH is refused (SeedError) when it would be used, i.e. when the admin is created.
    """
    existing = session.scalar(
        select(User).where(or_(User.email == settings.admin_email, User.employee_code == settings.admin_employee_code))
    )
    if existing is not None:
        return None
    if session.scalar(select(User).where(User.role == "admin", User.is_active.is_(True))) is not None:
        return None
    password = settings.admin_password
    generated = password is None
    if generated:
        password = generate_password()
    elif len(password) < settings.password_min_length:
        raise SeedError(f"ADMIN_PASSWORD has {len(password)} characters but PASSWORD_MIN_LENGTH is "
                        f"{settings.password_min_length}: set a longer one (or leave it empty to have one generated)")
    admin = User(employee_code=settings.admin_employee_code, full_name="Administrator", email=settings.admin_email,
                 role="admin", password_hash=hash_password(password))
    if not insert_if_absent(session, admin):  # another process created it between our check and our insert
        return None
    if generated:
        # Printed once, on the start that creates the admin; it is not stored anywhere in clear.
        log.warning("created first admin %s with generated password: %s  (change it after the first login)",
                    settings.admin_email, password)
    else:
        log.info("created first admin %s (password from ADMIN_PASSWORD)", settings.admin_email)
    return "created"
