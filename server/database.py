"""Engine, session factory, declarative Base and dialect helpers (SQLite + PostgreSQL), and the transaction helpers:
`Database.session()` (commit on success, roll back on error) and `keep_on_failure` (records a failed transaction
must still leave)."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import DateTime, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from server.clock import as_utc

log = logging.getLogger("faceclock.database")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """timestamptz on PostgreSQL; on SQLite stored naive-UTC and returned aware-UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else as_utc(value)


def make_engine(url: str, *, pool_size: int = 10, connect_timeout: int = 5) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "savepoint")
        def _sqlite_savepoint_in_a_transaction(conn, name):
            # pysqlite opens a transaction only before a write (BEGIN), so a SAVEPOINT that comes first opens one of
            # its own and its RELEASE commits it: a first write made in a savepoint was committed at once, whatever
            # the transaction did later. Begin the transaction first, so the savepoint nests inside it.
            dbapi = conn.connection.dbapi_connection
            if not dbapi.in_transaction:
                dbapi.execute("BEGIN")

        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        pool_timeout=10,
        connect_args={"connect_timeout": connect_timeout},
    )


_KEPT = "keep_on_failure"


def keep_on_failure(session: Session, write: Callable[[Session], object]) -> None:
    """`write(session)` now, in the session's transaction; and should that transaction roll back instead of
    committing (the request fails, or its commit does; a script rolls back a refused batch), `write` runs again at
    once in the session's next transaction. Database.session commits that one before it re-raises, so the records
    are stored before the error is answered; a caller that goes on commits them with its next work.

    For the records a refused request must leave behind: failed-login counters, face decision records of a refused
    photo, a token family revoked on reuse. `write` must build its rows itself (it may run twice, in two
    transactions) and touch nothing else.
    """
    write(session)
    session.info.setdefault(_KEPT, []).append(write)


def _forget_kept(session: Session) -> None:
    if not session.in_nested_transaction():  # after_commit fires on a savepoint's release too
        session.info.pop(_KEPT, None)


def _rewrite_kept(session: Session, previous_transaction) -> None:
    """after_soft_rollback of the outermost transaction: the keep_on_failure writes again, in the next transaction
    (they stay registered: should that one roll back too, they are written once more). Never raises: the error that
    caused the rollback is what the caller must see."""
    writes = session.info.get(_KEPT)
    if previous_transaction.nested or not writes or not session.is_active:
        return
    try:
        for write in writes:
            write(session)
    except Exception:  # noqa: BLE001
        log.warning("could not keep %d record(s) of a failed transaction", len(writes), exc_info=True)


def _commit_kept(session: Session) -> None:
    """After Database.session's rollback: commit the records _rewrite_kept wrote again (logged if it fails)."""
    if not session.info.get(_KEPT):
        return
    try:
        session.commit()
    except Exception:  # noqa: BLE001
        log.warning("could not keep the records of a failed transaction", exc_info=True)
        session.info.pop(_KEPT, None)  # not once more on this rollback
        session.rollback()


class Database:
    """Holds the engine and the session factory of one app instance."""

    def __init__(self, url: str, **kw):
        self.url = url
        self.engine = make_engine(url, **kw)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self.sessionmaker, "after_commit", _forget_kept)  # kept writes are in once committed
        event.listen(self.sessionmaker, "after_soft_rollback", _rewrite_kept)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits when the block ends normally and rolls back when it raises (then
        the keep_on_failure records are committed in a transaction of their own)."""
        s = self.sessionmaker()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()  # writes the keep_on_failure records again (_rewrite_kept) ...
            _commit_kept(s)  # ... and commits them
            raise
        finally:
            s.close()

    def dispose(self) -> None:
        self.engine.dispose()
