"""Attendance payloads: the kiosk check answer, work days, punches, corrections."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter, field_validator

from server.audit.schemas import AuditEntryOut
from server.kit.pages import Page
from server.bounds import ApiDateTime, Id

Kind = Literal["in", "out"]
PunchStatus = Literal["on_time", "late", "early_leave", "overtime", "off_shift"]


class KioskUser(BaseModel):
    id: int
    full_name: str


class KioskPunch(BaseModel):
    id: int
    kind: Kind = Field(description="in / out: alternates within the work day, the first is in")
    at: datetime = Field(description="UTC instant of the punch (captured_at for an offline punch)")
    local_time: str = Field(description="The same instant in the shift's zone (the user's zone without a shift)")
    work_date: date = Field(description="The work day it belongs to, in the shift's zone")
    status: PunchStatus
    liveness: Literal["challenge", "offline"] | None = Field(
        None, description="challenge: a server challenge was answered; offline: an action the offline kiosk drew, "
                          "verified when the punch was replayed (for the manager to see); null: no liveness check")


class KioskRecognized(BaseModel):
    decision: Literal["recognized"]
    request_id: str
    duplicate: bool = Field(description="true: a punch of this person less than DEBOUNCE_SECONDS away is returned")
    user: KioskUser
    punch: KioskPunch


class KioskUnknown(BaseModel):
    decision: Literal["unknown"]
    request_id: str


KioskCheckOut = Annotated[KioskRecognized | KioskUnknown, Field(discriminator="decision")]
kiosk_answer = TypeAdapter(KioskCheckOut)


class PunchOut(BaseModel):
    id: int
    user_id: int
    kind: Kind
    at: datetime
    local_time: str | None = None
    work_date: date
    status: str
    source: str
    kind_fixed: bool = Field(False, description="true: kind given explicitly (manual or corrected), kept as is; "
                                                "false: automatic, re-derived when the day is recomputed")
    device_id: int | None = None
    reason: str | None = None
    created_by: int | None = None
    voided_at: datetime | None = None
    void_reason: str | None = None
    liveness: Literal["challenge", "offline"] | None = Field(
        None, description="challenge: a server challenge was answered; offline: an action the offline kiosk drew, "
                          "verified when the punch was replayed (for the manager to see); null: no liveness check")


DayStatus = Literal["present", "late", "absent", "incomplete", "off_day", "holiday", "on_leave", "half_day",
                    "remote"]
MarkStatus = Literal["present", "absent", "on_leave", "remote"]


class MarkOut(BaseModel):
    status: MarkStatus
    reason: str
    marked_by: int | None
    marked_at: datetime


class WorkDayOut(BaseModel):
    user_id: int
    employee_code: str
    full_name: str
    work_date: date
    shift_id: int | None
    shift_name: str | None = None
    timezone: str
    first_in: datetime | None
    last_out: datetime | None
    first_in_local: str | None = None
    last_out_local: str | None = None
    worked_minutes: int
    late_minutes: int
    early_leave_minutes: int
    overtime_minutes: int
    status: DayStatus
    closed: bool
    holiday: str | None = Field(None, description="The holiday's name when the date is one for this user")
    leave_kind: str | None = Field(None, description="vacation | sick | personal | unpaid | other, on leave")
    leave_half: Literal["am", "pm"] | None = Field(None, description="The half of the day on leave; null: whole")
    marked: bool = Field(False, description="true: the status is a manager's whole-day mark")
    mark: MarkOut | None = None
    details: dict | None = None
    punches: list[PunchOut] | None = None


class WorkDayPage(Page[WorkDayOut]):
    pass


class PunchPage(Page[PunchOut]):
    pass


def _aware(v: datetime | None) -> datetime | None:
    if v is not None and v.tzinfo is None:
        raise ValueError("give the time with its UTC offset, e.g. 2026-11-25T09:00:00+01:00")
    return v


class ManualPunchIn(BaseModel):
    user_id: Id
    at: ApiDateTime = Field(description="ISO 8601 with offset")
    kind: Kind | None = Field(None, description="in / out; alternates within the work day when absent")
    reason: str = Field(min_length=1, max_length=1000)

    @field_validator("at")
    @classmethod
    def _at(cls, v):
        return _aware(v)


class PunchCorrectionIn(BaseModel):
    at: ApiDateTime | None = None
    kind: Kind | None = None
    reason: str = Field(min_length=1, max_length=1000)

    @field_validator("at")
    @classmethod
    def _at(cls, v):
        return _aware(v)


class VoidIn(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


class PunchChange(BaseModel):
    punch: PunchOut
    work_day: WorkDayOut | None


class MarkIn(BaseModel):
    status: MarkStatus = Field(description="How the whole day counts, whatever the punches say")
    reason: str = Field(min_length=1, max_length=1000)


class DayChange(BaseModel):
    work_day: WorkDayOut | None = Field(description="The day after the change; null when nothing is left to record")


class PunchAuditOut(AuditEntryOut):
    actor_name: str | None = Field(None, description="Full name of the user who made the change")
