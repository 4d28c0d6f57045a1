"""Shifts CRUD and per-user shift assignments (HTTP only: the rules are in service.py).

GET    /api/v1/shifts                any signed-in user (?include_inactive=true for archived ones)
POST   /api/v1/shifts                admin
GET    /api/v1/shifts/{id}           any signed-in user
PATCH  /api/v1/shifts/{id}           admin; work days of its users are recomputed (last 31 days)
DELETE /api/v1/shifts/{id}           admin: archives (history keeps pointing at it), 204
PUT    /api/v1/users/{id}/shift      manager (own site) / admin: {shift_id, valid_from, valid_to?}; overlap → 409;
                                     the user's work days in the range are recomputed
GET    /api/v1/users/{id}/shifts     the user, its manager or an admin: assignment history
"""
from __future__ import annotations

from fastapi import APIRouter, Response

from server.attendance import flows
from server.auth.deps import SIGNED_IN, AdminDep, EmployeeDep, ManagerDep
from server.bounds import PathId as Id
from server.deps import SessionDep, SettingsDep
from server.errors import Forbidden, NotFound, ValidationFailed, responses
from server.shifts import service
from server.shifts.schemas import (
    AssignmentIn,
    AssignmentOut,
    AssignmentResult,
    ShiftCreate,
    ShiftOut,
    ShiftUpdate,
)
from server.users.service import get_managed_user, get_visible_user

router = APIRouter(prefix="/api/v1", tags=["shifts"])

_AUTH = (SIGNED_IN, (Forbidden, "role not allowed, a kiosk key, or a user outside the manager's site"))
_NOT_FOUND = (NotFound, "no such shift (or user)")
_INVALID = (ValidationFailed, "bad zone, weekdays, times, break as long as the shift, id out of range, valid_to "
                              "before valid_from")


def _assignment_out(a, names: dict[int, str]) -> AssignmentOut:
    return AssignmentOut(id=a.id, user_id=a.user_id, shift_id=a.shift_id, shift_name=names.get(a.shift_id),
                         valid_from=a.valid_from, valid_to=a.valid_to)


@router.get("/shifts", response_model=list[ShiftOut], responses=responses(_AUTH),
            summary="List shifts (archived ones with include_inactive=true)")
def list_shifts(_: EmployeeDep, session: SessionDep, include_inactive: bool = False):
    return service.list_shifts(session, include_inactive=include_inactive)


@router.post("/shifts", response_model=ShiftOut, status_code=201,
             responses=responses(_AUTH, service.ShiftNameTaken, _INVALID),
             summary="Create a shift (admin); end before start = overnight")
def create_shift(body: ShiftCreate, actor: AdminDep, session: SessionDep):
    return service.create_shift(session, actor=actor, data=body.model_dump())


@router.get("/shifts/{shift_id}", response_model=ShiftOut, responses=responses(_AUTH, _NOT_FOUND, _INVALID),
            summary="A shift")
def get_shift(shift_id: Id, _: EmployeeDep, session: SessionDep):
    return service.get_shift(session, shift_id)


@router.patch("/shifts/{shift_id}", response_model=ShiftOut,
              responses=responses(_AUTH, _NOT_FOUND, service.ShiftNameTaken, _INVALID),
              summary="Edit a shift (admin); its users' work days of the last 31 days are recomputed")
def update_shift(shift_id: Id, body: ShiftUpdate, actor: AdminDep, session: SessionDep, settings: SettingsDep):
    shift = service.get_shift(session, shift_id)
    # nulls are ignored, except for the thresholds, where null removes the threshold
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items()
               if v is not None or k in ("half_day_below_minutes", "absent_below_minutes")}
    return flows.update_shift(session, settings, actor=actor, shift=shift, changes=changes)


@router.delete("/shifts/{shift_id}", status_code=204, responses=responses(_AUTH, _NOT_FOUND, _INVALID),
               summary="Archive a shift (admin): no new assignments, history kept")
def archive_shift(shift_id: Id, actor: AdminDep, session: SessionDep):
    service.archive_shift(session, actor=actor, shift=service.get_shift(session, shift_id))
    return Response(status_code=204)


@router.put("/users/{user_id}/shift", response_model=AssignmentResult,
            responses=responses(_AUTH, _NOT_FOUND, (service.AssignmentOverlap, "names the existing assignment"),
                                service.ShiftArchived, _INVALID),
            summary="Assign a shift from valid_from (to valid_to); ends an earlier open-ended assignment; "
                    "the user's work days in the range are recomputed")
def assign_shift(user_id: Id, body: AssignmentIn, actor: ManagerDep, session: SessionDep, settings: SettingsDep):
    user = get_managed_user(session, actor, user_id)
    new, ended = flows.assign_shift(session, settings, actor=actor, user=user, shift_id=body.shift_id,
                                    valid_from=body.valid_from, valid_to=body.valid_to)
    names = service.shift_names(session)
    return AssignmentResult(assignment=_assignment_out(new, names),
                            closed=[_assignment_out(a, names) for a in ended],
                            history=[_assignment_out(a, names) for a in service.history(session, user.id)])


@router.get("/users/{user_id}/shifts", response_model=list[AssignmentOut],
            responses=responses(_AUTH, _NOT_FOUND, _INVALID),
            summary="A user's shift assignment history (self, its manager, admin)")
def assignment_history(user_id: Id, actor: EmployeeDep, session: SessionDep):
    user = get_visible_user(session, actor, user_id)
    names = service.shift_names(session)
    return [_assignment_out(a, names) for a in service.history(session, user.id)]
