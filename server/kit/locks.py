"""ONE cross-process lock: one process at a time does a piece of work (migrations and seeds at startup, each run of a
scheduled job, re-embedding after a model change), whatever the number of workers and replicas.

PostgreSQL: a session advisory lock (`pg_try_advisory_lock`) held on a connection of its own, so the server frees it if
the process dies. SQLite (one machine): an exclusive flock on DATA_DIR/locks/lock-<key>-<database>.lock.
"""
from __future__ import annotations

import fcntl
import logging
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from server.config import Settings

log = logging.getLogger("faceclock.kit.locks")


def lock_key(base: int, name: str) -> int:
    """The key of the lock called `name`, above `base` * 1,000,003 (SCHEDULER_LEADER_LOCK_ID keeps a deployment's keys
    apart from other applications sharing the PostgreSQL server)."""
    return base * 1_000_003 + zlib.crc32(name.encode()) % 1_000_003


def lock_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "locks"


def describe(bind: Engine | Connection, key: int, directory: Path) -> str:
    """Where the lock lives, for messages."""
    engine = bind.engine
    if engine.dialect.name == "postgresql":
        return f"PostgreSQL advisory lock {key}"
    return f"lock file {_lock_file(engine, key, directory)}"


def _lock_file(engine: Engine, key: int, directory: Path) -> Path:
    return directory / f"lock-{key}-{zlib.crc32(str(engine.url).encode()):08x}.lock"


@contextmanager
def advisory_lock(bind: Engine | Connection, key: int, directory: Path, *, wait_seconds: float = 0.0,
                  poll_seconds: float = 0.1) -> Iterator[bool]:
    """Yields True while this process holds lock `key` of the database `bind` points at; False when another process
    holds it (after trying for up to `wait_seconds`: 0 = one try). Released when the block ends."""
    engine = bind.engine
    deadline = time.monotonic() + wait_seconds
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            while not (got := bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())):
                conn.rollback()
                if time.monotonic() >= deadline:
                    break
                time.sleep(poll_seconds)
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    try:
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                        conn.commit()
                    except Exception:  # noqa: BLE001  the connection is gone: the server released the lock with it
                        log.warning("could not release %s", describe(engine, key, directory), exc_info=True)
        return
    directory.mkdir(parents=True, exist_ok=True)
    with open(_lock_file(engine, key, directory), "w") as fh:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                got = True
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    got = False
                    break
                time.sleep(poll_seconds)
        try:
            yield got
        finally:
            if got:
                fcntl.flock(fh, fcntl.LOCK_UN)
