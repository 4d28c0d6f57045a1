"""Users: create, list, read, update, deactivate-and-erase. Role rules live here, not in the router.

Admins manage everyone. Managers manage employees of their own site: they create employees there, read them, update
them (never to another role or site) and deactivate them. Everyone reads their own record.
"""
from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.audit.service import record as audit
from server.clock import now
from server.config import Settings
from server.errors import Conflict, Forbidden, ValidationFailed
from server.kit.pages import paginate
from server.kit.rows import flush_or_conflict, get_or_404
from server.users.models import User
from server.users.passwords import hash_password
from server.users.policy import (
    EMPLOYEE,
    can_act_on,
    ensure_can_view,
    is_admin,
    is_manager,
    manages_site,
    may_grant,
    visible_users_filter,
)
from server.users.schemas import UserCreate, UserUpdate

_AUDITED = ("full_name", "email", "role", "site", "timezone", "is_active", "employed_from", "employed_to")


def validate_password(settings: Settings, password: str) -> None:
    if len(password) < settings.password_min_length:
        raise ValidationFailed(f"Password must have at least {settings.password_min_length} characters",
                               field="password")


def _validate_timezone(tz: str | None) -> None:
    if tz is None:
        return
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"Unknown time zone {tz!r}", field="timezone") from None


def _ensure_unique(session: Session, *, employee_code: str | None = None, email: str | None = None,
                   exclude_id: int | None = None) -> None:
    for field, column, value in (("employee_code", User.employee_code, employee_code), ("email", User.email, email)):
        if value is None:
            continue
        q = select(User.id).where(column == value)
        if exclude_id is not None:
            q = q.where(User.id != exclude_id)
        if session.scalar(q) is not None:
            raise Conflict(f"{field} already in use", field=field)


def _taken(exc: IntegrityError) -> Conflict:
    """The 409 of a unique-constraint race: which field clashed."""
    field = "email" if "email" in str(exc.orig).lower() else "employee_code"
    return Conflict(f"{field} already in use", field=field)


def _flush_unique(session: Session) -> None:
    """Flush, turning a unique-constraint race into 409 conflict."""
    flush_or_conflict(session, _taken)


def snapshot(user: User) -> dict:
    out = {k: getattr(user, k) for k in _AUDITED}
    for k in ("employed_from", "employed_to"):
        out[k] = out[k].isoformat() if out[k] else None
    return out


def _today(user: User, settings: Settings):
    return now().astimezone(ZoneInfo(user.timezone or settings.default_timezone)).date()


def _check_employment(user: User) -> None:
    if user.employed_from and user.employed_to and user.employed_to < user.employed_from:
        raise ValidationFailed("employed_to is before employed_from", field="employed_to")


def create_user(session: Session, settings: Settings, *, actor: User, data: UserCreate) -> User:
    site = data.site
    if is_manager(actor):
        if not may_grant(actor, data.role):
            raise Forbidden("Managers can only create employees")
        if site is not None and site != actor.site:
            raise Forbidden("Managers can only create users of their own site")
        if not actor.site:
            raise Forbidden("This manager has no site")
        site = actor.site
    elif not is_admin(actor):
        raise Forbidden()
    if data.password is not None:
        validate_password(settings, data.password)
    _validate_timezone(data.timezone)
    _ensure_unique(session, employee_code=data.employee_code, email=data.email)
    t = now()
    user = User(employee_code=data.employee_code, full_name=data.full_name.strip(), email=data.email,
                role=data.role, site=site, timezone=data.timezone,
                password_hash=hash_password(data.password) if data.password else None,
                is_active=True, created_at=t, updated_at=t, employed_from=data.employed_from,
                employed_to=data.employed_to)
    if user.employed_from is None:
        user.employed_from = _today(user, settings)
    _check_employment(user)
    session.add(user)
    _flush_unique(session)
    audit(session, actor_user_id=actor.id, action="users.create", entity="user", entity_id=user.id,
          after={"employee_code": user.employee_code, **snapshot(user)})
    return user


def get_user(session: Session, user_id: int) -> User:
    return get_or_404(session, User, user_id)


def get_visible_user(session: Session, actor: User, user_id: int) -> User:
    """The user, if `actor` may see it (self, or someone it manages): 404 / 403 otherwise."""
    user = get_user(session, user_id)
    ensure_can_view(actor, user)
    return user


def get_managed_user(session: Session, actor: User, user_id: int) -> User:
    """The user, if `actor` may act on it as a supervisor (admin; manager → employees of its site)."""
    user = get_user(session, user_id)
    if not can_act_on(actor, user):
        raise Forbidden("Not allowed to act on this user")
    return user


