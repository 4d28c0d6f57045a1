"""Attendance HTTP: the kiosk check, work days, punches and corrections (rules in service.py / kiosk.py).

POST   /api/v1/kiosk/check                 X-Device-Key; multipart image | images (≤3; 2-5 with challenge_id),
                                           request_id, captured_at?, challenge_id?, offline_action?
GET    /api/v1/attendance/days             manager (own site) / admin: ?user_id&from&to
GET    /api/v1/attendance/me               any signed-in user: own days, with punches
GET    /api/v1/attendance/punches          manager / admin: punches (voided ones included) ?user_id&from&to
POST   /api/v1/attendance/punches          manager / admin: manual punch with a reason
PATCH  /api/v1/attendance/punches/{id}     manager / admin: correct time or kind, with a reason
DELETE /api/v1/attendance/punches/{id}     manager / admin: void with a reason (?reason= or JSON body)
PUT    /api/v1/attendance/days/{user_id}/{date}  manager / admin: whole-day mark {status, reason}
DELETE /api/v1/attendance/days/{user_id}/{date}  manager / admin: remove the mark (?reason= or JSON body)
GET    /api/v1/attendance/punches/{id}/audit  manager / admin: the punch's audit trail, oldest first
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, Form, Query
from fastapi.responses import JSONResponse

from server.config import Settings
from server.attendance import corrections, kiosk, marks, queries, service
from server.attendance.schemas import (
    DayChange, KioskCheckOut, ManualPunchIn, MarkIn, MarkOut, PunchAuditOut, PunchChange, PunchCorrectionIn, PunchOut,
    PunchPage, VoidIn, WorkDayOut, WorkDayPage,
)
from server.audit.schemas import AuditEntryOut
from server.auth.deps import SIGNED_IN, DeviceDep, EmployeeDep, ManagerDep
from server.clock import as_utc
from server.deps import DatabaseDep, SessionDep, SettingsDep
from server.faces.deps import FaceRuntimeDep
from server.errors import (PHOTO_ERRORS, Forbidden, InvalidDeviceKey, ModelWeightsMissing, NotFound, ValidationFailed,
                           responses)
from server.faces.uploads import Photos
from server.liveness.errors import CHALLENGE_ERRORS
from server.liveness.service import MAX_FRAMES as LIVENESS_FRAMES
from server.bounds import ApiDate, PathId, UserFilter
from server.users.employment import OutsideEmployment
from server.users.service import get_user

if TYPE_CHECKING:  # annotations only: a router reads other domains through their services
    from server.users.models import User

router = APIRouter(tags=["attendance"])


def kiosk_identifier(db: DatabaseDep, rt: FaceRuntimeDep, device: DeviceDep) -> kiosk.Identify:
    """The kiosk check's face decision (kiosk.face_identifier); tests replace it with app.dependency_overrides."""
    return kiosk.face_identifier(db, rt, device)


# 0 frames pass here: a replay of a request_id needs none (kiosk.check refuses a new attempt without one)
# a liveness challenge is answered with up to 5 frames (kiosk.check allows 3 without one)
CheckFrames = Annotated[list[bytes], Depends(Photos("kiosk", "image", many="images", least=0, most=LIVENESS_FRAMES,
                                                    message=f"At most {LIVENESS_FRAMES} frames"))]
IdentifierDep = Annotated[kiosk.Identify, Depends(kiosk_identifier)]

_KIOSK_RESPONSES = {
    200: {"description": "{decision: recognized, request_id, duplicate, user, punch} or {decision: unknown, "
                         "request_id}. A replay of a request_id answers the same (header Idempotent-Replayed: true)"},
    **responses(InvalidDeviceKey, PHOTO_ERRORS, kiosk.CapturedAtInvalid, kiosk.CapturedAtTooOld,
                kiosk.CapturedAtInFuture,
                (ValidationFailed, "request_id not a UUID, no image, more than 3 frames without a challenge"),
                CHALLENGE_ERRORS, ModelWeightsMissing,
                (kiosk.RetryLater, "a concurrent request with the same request_id failed")),
}
_AUTH = (SIGNED_IN, (Forbidden, "role, a kiosk key, or a user outside the manager's site"))
_RANGE = (_AUTH, (ValidationFailed, "to before from, more than 366 days, id out of range"))
_PUNCH = (_AUTH, (NotFound, "no such punch or user"), service.PunchVoided,
          (ValidationFailed, "reason missing, time without offset or in the future, nothing to correct, id out of "
                             "range"))


