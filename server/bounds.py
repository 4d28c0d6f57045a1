"""Bounds of values the API accepts, so that an absurd one is a 422, never a 500 deep inside.

Ids: 1 .. 2**31-1 (a PostgreSQL ``integer``). Dates and times: years 1970 .. 2199 (a punch in year 1 overflows the
first time zone conversion or day arithmetic it meets; nothing in an attendance ledger is older than 1970).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, Field

MAX_ID = 2**31 - 1
MIN_YEAR, MAX_YEAR = 1970, 2199

Id = Annotated[int, Field(ge=1, le=MAX_ID)]  # a body field
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]  # a path parameter
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]  # an optional query filter
UserFilter = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this user")]  # ?user_id=


def _in_years(value: date | datetime) -> date | datetime:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"year must be between {MIN_YEAR} and {MAX_YEAR}")
    return value


ApiDate = Annotated[date, AfterValidator(_in_years)]
ApiDateTime = Annotated[datetime, AfterValidator(_in_years)]
