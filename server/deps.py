"""FastAPI dependencies shared by every domain router, as Annotated aliases (one name per thing):

    session: SessionDep       the request's database session (THE transaction rule, below)
    settings: SettingsDep     the app's Settings
    db: DatabaseDep           the app's Database, for flows that own their transactions (the kiosk check)

THE transaction rule: a request's writes are committed before its answer is sent, or none are. `get_session` is a
function-scoped dependency (`Depends(..., scope="function")`, FastAPI >= 0.121): its exit — the commit, or the
rollback when the endpoint raised — runs when the endpoint returns, before the response goes out, so a 2xx means
committed and a commit that fails is answered 5xx (503 database_unavailable for a busy or unreachable database).
Services flush but never commit; the few flows that own their transactions say so (the kiosk check, re-embedding,
jobs). Records a refused request must leave behind (failed-login counters, face decision records, a revoked token
family) are written with `server.database.keep_on_failure`.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from server.config import Settings
from server.database import Database


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """The request's session: committed when the endpoint returns normally, rolled back when it raises — both
    before the answer is sent (it is only ever used as SessionDep, with scope="function")."""
    with request.app.state.db.session() as session:
        yield session


def get_database(request: Request) -> Database:
    return request.app.state.db


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]


def client_id(request: Request) -> str:
    return request.client.host if request.client else "unknown"