@router.post("/api/v1/kiosk/check", tags=["kiosk"], response_model=KioskCheckOut, responses=_KIOSK_RESPONSES,
             summary="Check in/out by face; idempotent per (device, request_id)")
def kiosk_check(device: DeviceDep, session: SessionDep, settings: SettingsDep, frames: CheckFrames,
                identify: IdentifierDep,
                request_id: str = Form(description="A UUID the kiosk chooses per attempt and re-sends on retries "
                                                   "(the idempotency key)"),
                captured_at: str | None = Form(None, description="ISO 8601 with a UTC offset, for a punch taken "
                                                                  "offline; default: now"),
                challenge_id: str | None = Form(None, description="from POST /kiosk/challenge: answer it with 2-5 "
                                                                  "frames, the first looking at the camera"),
                offline_action: str | None = Form(None, description="a replayed offline attempt: the action "
                                                                    "(turn_left/turn_right) its kiosk drew")):
    answer = kiosk.check(session, settings, device, request_id=request_id, captured_at=captured_at, frames=frames,
                         identify=identify, challenge_id=challenge_id, offline_action=offline_action)
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    # the stored answer as is (a replay is byte for byte the original); its shape is schemas.KioskCheckOut
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)


# ------------------------------------------------------------------ shaping

def _local(dt, zone: str) -> str | None:
    return None if dt is None else as_utc(dt).astimezone(ZoneInfo(zone)).isoformat()


def _punch_out(p, zone: str) -> PunchOut:
    return PunchOut(id=p.id, user_id=p.user_id, kind=p.kind, at=as_utc(p.at), local_time=_local(p.at, zone),
                    work_date=p.work_date, status=p.status, source=p.source, kind_fixed=bool(p.kind_fixed),
                    device_id=p.device_id, reason=p.reason,
                    created_by=p.created_by, voided_at=p.voided_at, void_reason=p.void_reason,
                    liveness=p.liveness)


def _zone(shift_id, user: User, zones: dict, settings: Settings) -> str:
    return zones[shift_id][1] if shift_id in zones else service.fallback_zone(user, settings)


def _mark_out(m) -> MarkOut | None:
    return None if m is None else MarkOut(status=m.status, reason=m.reason, marked_by=m.marked_by,
                                          marked_at=m.marked_at)


def _day_out(wd, user: User, zones: dict, settings: Settings, punches=None, mark=None) -> WorkDayOut:
    zone = _zone(wd.shift_id, user, zones, settings)
    return WorkDayOut(
        user_id=user.id, employee_code=user.employee_code, full_name=user.full_name, work_date=wd.work_date,
        shift_id=wd.shift_id, shift_name=zones[wd.shift_id][0] if wd.shift_id in zones else None, timezone=zone,
        first_in=wd.first_in, last_out=wd.last_out, first_in_local=_local(wd.first_in, zone),
        last_out_local=_local(wd.last_out, zone), worked_minutes=wd.worked_minutes, late_minutes=wd.late_minutes,
        early_leave_minutes=wd.early_leave_minutes, overtime_minutes=wd.overtime_minutes, status=wd.status,
        closed=wd.closed_at is not None, holiday=wd.holiday, leave_kind=wd.leave_kind, leave_half=wd.leave_half,
        marked=wd.mark is not None, mark=_mark_out(mark), details=wd.details,
        punches=None if punches is None else [_punch_out(p, zone) for p in punches])


