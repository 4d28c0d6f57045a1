"""What auth adds to a change of a user (users.service makes the change; users does not import auth):

* changing one's own password needs the current one (a stolen access token alone must not take the account over);
  wrong guesses count as failed password logins of that user, so the lockout rules apply (429);
* a new password, a deactivation or a deletion revokes every login of the user (`service.revoke_user_tokens`).

attendance/flows.py calls these (and then reworks the days an employment change moves).
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from server.auth import lockout
from server.auth.service import revoke_user_tokens
from server.config import Settings
from server.errors import Forbidden, ValidationFailed, WrongCurrentPassword
from server.users import service as users
from server.users.models import User
from server.users.passwords import verify_password
from server.users.schemas import UserUpdate


def check_current_password(session: Session, settings: Settings, user: User, current: str | None, client: str) -> None:
    """Changing one's own password needs the current one. Wrong guesses count as failed password logins of that
    user: the lockout rules apply (429)."""
    if not user.password_hash:  # face-only: there is nothing to confirm, so a token alone must not add a password
        raise Forbidden("You have no password yet: an admin or a manager of your site can set one")
    if not current:
        raise ValidationFailed("current_password is required to change your own password", field="current_password")
    lockout.check(session, settings, kind="password", subject=user.employee_code, client=client)
    if not verify_password(current, user.password_hash):
        lockout.record_failure(session, kind="password", subject=user.employee_code, client=client)
        raise WrongCurrentPassword(field="current_password")


def update_user(session: Session, settings: Settings, *, actor: User, user: User, data: UserUpdate,
                client: str = "unknown") -> User:
    """users.service.update_user, one's own new password confirmed by the current one; a new password or a
    deactivation then revokes the user's logins."""
    was_active = user.is_active
    users.update_user(session, settings, actor=actor, user=user, data=data,
                      confirm_password=lambda current: check_current_password(session, settings, user, current,
                                                                              client))
    if data.password is not None or (was_active and not user.is_active):
        revoke_user_tokens(session, user.id)
    return user


def deactivate_user(session: Session, settings: Settings, *, actor: User, user: User,
                    reason: str | None = None) -> User:
    """Revokes the user's logins, then users.service.deactivate_user (its audit entry counts the refresh tokens
    revoked). A refused deactivation (yourself: 409) rolls the revocation back with the rest of the request."""
    revoked = revoke_user_tokens(session, user.id)
    return users.deactivate_user(session, settings, actor=actor, user=user, revoked_logins=revoked, reason=reason)
