"""Employee request payloads: one shape per type (discriminated by `type`), all with a reason."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from server.kit.pages import Page
from server.attendance.schemas import Kind, MarkStatus
from server.bounds import ApiDate, ApiDateTime, Id
from server.leaves.schemas import Half, LeaveKind

RequestType = Literal["missed_punch", "correction", "leave", "mark"]
RequestStatus = Literal["pending", "approved", "rejected", "cancelled"]
Reason = Annotated[str, Field(min_length=1, max_length=1000)]


def _aware(v: datetime | None) -> datetime | None:
    if v is not None and v.tzinfo is None:
        raise ValueError("give the time with its UTC offset, e.g. 2026-11-25T09:00:00+01:00")
    return v


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    reason: Reason

    @field_validator("reason")
    @classmethod
    def _reason(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a reason is required")
        return v.strip()


class MissedPunchRequest(_Base):
    type: Literal["missed_punch"]
    at: ApiDateTime = Field(description="When the punch should have been, ISO 8601 with offset")
    kind: Kind | None = Field(None, description="in / out; follows from its place in the day when absent")

    _check_at = field_validator("at")(classmethod(lambda cls, v: _aware(v)))


class CorrectionRequest(_Base):
    type: Literal["correction"]
    punch_id: Id
    at: ApiDateTime | None = None
    kind: Kind | None = None

    _check_at = field_validator("at")(classmethod(lambda cls, v: _aware(v)))

    @model_validator(mode="after")
    def _something(self):
        if self.at is None and self.kind is None:
            raise ValueError("nothing to correct: give at and/or kind")
        return self


class LeaveRequest(_Base):
    type: Literal["leave"]
    from_: ApiDate = Field(alias="from")
    to: ApiDate
    kind: LeaveKind
    half: Half | None = None

    @model_validator(mode="after")
    def _dates(self):
        if self.to < self.from_:
            raise ValueError("'to' is before 'from'")
        if self.half is not None and self.to != self.from_:
            raise ValueError("a half-day leave is one day: from = to")
        return self


class MarkRequest(_Base):
    type: Literal["mark"]
    date: ApiDate
    status: MarkStatus


RequestIn = Annotated[MissedPunchRequest | CorrectionRequest | LeaveRequest | MarkRequest,
                      Field(discriminator="type")]


class DecisionIn(BaseModel):
    reason: str | None = Field(None, max_length=1000, description="Required to reject")


class RequestOut(BaseModel):
    id: int
    user_id: int
    employee_code: str
    full_name: str
    type: RequestType
    change: dict = Field(description="The change asked for: missed_punch {at, kind}, correction {punch_id, at, "
                                     "kind}, leave {from, to, kind, half}, mark {date, status}")
    reason: str
    status: RequestStatus
    created_at: datetime
    decided_by: int | None
    decided_at: datetime | None
    decision_reason: str | None
    result: dict | None = Field(description="What approving made: {punch_id} / {leave_id} / {work_date, status}")


class RequestPage(Page[RequestOut]):
    pass


__all__ = ["RequestIn", "RequestOut", "RequestPage", "DecisionIn", "date"]