def _days_page(session, settings: Settings, rows, total, limit, offset, with_punches: bool) -> WorkDayPage:
    zones = queries.shift_zones(session)
    keys = [(wd.user_id, wd.work_date) for wd, _ in rows]
    punches = queries.punches_of_days(session, keys) if with_punches else {}
    day_marks = marks.marks_of(session, [(wd.user_id, wd.work_date) for wd, _ in rows if wd.mark])
    items = [_day_out(wd, u, zones, settings, punches.get(k, []) if with_punches else None, day_marks.get(k))
             for k, (wd, u) in zip(keys, rows)]
    return WorkDayPage(items=items, total=total, limit=limit, offset=offset)


def _change(session, settings: Settings, punch, wd) -> PunchChange:
    user = get_user(session, punch.user_id)
    zones = queries.shift_zones(session)
    zone = _zone(punch.shift_id, user, zones, settings)
    return PunchChange(punch=_punch_out(punch, zone), work_day=_day_of(session, settings, user, wd, zones))


def _day_of(session, settings: Settings, user: User, wd, zones=None) -> WorkDayOut | None:
    """A recomputed day as answered by a change: with its punches and its mark."""
    if wd is None:
        return None
    zones = zones if zones is not None else queries.shift_zones(session)
    return _day_out(wd, user, zones, settings, service.day_punches(session, user.id, wd.work_date),
                    marks.get_mark(session, user.id, wd.work_date))


# ------------------------------------------------------------------ work days

@router.get("/api/v1/attendance/days", response_model=WorkDayPage, responses=responses(_RANGE),
            summary="Recorded work days (manager: own site; admin: all)")
def work_days(actor: ManagerDep, session: SessionDep, settings: SettingsDep, user_id: UserFilter = None,
              from_: ApiDate | None = Query(None, alias="from"), to: ApiDate | None = None,
              include_punches: bool = False, limit: int = Query(500, ge=1, le=5000),
              offset: int = Query(0, ge=0, le=10**9)):
    start, end = queries.default_range(settings, from_, to)
    if user_id is not None:
        queries.ensure_supervised(session, actor, user_id)
    rows, total = queries.list_work_days(session, actor=actor, user_id=user_id, start=start, end=end, limit=limit,
                                         offset=offset)
    return _days_page(session, settings, rows, total, limit, offset, include_punches)


@router.get("/api/v1/attendance/me", response_model=WorkDayPage, responses=responses(_RANGE),
            summary="My work days, with their punches")
def my_days(user: EmployeeDep, session: SessionDep, settings: SettingsDep,
            from_: ApiDate | None = Query(None, alias="from"), to: ApiDate | None = None,
            limit: int = Query(500, ge=1, le=5000), offset: int = Query(0, ge=0, le=10**9)):
    start, end = queries.default_range(settings, from_, to)
    rows, total = queries.list_work_days(session, actor=None, user_id=user.id, start=start, end=end, limit=limit,
                                         offset=offset)
    return _days_page(session, settings, rows, total, limit, offset, True)


# ------------------------------------------------------------------ punches and corrections

@router.get("/api/v1/attendance/punches", response_model=PunchPage, responses=responses(_RANGE),
            summary="Punches, voided ones included")
def punches(actor: ManagerDep, session: SessionDep, settings: SettingsDep, user_id: UserFilter = None,
            from_: ApiDate | None = Query(None, alias="from"), to: ApiDate | None = None,
            include_voided: bool = True, limit: int = Query(500, ge=1, le=5000),
            offset: int = Query(0, ge=0, le=10**9)):
    start, end = queries.default_range(settings, from_, to)
    if user_id is not None:
        queries.ensure_supervised(session, actor, user_id)
    rows, total = queries.list_punches(session, actor=actor, user_id=user_id, start=start, end=end,
                                       include_voided=include_voided, limit=limit, offset=offset)
    zones = queries.shift_zones(session)
    users = {u.id: u for u in {get_user(session, p.user_id) for p in rows}}
    items = [_punch_out(p, _zone(p.shift_id, users[p.user_id], zones, settings)) for p in rows]
    return PunchPage(items=items, total=total, limit=limit, offset=offset)


