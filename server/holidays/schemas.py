"""Holiday payloads."""
from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from server.bounds import ApiDate


def _site(v: str | None) -> str | None:
    if v is None:
        return None
    v = v.strip()
    if "\x00" in v:
        raise ValueError("must not contain NUL characters")
    return v or None


class HolidayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: ApiDate = Field(description="The work date that is a holiday (in each shift's zone)")
    name: str = Field(min_length=1, max_length=200)
    site: str | None = Field(None, max_length=100, description="Only users of this site; absent = whole company")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        v = " ".join(v.split())
        if not v or "\x00" in v:
            raise ValueError("a name is required")
        return v

    _check_site = field_validator("site")(classmethod(lambda cls, v: _site(v)))


class HolidayOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    date: date
    name: str
    site: str | None = Field(description="null: the whole company")
    created_by: int | None
    created_at: datetime


class SkippedHoliday(BaseModel):
    date: date
    name: str
    reason: str = Field(description="holiday_exists: that date already has a holiday for that site")


class HolidayImportOut(BaseModel):
    created: list[HolidayOut]
    skipped: list[SkippedHoliday]
