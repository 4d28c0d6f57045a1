"""Reading one row or failing with 404, and writing under a unique constraint or failing with 409."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.errors import AppError, NotFound

M = TypeVar("M")


def get_or_404(session: Session, model: type[M], ident: object, what: str | None = None) -> M:
    """The `model` row of primary key `ident`, or 404 not_found ("<What> not found")."""
    row = session.get(model, ident)
    if row is None:
        raise NotFound(f"{what or model.__name__} not found")
    return row


def flush_or_conflict(session: Session, error: AppError | Callable[[IntegrityError], AppError] | None,
                      *rows: object) -> bool:
    """Add `rows` and flush, in a savepoint. A unique-constraint race (IntegrityError) rolls back only that savepoint
    and raises `error` (an AppError, or made from the IntegrityError by a function: 409 with the field that clashed),
    or, with `error` None, returns False (the caller then reads the row that won). True when flushed."""
    try:
        with session.begin_nested():
            session.add_all(rows)
            session.flush()
    except IntegrityError as exc:
        if error is None:
            return False
        raise (error(exc) if callable(error) and not isinstance(error, AppError) else error) from None
    return True
