from __future__ import annotations

import logging

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from seeds.base import SeedError, insert_if_absent
from server.config import Settings
from server.audit.service import record as audit
from server.auth import lockout
from server.auth.service import revoke_user_tokens
from server.users.passwords import generate_password, hash_password
from server.clock import now
from server.users.models import User
from server.users.policy import ADMIN, is_admin

log = logging.getLogger("faceclock.seeds")


def admin_password(settings: Settings) -> tuple[str, bool]:
    """(ADMIN_PASSWORD, False), or (a generated password, True) when it is empty. SeedError when it is shorter than
    PASSWORD_MIN_LENGTH."""
    password = settings.admin_password
    if password is None:
        return generate_password(), True
    if len(password) < settings.password_min_length:
        raise SeedError(f"ADMIN_PASSWORD has {len(password)} characters but PASSWORD_MIN_LENGTH is "
                        f"{settings.password_min_length}: set a longer one (or leave it empty to have one generated)")
    return password, False


def seed(session: Session, settings: Settings) -> dict:
    """Creates the first admin if no user has that email/code. Never touches an existing admin's password.

    Returns {"admin": "created"} when it made the admin, plus "admin_password" when that password was generated (the
    caller shows it once: the start-up banner, `python -m seeds`; it is stored hashed only); {"admin": None} when
    nothing changed. An ADMIN_PASSWORD shorter than PASSWORD_MIN_LENGTH is refused (SeedError) when it would be used,
    i.e. when the admin is created.
    """
    existing = session.scalar(
        select(User).where(or_(User.email == settings.admin_email, User.employee_code == settings.admin_employee_code))
    )
    if existing is not None:
        return {"admin": None}
    if session.scalar(select(User).where(User.role == ADMIN, User.is_active.is_(True))) is not None:
        return {"admin": None}
    password, generated = admin_password(settings)
    admin = User(employee_code=settings.admin_employee_code, full_name="Administrator", email=settings.admin_email,
                 role=ADMIN, password_hash=hash_password(password))
    if not insert_if_absent(session, admin):  # another process created it between our check and our insert
        return {"admin": None}
    if generated:
        log.warning("created first admin %s with a generated password (printed once, at the end)", settings.admin_email)
        return {"admin": "created", "admin_password": password}
    log.info("created first admin %s (password from ADMIN_PASSWORD)", settings.admin_email)
    return {"admin": "created"}


def reset_admin(session: Session, settings: Settings, email: str | None = None) -> tuple[User, str, bool]:
    """The way back in when the admin password is lost (`python -m seeds reset-admin [--email …]`).

    Sets a new password on the admin of `email` (default ADMIN_EMAIL): ADMIN_PASSWORD when set, else a generated
    one, returned to be printed once (it is stored hashed only). The admin's logins are revoked (its refresh and
    access tokens), its password-login lockout is cleared, and it is reactivated if it had been deactivated. Audited
    as `users.reset_admin` (actor: none, the command line). SeedError when there is no such admin, or when
    ADMIN_PASSWORD is shorter than PASSWORD_MIN_LENGTH. Returns (admin, password, generated).
    """
    email = (email or settings.admin_email).strip().lower()
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        admins = session.scalars(select(User.email).where(User.role == ADMIN, User.email.is_not(None))).all()
        raise SeedError(f"no user has the e-mail {email!r}; admins: {', '.join(sorted(admins)) or 'none'} "
                        f"(choose one with --email; with no admin at all, start the server or run `python -m seeds` "
                        f"to create the first one)")
    if not is_admin(user):
        raise SeedError(f"{email} has the role {user.role}, not admin: an admin sets its password over the API")
    password, generated = admin_password(settings)
    before = {"is_active": user.is_active}
    user.password_hash = hash_password(password)
    if not user.is_active:
        user.is_active, user.deactivated_at = True, None
    user.updated_at = now()
    revoked = revoke_user_tokens(session, user.id)
    lockout.clear_subject(session, kind="password", subject=user.employee_code)
    session.flush()
    audit(session, actor_user_id=None, action="users.reset_admin", entity="user", entity_id=user.id,
          before=before, after={"is_active": True, "password": "generated" if generated else "from ADMIN_PASSWORD",
                                "revoked_refresh_tokens": revoked},
          reason="python -m seeds reset-admin")
    log.warning("reset the password of admin %s (%s)", email, "generated" if generated else "from ADMIN_PASSWORD")
    return user, password, generated
