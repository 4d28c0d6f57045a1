"""FastAPI dependencies shared by every domain router: settings, database session, app services."""
from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from server.config import Settings


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """A session per request; committed when the endpoint returns normally, rolled back on error."""
    with request.app.state.db.session() as session:
        yield session


def client_id(request: Request) -> str:
    return request.client.host if request.client else "unknown"
