"""APScheduler setup with a single-leader guard per job run.

Domains register jobs with `register_job(...)` in their own `jobs.py`; `AppScheduler` starts them last in the
lifespan. Each run of a job first takes a lock so that, with several workers or replicas, only one runs it at a time:
a PostgreSQL advisory lock (`pg_try_advisory_lock`) when the database is PostgreSQL, an exclusive file lock under
DATA_DIR for the embedded SQLite default (all workers share one machine there). A run that does not get the lock is
skipped: another process is doing that work.
"""
from __future__ import annotations

import fcntl
import logging
import time
import zlib
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import text

from server.database import Database

log = logging.getLogger("faceclock.scheduler")


@dataclass
class JobSpec:
    id: str
    func: Callable[..., object]  # called as func(db, settings)
    trigger: str  # "interval" | "cron"
    trigger_args: dict = field(default_factory=dict)


_REGISTRY: dict[str, JobSpec] = {}


def register_job(id: str, func: Callable, trigger: str = "interval", **trigger_args) -> None:
    """Called by domains at import time of their jobs module. Re-registering an id replaces it."""
    _REGISTRY[id] = JobSpec(id, func, trigger, trigger_args)


def registered_jobs() -> list[JobSpec]:
    return list(_REGISTRY.values())


def lock_key(base: int, job_id: str) -> int:
    return base * 1_000_003 + zlib.crc32(job_id.encode()) % 1_000_003


@contextmanager
def leader_lock(db: Database, key: int, lock_dir: Path):
    """Yields True when this process holds the lock for `key`, False when another one does."""
    if db.dialect == "postgresql":
        with db.engine.connect() as conn:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            conn.commit()
            try:
                yield bool(got)
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
        return
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"job-{key}.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class AppScheduler:
    def __init__(self, db: Database, settings, jobs: list[JobSpec] | None = None):
        self.db = db
        self.settings = settings
        self.jobs = jobs if jobs is not None else registered_jobs()
        self._scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
        self.runs: dict[str, dict] = {}

    def run_job(self, spec: JobSpec) -> bool:
        """Runs `spec` once if this process gets its leader lock. Returns whether it ran."""
        key = lock_key(self.settings.scheduler_leader_lock_id, spec.id)
        with leader_lock(self.db, key, Path(self.settings.data_dir) / "locks") as leader:
            if not leader:
                log.debug("job %s skipped: another process holds its lock", spec.id)
                return False
            t0 = time.perf_counter()
            try:
                result = spec.func(self.db, self.settings)
                self.runs[spec.id] = {"ok": True, "seconds": round(time.perf_counter() - t0, 3), "result": result}
            except Exception as exc:  # a failing job must not kill the scheduler thread
                log.exception("job %s failed", spec.id)
                self.runs[spec.id] = {"ok": False, "error": f"{exc.__class__.__name__}: {exc}"}
            return True

    def start(self) -> None:
        for spec in self.jobs:
            self._scheduler.add_job(self.run_job, spec.trigger, args=[spec], id=spec.id, **spec.trigger_args)
        self._scheduler.start()
        log.info("scheduler started with %d job(s): %s", len(self.jobs), ", ".join(s.id for s in self.jobs) or "-")

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
            log.info("scheduler stopped")

    @property
    def running(self) -> bool:
        return self._scheduler.running

    def describe(self) -> list[dict]:
        out = []
        for job in self._scheduler.get_jobs():
            nxt = job.next_run_time
            out.append({"id": job.id, "next_run": nxt.isoformat() if nxt else None, "last": self.runs.get(job.id)})
        return out
