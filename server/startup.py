"""The startup steps of the lifespan, each timed and recorded for /ready and /status."""
from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

log = logging.getLogger("faceclock.startup")

STEPS = ("directories", "migrations", "face_engine", "gallery", "seeds", "scheduler")


class StartupError(RuntimeError):
    """A step failed in a way the operator must fix; the message says how."""


@dataclass
class StartupState:
    started: float = field(default_factory=time.time)
    steps: dict[str, dict] = field(default_factory=dict)

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
                raise StartupError(f"startup step '{name}' failed: {msg}") from None
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


def _rss_mb() -> float:
    import psutil

    return round(psutil.Process().memory_info().rss / 2**20, 1)


def ensure_directories(settings) -> None:
    for d in (Path(settings.data_dir), settings.weights_dir, settings.images_dir, Path(settings.data_dir) / "locks"):
        try:
            d.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=d, prefix=".write-test-"):
                pass
        except OSError as exc:
            raise StartupError(f"directory {d} is not writable ({exc.strerror}); set DATA_DIR to a writable path "
                               f"or fix its permissions") from None


def check_database(db) -> None:
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise StartupError(f"cannot connect to the database {db.engine.url.render_as_string(hide_password=True)}: "
                           f"{_first_line(exc)}. Check DATABASE_URL and that the server is running") from None


def migrate(db, settings) -> str | None:
    from server import migrate as m

    check_database(db)
    head = m.head_revision()
    if settings.auto_migrate:
        m.upgrade(db)
    current = m.current_revision(db)
    if current != head:
        raise StartupError(f"database is at revision {current or 'none'} but the code needs {head}; run "
                           f"`alembic upgrade head` (or start with AUTO_MIGRATE=true)")
    return current


def _first_line(exc: BaseException) -> str:
    s = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return s[0] if s else exc.__class__.__name__