def list_users(session: Session, *, actor: User, role: str | None = None, active: bool | None = None,
               search: str | None = None, site: str | None = None, limit: int = 50,
               offset: int = 0) -> tuple[list[User], int]:
    q = select(User)
    if is_manager(actor) and not manages_site(actor, site):
        raise Forbidden("Managers only see users of their own site")
    if not is_admin(actor) and not is_manager(actor):
        raise Forbidden()
    clause = visible_users_filter(actor)
    if clause is not None:
        q = q.where(clause)
    elif site is not None:
        q = q.where(User.site == site)
    if role:
        q = q.where(User.role == role)
    if active is not None:
        q = q.where(User.is_active.is_(active))
    if search:
        pattern = f"%{search.strip().lower()}%"
        q = q.where(or_(func.lower(User.full_name).like(pattern), func.lower(User.employee_code).like(pattern),
                        func.lower(func.coalesce(User.email, "")).like(pattern)))
    return paginate(session, q, (User.id,), limit=limit, offset=offset)


def update_user(session: Session, settings: Settings, *, actor: User, user: User, data: UserUpdate,
                confirm_password: Callable[[str | None], None]) -> User:
    """Applies `data` as far as `actor` may (403 / 409 / 422 otherwise). A change of one's own password calls
    `confirm_password(current_password)` once the change is allowed and the new password valid, before anything
    changes: auth/flows.py passes its check (the current password must match; wrong guesses count as failed logins)
    and revokes the user's logins after a new password or a deactivation."""
    changes = data.model_dump(exclude_unset=True)
    current_password = changes.pop("current_password", None)
    is_self = actor.id == user.id
    if not is_admin(actor):
        if is_self:
            allowed = {"full_name", "email", "timezone", "password"}
        elif is_manager(actor):
            allowed = {"full_name", "email", "timezone", "password", "is_active", "role", "site", "employed_from",
                       "employed_to"}
            if not may_grant(actor, changes.get("role", EMPLOYEE)) or changes.get("site", actor.site) != actor.site:
                raise Forbidden("Managers cannot move users to another role or site")
        else:
            allowed = set()
        denied = sorted(set(changes) - allowed)
        if denied:
            raise Forbidden(f"Not allowed to change: {', '.join(denied)}", fields=denied)
    if is_self and (changes.get("is_active") is False or changes.get("role", user.role) != user.role):
        raise Conflict("You cannot deactivate yourself or change your own role")
    if "email" in changes or "employee_code" in changes:
        _ensure_unique(session, email=changes.get("email"), exclude_id=user.id)
    if "timezone" in changes:
        _validate_timezone(changes["timezone"])
    for key in ("full_name", "role", "is_active"):
        if key in changes and changes[key] is None:
            raise ValidationFailed(f"{key} cannot be null", field=key)
    before = snapshot(user)
    password = changes.pop("password", None)
    if password is not None:
        validate_password(settings, password)
        if is_self:
            confirm_password(current_password)
        user.password_hash = hash_password(password)
    for key, value in changes.items():
        setattr(user, key, value.strip() if key == "full_name" else value)
    if changes.get("is_active") is False and before["is_active"]:
        user.deactivated_at = now()
        user.employed_to = user.employed_to or _today(user, settings)
    elif changes.get("is_active") is True and not before["is_active"]:
        user.deactivated_at = None
        if "employed_to" not in changes and user.employed_to and user.employed_to < _today(user, settings):
            user.employed_to = None  # back at work: employment goes on, unless the request says until when
    _check_employment(user)
    user.updated_at = now()
    _flush_unique(session)
    after = snapshot(user)
    diff_before = {k: v for k, v in before.items() if after[k] != v}
    diff_after = {k: after[k] for k in diff_before}
    if password is not None:
        diff_after["password"] = "changed"
    if diff_after:
        audit(session, actor_user_id=actor.id, action="users.update", entity="user", entity_id=user.id,
              before=diff_before, after=diff_after)
    return user


def deactivate_user(session: Session, settings: Settings, *, actor: User, user: User, revoked_logins: int,
                    reason: str | None = None) -> User:
    """Deactivates `user` (employed_to becomes today when empty). Its logins are revoked by the caller
    (auth/flows.py, which passes how many refresh tokens that revoked, for the audit entry), and its biometric data
    erased (faces), in the same transaction. Attendance history stays."""
    if actor.id == user.id:
        raise Conflict("You cannot delete yourself")
    before = snapshot(user)
    if user.is_active:
        user.is_active = False
        user.deactivated_at = now()
        user.employed_to = user.employed_to or _today(user, settings)
    user.updated_at = now()
    session.flush()
    audit(session, actor_user_id=actor.id, action="users.delete", entity="user", entity_id=user.id,
          before=before, after={**snapshot(user), "revoked_refresh_tokens": revoked_logins}, reason=reason)
    return user
