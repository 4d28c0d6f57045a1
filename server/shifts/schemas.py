"""Shift and shift-assignment payloads."""
from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from server.bounds import ApiDate, Id


def _check_zone(v: str | None) -> str | None:
    if v is None:
        return v
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {v!r}") from None
    return v


def _check_weekdays(v: list[int] | None) -> list[int] | None:
    if v is None:
        return v
    if any(d < 0 or d > 6 for d in v):
        raise ValueError("weekdays are 0 (Monday) .. 6 (Sunday)")
    return sorted(set(v))


class ShiftFields(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    timezone: str | None = Field(None, description="IANA zone, e.g. Europe/Madrid")
    start_time: time | None = Field(None, description="Local start, HH:MM")
    end_time: time | None = Field(None, description="Local end, HH:MM; before (or equal to) start = overnight")
    weekdays: list[int] | None = Field(None, description="Days the shift starts on: 0 = Monday .. 6 = Sunday")
    grace_in_minutes: int | None = Field(None, ge=0, le=240)
    grace_out_minutes: int | None = Field(None, ge=0, le=240)
    break_minutes: int | None = Field(None, ge=0, le=720, description="Unpaid break deducted from worked minutes")
    half_day_below_minutes: int | None = Field(None, ge=1, le=1440, description="A closed day with fewer worked "
                                               "minutes is half_day (halved on a half day of leave)")
    absent_below_minutes: int | None = Field(None, ge=1, le=1440, description="A closed day with fewer worked "
                                             "minutes is absent (halved on a half day of leave)")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        return _check_zone(v)

    @field_validator("weekdays")
    @classmethod
    def _days(cls, v: list[int] | None) -> list[int] | None:
        return _check_weekdays(v)

    @field_validator("start_time", "end_time")
    @classmethod
    def _naive_time(cls, v: time | None) -> time | None:
        return None if v is None else v.replace(tzinfo=None, microsecond=0)


class ShiftCreate(ShiftFields):
    name: str = Field(..., min_length=1, max_length=100)
    timezone: str
    start_time: time
    end_time: time
    weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])
    grace_in_minutes: int = Field(5, ge=0, le=240)
    grace_out_minutes: int = Field(5, ge=0, le=240)
    break_minutes: int = Field(0, ge=0, le=720)


class ShiftUpdate(ShiftFields):
    is_active: bool | None = None


class ShiftOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    timezone: str
    start_time: time
    end_time: time
    weekdays: list[int]
    grace_in_minutes: int
    grace_out_minutes: int
    break_minutes: int
    half_day_below_minutes: int | None = None
    absent_below_minutes: int | None = None
    is_active: bool
    overnight: bool = False

    @model_validator(mode="after")
    def _overnight(self):
        self.overnight = self.end_time <= self.start_time
        return self


class AssignmentIn(BaseModel):
    shift_id: Id
    valid_from: ApiDate
    valid_to: ApiDate | None = Field(None, description="Inclusive; open-ended when absent")

    @model_validator(mode="after")
    def _order(self):
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self


class AssignmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    shift_id: int
    shift_name: str | None = None
    valid_from: date
    valid_to: date | None


class AssignmentResult(BaseModel):
    assignment: AssignmentOut
    closed: list[AssignmentOut] = Field(default_factory=list,
                                        description="Open-ended assignments ended the day before valid_from")
    history: list[AssignmentOut]
