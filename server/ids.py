"""Database ids as the API accepts them: 1 .. 2**31-1 (a PostgreSQL ``integer``), so a huge id is a 422, never a 500."""
from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

MAX_ID = 2**31 - 1

Id = Annotated[int, Field(ge=1, le=MAX_ID)]  # a body field
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]  # a path parameter
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]  # an optional query filter
