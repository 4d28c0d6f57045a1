"""The startup steps of the lifespan, each timed and recorded for /ready and /status."""
from __future__ import annotations

import logging
import os
import re
import tempfile
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from server.auth.tokens import secret_problem, secret_warning
from server.config import Settings, get_settings
from server.database import Database
from server.faces import sync
from server.kit.locks import advisory_lock, describe, lock_dir
from server.private_files import make_private

log = logging.getLogger("faceclock.startup")

STEPS = ("settings", "directories", "migrations", "face_engine", "gallery", "seeds", "scheduler")


class StartupError(RuntimeError):
    """A step failed in a way the operator must fix; the message says how."""


@dataclass
class StartupState:
    started: float = field(default_factory=time.time)
    steps: dict[str, dict] = field(default_factory=dict)
    fatal: str | None = None  # the one-line reason the start was refused

    def run(self, name: str, fn, *, fatal: bool = True):
        t0 = time.perf_counter()
        try:
            result = fn()
        except Exception as exc:
            secs = time.perf_counter() - t0
            msg = str(exc) if isinstance(exc, StartupError) else f"{exc.__class__.__name__}: {exc}"
            self.steps[name] = {"ok": False, "seconds": round(secs, 3), "error": msg}
            log.error("startup step %s FAILED after %.3fs: %s", name, secs, msg)
            if fatal:
                self.fatal = f"startup step '{name}' failed: {msg}"
                raise StartupError(self.fatal) from None
            return None
        secs = time.perf_counter() - t0
        rss = _rss_mb()
        self.steps[name] = {"ok": True, "seconds": round(secs, 3), "rss_mb_after": rss}
        log.info("startup step %s done in %.3fs (RSS %.0f MB)", name, secs, rss)
        return result

    def skip(self, name: str, reason: str) -> None:
        self.steps[name] = {"ok": True, "seconds": 0.0, "skipped": reason}
        log.info("startup step %s skipped: %s", name, reason)

    def failing(self) -> dict[str, str]:
        out = {}
        for name in STEPS:
            step = self.steps.get(name)
            if step is None:
                out[name] = "not run"
            elif not step["ok"]:
                out[name] = step["error"]
        return out


class StartupFailureMessage:
    """Pure ASGI: when the lifespan refuses the start, the server (uvicorn) is told the one-line reason instead of
    Starlette's traceback of the lifespan, so the log ends with what to fix, not with a stack trace."""

    def __init__(self, app, startup: StartupState):
        self.app = app
        self.startup = startup

    async def __call__(self, scope, receive, send):
        if scope["type"] != "lifespan":
            return await self.app(scope, receive, send)

        async def send_reason(message):
            if message["type"] == "lifespan.startup.failed" and self.startup.fatal:
                message = {**message, "message": self.startup.fatal}
            await send(message)

        await self.app(scope, receive, send_reason)


def _rss_mb() -> float:
    import psutil

    return round(psutil.Process().memory_info().rss / 2**20, 1)


def check_settings(settings: Settings) -> None:
    """Settings the server cannot run with: refuse the start now rather than fail at the first request."""
    problem = secret_problem(settings)
    if problem:
        raise StartupError(problem)
    warning = secret_warning(settings)
    if warning:
        log.warning("%s", warning)


def writable_dirs(settings: Settings) -> list[Path]:
    """Directories the server writes to. The weights dir (MODELS_DIR) is only read: see `check_weights_dir`."""
    data = Path(settings.data_dir)
    return [data, settings.images_dir, data / "locks"]


def ensure_directories(settings: Settings) -> None:
    make_private(settings)
    for d in writable_dirs(settings):
        problem = writable_problem(d)
        if problem:
            raise StartupError(f"directory {d} is not writable ({problem}); set DATA_DIR to a writable path "
                               f"or fix its permissions")
    check_weights_dir(settings.weights_dir)


def writable_problem(d: Path) -> str | None:
    """None when `d` exists (or can be created) and a file can be created in it, else the reason."""
    try:
        d.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=d, prefix=".write-test-"):
            pass
    except OSError as exc:
        return exc.strerror or exc.__class__.__name__
    return None


def access_problem(d: Path) -> str | None:
    """`writable_problem` without writing anything (for scripts/diagnose_startup.py): None when `d` is a writable
    directory, or does not exist and its nearest existing parent is one (the server will create it)."""
    d = Path(d).absolute()
    probe = d
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a directory"
    if not os.access(probe, os.W_OK | os.X_OK):
        return "not writable" if probe == d else f"cannot be created: {probe} is not writable"
    return None


