"""Paginated lists: one answer shape and one way to count and slice a query."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """`items` of one page, the `total` of the whole filtered set, and the `limit` / `offset` asked for.

    A domain names its page with a subclass (`class UserPage(Page[UserOut]): pass`), so OpenAPI shows that name."""

    items: list[T]
    total: int
    limit: int
    offset: int


def paginate(session: Session, query: Select, order_by: Sequence[Any], *, limit: int,
             offset: int) -> tuple[list, int]:
    """(the rows of `query` ordered by `order_by`, `limit` from `offset`; the count of all its rows). A query of one
    entity gives the objects; of several, tuples of them."""
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(*order_by).limit(limit).offset(offset)
    if len(query.column_descriptions) == 1:
        return list(session.scalars(page)), total
    return [tuple(row) for row in session.execute(page)], total
