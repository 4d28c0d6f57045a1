from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from server.kit.pages import Page
from server.bounds import ApiDate

Role = Literal["admin", "manager", "employee"]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(v: str | None) -> str | None:
    if v is None:
        return None
    v = v.strip().lower()
    if not v:
        return None
    if len(v) > 320 or not _EMAIL.match(v):
        raise ValueError("not a valid email address")
    return v


def _no_nul(v):
    """PostgreSQL text cannot hold NUL; refuse it as bad input rather than fail in the database."""
    if isinstance(v, str) and "\x00" in v:
        raise ValueError("must not contain NUL characters")
    return v


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    employee_code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    full_name: str = Field(min_length=1, max_length=200)
    email: str | None = None
    role: Role = "employee"
    password: str | None = Field(default=None, max_length=1024)
    timezone: str | None = Field(default=None, max_length=64)
    site: str | None = Field(default=None, max_length=100)
    employed_from: ApiDate | None = Field(None, description="First day of employment (default: today); may be past")
    employed_to: ApiDate | None = Field(None, description="Last day of employment; absent = open-ended")

    _check_email = field_validator("email")(classmethod(lambda cls, v: _email(v)))
    _check_nul = field_validator("*", mode="before")(classmethod(lambda cls, v: _no_nul(v)))
    _check_dates = model_validator(mode="after")(lambda self: _employment_order(self))


def _employment_order(m):
    if m.employed_from is not None and m.employed_to is not None and m.employed_to < m.employed_from:
        raise ValueError("employed_to is before employed_from")
    return m


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = None
    role: Role | None = None
    password: str | None = Field(default=None, max_length=1024)
    current_password: str | None = Field(default=None, max_length=1024,
                                         description="Required when changing your own password")
    timezone: str | None = Field(default=None, max_length=64)
    site: str | None = Field(default=None, max_length=100)
    is_active: bool | None = None
    employed_from: ApiDate | None = Field(None, description="First day of employment (null: the day of creation)")
    employed_to: ApiDate | None = Field(None, description="Last day of employment (null: open-ended)")

    _check_email = field_validator("email")(classmethod(lambda cls, v: _email(v)))
    _check_nul = field_validator("*", mode="before")(classmethod(lambda cls, v: _no_nul(v)))
    _check_dates = model_validator(mode="after")(lambda self: _employment_order(self))


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    employee_code: str
    full_name: str
    email: str | None
    role: Role
    site: str | None
    timezone: str | None
    is_active: bool
    has_password: bool = False
    consent_at: datetime | None
    consent_version: str | None
    created_at: datetime
    updated_at: datetime
    employed_from: date | None
    employed_to: date | None
    deactivated_at: datetime | None
    biometrics_erased_at: datetime | None

    @classmethod
    def of(cls, user) -> UserOut:
        out = cls.model_validate(user)
        out.has_password = bool(user.password_hash)
        return out


class UserPage(Page[UserOut]):
    pass


class ConsentTextOut(BaseModel):
    version: str = Field(description="CONSENT_TEXT_VERSION: what enrollment records as consent_version")
    lang: str = Field(description="The language of `text` (English when the one asked for has none)")
    text: str