def check_weights_dir(d: Path) -> None:
    """MODELS_DIR may be read-only (the Docker image provisions it at build time): it is never write-tested.

    A missing one is created when possible; when it cannot be, the face engine step reports the missing weights
    (with the script to run) and the process stays up. One that exists but cannot be read stops the start.
    """
    d = Path(d)
    if not d.exists():
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("models directory %s does not exist and cannot be created (%s)", d, exc.strerror)
        return
    if not d.is_dir() or not os.access(d, os.R_OK | os.X_OK):
        raise StartupError(f"models directory {d} is not a readable directory; set MODELS_DIR to the directory "
                           f"holding the face model weights or fix its permissions")


SUPPORTED_DIALECTS = ("sqlite", "postgresql")


def open_database(settings: Settings):
    """The Database of DATABASE_URL, or a one-line StartupError naming DATABASE_URL when it cannot be used."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError


    url = settings.effective_database_url
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        hidden = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
        raise StartupError(f"DATABASE_URL {hidden!r} is not a database URL; use e.g. "
                           f"postgresql+psycopg://user:pass@host:5432/db or sqlite:////path/to/file.db") from None
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() not in SUPPORTED_DIALECTS:
        raise StartupError(f"DATABASE_URL {shown}: the {parsed.get_backend_name()!r} database is not supported; "
                           f"use postgresql+psycopg://... or sqlite:///...")
    try:
        db = Database(url, pool_size=settings.db_pool_size, connect_timeout=settings.db_connect_timeout)
    except (NoSuchModuleError, ImportError) as exc:
        raise StartupError(f"DATABASE_URL {shown}: its database driver is not available ({_first_line(exc)}); "
                           f"use postgresql+psycopg://... or sqlite:///...") from None
    except (ArgumentError, TypeError, ValueError) as exc:
        raise StartupError(f"DATABASE_URL {shown} cannot be used: {_first_line(exc)}") from None
    sync.install(db)  # an is_active change made through this Database bumps the gallery version (server/faces/sync.py)
    return db


STARTUP_LOCK_KEY = zlib.crc32(b"faceclock.startup")  # below the scheduler's job keys (SCHEDULER_LEADER_LOCK_ID * 1e6)
STARTUP_LOCK_WAIT_SECONDS = 300.0


@contextmanager
def startup_lock(db, settings: Settings, *, wait_seconds: float = STARTUP_LOCK_WAIT_SECONDS):
    """Serialises migrations and seeds across processes (uvicorn workers, replicas, `python -m seeds`): the
    advisory lock STARTUP_LOCK_KEY (server/kit/locks.py). Waits up to `wait_seconds`, then fails naming the lock."""
    with advisory_lock(db.engine, STARTUP_LOCK_KEY, lock_dir(settings), wait_seconds=wait_seconds) as held:
        if not held:
            raise StartupError(f"another process has held the startup "
                               f"{describe(db.engine, STARTUP_LOCK_KEY, lock_dir(settings))} for too long "
                               f"(migrations or seeds); check for a stuck faceclock process")
        yield


def check_database(db) -> None:
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise StartupError(f"cannot connect to the database {db.engine.url.render_as_string(hide_password=True)}: "
                           f"{_first_line(exc)}. Check DATABASE_URL and that the server is running") from None


def _first_line(exc: BaseException) -> str:
    s = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return s[0] if s else exc.__class__.__name__


def banner(settings: Settings, seeded: dict | None, steps: StartupState) -> str:
    """The last lines of a start: where to go, who the admin is and, on the start that created the admin with a
    generated password, that password (the only place it is ever shown)."""
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "localhost"
    base = f"http://{host}:{settings.port}"
    problems = [f"{name}: {error}" for name, error in steps.failing().items() if error != "not run"]
    state = f"started, NOT ready (/ready answers 503): {problems[0]}" if problems else "ready"
    lines = [f"faceclock {state} (start-up {time.time() - steps.started:.1f}s)",
             f"  API docs  {base}/docs",
             f"  kiosk     {base}/kiosk",
             f"  admin     {settings.admin_email}"]
    password = (seeded or {}).get("admin_password")
    if password:
        lines.append(f"  password  {password}   <- first start: shown only now, stored hashed; log in and change it")
    return "\n".join(lines)


def run_cli_step(name: str, step) -> int:
    """A startup step as a command (`python -m seeds`, `python -m server.migrate`): the configured database, checked,
    under the startup lock; `step(db, settings)` returns what to print. Exit 1 with a one-line message on a
    StartupError."""
    import sys



    settings = get_settings()
    make_private(settings)
    try:
        db = open_database(settings)
    except StartupError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    try:
        check_database(db)
        with startup_lock(db, settings):
            print(step(db, settings))
    except StartupError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    return 0
