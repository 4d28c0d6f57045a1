"""Who may do what to whom: the role rules, pure (no FastAPI, no session). Services, flows and the auth dependencies
ask these instead of comparing roles themselves.

    admin     everyone, everywhere
    manager   the employees (and other managers' records to read) of its own, non-empty site; never admins
    employee  its own data only
"""
from __future__ import annotations

from server.errors import Forbidden
from server.users.models import User

ADMIN, MANAGER, EMPLOYEE = "admin", "manager", "employee"
ROLES = (ADMIN, MANAGER, EMPLOYEE)


def is_admin(user: User) -> bool:
    return user.role == ADMIN


def is_manager(user: User) -> bool:
    return user.role == MANAGER


def is_employee(user: User) -> bool:
    return user.role == EMPLOYEE


def is_supervisor(user: User) -> bool:
    """An admin or a manager: someone who looks after other people's records."""
    return user.role in (ADMIN, MANAGER)


def manages_site(actor: User, site: str | None) -> bool:
    """A manager with a site, acting within it (`site` None: its own)."""
    return is_manager(actor) and bool(actor.site) and site in (None, actor.site)


def may_grant(actor: User, role: str) -> bool:
    """Whether `actor` may give `role` to someone (create a user with it, or change a user's role to it): an admin
    any role; a manager only the employee role."""
    return is_admin(actor) or (is_manager(actor) and role == EMPLOYEE)


def can_manage(actor: User, target: User) -> bool:
    """Whether `actor` may see and act on `target` as a supervisor.

    admin: everyone. manager: users of the same (non-empty) site who are not admins, themselves included.
    employee: nobody (an employee acts on its own data through `can_view`).
    """
    if is_admin(actor):
        return True
    if is_manager(actor):
        return bool(actor.site) and target.site == actor.site and not is_admin(target)
    return False


def can_act_on(actor: User, target: User) -> bool:
    """can_manage, and a manager acts only on employees (not on other managers of its site)."""
    return can_manage(actor, target) and not (is_manager(actor) and not is_employee(target))


def can_view(actor: User, target: User) -> bool:
    """Own data, or data of someone `actor` can manage."""
    return actor.id == target.id or can_manage(actor, target)


def ensure_can_manage(actor: User, target: User) -> None:
    if not can_manage(actor, target):
        raise Forbidden("Not allowed to act on this user")


def ensure_can_view(actor: User, target: User) -> None:
    if not can_view(actor, target):
        raise Forbidden("Not allowed to see this user")


def visible_users_filter(actor: User):
    """A WHERE clause on User limiting users to those `actor` supervises (admin: None = all; manager: its site, no
    admins); 403 for anyone else."""
    if is_admin(actor):
        return None
    if is_manager(actor) and actor.site:
        return (User.site == actor.site) & (User.role != ADMIN)
    raise Forbidden("Manager or admin role required")
