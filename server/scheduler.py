"""APScheduler setup with a single-leader guard per job run.

Domains register jobs with `register_job(...)` in their own `jobs.py`; `AppScheduler` starts them last in the
lifespan. Each run of a job first takes its lock (server/kit/locks.py: a PostgreSQL advisory lock, a file lock under
DATA_DIR for SQLite) so that, with several workers or replicas, only one runs it at a time. A run that does not get
the lock is skipped: another process is doing that work.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from apscheduler.schedulers.background import BackgroundScheduler

from server.config import Settings
from server.database import Database
from server.kit.locks import advisory_lock, lock_dir, lock_key

log = logging.getLogger("faceclock.scheduler")


@dataclass
class JobSpec:
    id: str
    func: Callable[..., object]  # called as func(db, settings)
    trigger: str  # "interval" | "cron"
    trigger_args: dict = field(default_factory=dict)  # a value may be a function of the app's Settings

    def args_for(self, settings: Settings) -> dict:
        return {k: v(settings) if callable(v) else v for k, v in self.trigger_args.items()}


_REGISTRY: dict[str, JobSpec] = {}


def register_job(id: str, func: Callable, trigger: str = "interval", **trigger_args) -> None:
    """Called by domains at import time of their jobs module. Re-registering an id replaces it. A trigger argument
    read from settings is given as a function of them (`minutes=lambda s: s.close_day_interval_minutes`): the
    scheduler applies it to the app's Settings when it starts, never to settings read at import."""
    _REGISTRY[id] = JobSpec(id, func, trigger, trigger_args)


def registered_jobs() -> list[JobSpec]:
    return list(_REGISTRY.values())


class AppScheduler:
    def __init__(self, db: Database, settings: Settings, jobs: list[JobSpec] | None = None):
        self.db = db
        self.settings = settings
        self.jobs = jobs if jobs is not None else registered_jobs()
        self._scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
        self.runs: dict[str, dict] = {}

    def run_job(self, spec: JobSpec) -> bool:
        """Runs `spec` once if this process gets its leader lock. Returns whether it ran."""
        key = lock_key(self.settings.scheduler_leader_lock_id, spec.id)
        with advisory_lock(self.db.engine, key, lock_dir(self.settings)) as leader:
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
            self._scheduler.add_job(self.run_job, spec.trigger, args=[spec], id=spec.id, **spec.args_for(self.settings))
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
