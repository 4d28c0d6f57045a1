"""Leave payloads."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from server.kit.pages import Page
from server.bounds import ApiDate, Id

LeaveKind = Literal["vacation", "sick", "personal", "unpaid", "other"]
Half = Literal["am", "pm"]


class LeaveIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    user_id: Id
    from_: ApiDate = Field(alias="from", description="First day of leave (a work date)")
    to: ApiDate = Field(description="Last day of leave, inclusive (= from for a half day)")
    kind: LeaveKind
    half: Half | None = Field(None, description="null: whole days; am / pm: that half of the one day")
    reason: str = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _check(self):
        if not self.reason.strip():
            raise ValueError("a reason is required")
        if self.to < self.from_:
            raise ValueError("'to' is before 'from'")
        if self.half is not None and self.to != self.from_:
            raise ValueError("a half-day leave is one day: from = to")
        return self


class CancelIn(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


class LeaveOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: int
    user_id: int
    from_: date = Field(alias="from")
    to: date
    kind: LeaveKind
    half: Half | None
    reason: str
    status: Literal["approved", "cancelled"]
    created_by: int | None
    created_at: datetime
    cancelled_at: datetime | None
    cancelled_by: int | None
    cancel_reason: str | None

    @classmethod
    def of(cls, lv) -> LeaveOut:
        return cls(id=lv.id, user_id=lv.user_id, from_=lv.from_date, to=lv.to_date, kind=lv.kind, half=lv.half,
                   reason=lv.reason, status="cancelled" if lv.cancelled_at else "approved", created_by=lv.created_by,
                   created_at=lv.created_at, cancelled_at=lv.cancelled_at, cancelled_by=lv.cancelled_by,
                   cancel_reason=lv.cancel_reason)


class LeavePage(Page[LeaveOut]):
    pass