@router.post("/api/v1/attendance/punches", response_model=PunchChange, status_code=201,
             responses=responses(_PUNCH),
             summary="Add a manual punch (reason required); the work day is recomputed")
def add_manual_punch(body: ManualPunchIn, actor: ManagerDep, session: SessionDep, settings: SettingsDep):
    new = corrections.manual_punch(session, settings, actor=actor, user_id=body.user_id, at=body.at, kind=body.kind,
                               reason=body.reason)
    return _change(session, settings, new.punch, new.work_day)


@router.patch("/api/v1/attendance/punches/{punch_id}", response_model=PunchChange, responses=responses(_PUNCH),
              summary="Correct a punch's time or kind (reason required); audited, work day recomputed")
def correct_punch(punch_id: PathId, body: PunchCorrectionIn, actor: ManagerDep, session: SessionDep,
                  settings: SettingsDep):
    punch, wd = corrections.correct_punch(session, settings, actor=actor, punch_id=punch_id, at=body.at, kind=body.kind,
                                      reason=body.reason)
    return _change(session, settings, punch, wd)


@router.delete("/api/v1/attendance/punches/{punch_id}", response_model=PunchChange, responses=responses(_PUNCH),
               summary="Void a punch (reason required): never deleted, audited, work day recomputed")
def void_punch(punch_id: PathId, actor: ManagerDep, session: SessionDep, settings: SettingsDep,
               reason: str | None = Query(None, max_length=1000), body: VoidIn | None = Body(None)):
    punch, wd = corrections.void_punch(session, settings, actor=actor, punch_id=punch_id,
                                   reason=body.reason if body is not None else reason)
    return _change(session, settings, punch, wd)


# ------------------------------------------------------------------ whole-day marks

_MARK = (_AUTH, (NotFound, "no such user (DELETE: or the day has no mark)"), marks.LeaveRecorded,
         OutsideEmployment, (ValidationFailed, "reason missing, bad status or date"))


@router.put("/api/v1/attendance/days/{user_id}/{work_date}", response_model=DayChange,
            responses=responses(_MARK),
            summary="Mark a whole day present / absent / on_leave / remote (reason required), whatever the "
                    "punches say; audited, the day recomputed")
def mark_day(user_id: PathId, work_date: ApiDate, body: MarkIn, actor: ManagerDep, session: SessionDep,
             settings: SettingsDep):
    wd = marks.set_mark(session, settings, actor=actor, user_id=user_id, work_date=work_date, status=body.status,
                        reason=body.reason)
    return DayChange(work_day=_day_of(session, settings, get_user(session, user_id), wd))


@router.delete("/api/v1/attendance/days/{user_id}/{work_date}", response_model=DayChange,
               responses=responses(_MARK),
               summary="Remove a day's mark (reason required): the punches decide again; audited")
def unmark_day(user_id: PathId, work_date: ApiDate, actor: ManagerDep, session: SessionDep, settings: SettingsDep,
               reason: str | None = Query(None, max_length=1000), body: VoidIn | None = Body(None)):
    wd = marks.remove_mark(session, settings, actor=actor, user_id=user_id, work_date=work_date,
                           reason=body.reason if body is not None else reason)
    return DayChange(work_day=_day_of(session, settings, get_user(session, user_id), wd))


@router.get("/api/v1/attendance/punches/{punch_id}/audit", response_model=list[PunchAuditOut],
            responses=responses(_AUTH, (NotFound, "no such punch")),
            summary="A punch's audit trail (created by hand, corrected, voided: who, when, why, before/after)")
def punch_audit(punch_id: PathId, actor: ManagerDep, session: SessionDep):
    return [PunchAuditOut(**AuditEntryOut.model_validate(e).model_dump(), actor_name=name)
            for e, name in corrections.punch_history(session, actor=actor, punch_id=punch_id)]
