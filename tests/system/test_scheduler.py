"""Scheduler: jobs registered by domains, started last, stopped cleanly; one runner per job across processes."""
from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient

from server.database import Database
from server.main import create_app
from server.scheduler import AppScheduler, JobSpec


def _two_schedulers_race(url_a: str, url_b: str, settings) -> list[str]:
    """Two schedulers (separate engines, like two processes) fire the same job at once; returns who ran it."""
    ran: list[str] = []
    entered = threading.Event()

    def job(db, _settings):
        ran.append(db.url)
        entered.set()
        time.sleep(0.5)

    db_a, db_b = Database(url_a), Database(url_b)
    a, b = AppScheduler(db_a, settings, []), AppScheduler(db_b, settings, [])
    spec = JobSpec("race", job, "interval", {"seconds": 3600})
    results = {}
    t = threading.Thread(target=lambda: results.setdefault("a", a.run_job(spec)))
    t.start()
    assert entered.wait(5)
    results["b"] = b.run_job(spec)
    t.join()
    db_a.dispose()
    db_b.dispose()
    assert results == {"a": True, "b": False}
    return ran


def test_only_one_of_two_schedulers_runs_a_job_on_postgres(pg_url, settings_factory):
    ran = _two_schedulers_race(pg_url, pg_url, settings_factory(pg_url))
    assert len(ran) == 1


def test_only_one_of_two_schedulers_runs_a_job_on_sqlite(tmp_path, settings_factory):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    ran = _two_schedulers_race(url, url, settings_factory(url))
    assert len(ran) == 1


def test_lock_is_released_after_a_run(db, settings):
    calls = []
    sched = AppScheduler(db, settings, [])
    spec = JobSpec("twice", lambda d, s: calls.append(1), "interval", {"seconds": 3600})
    assert sched.run_job(spec) and sched.run_job(spec)
    assert len(calls) == 2


def test_failing_job_is_recorded_not_raised(db, settings):
    sched = AppScheduler(db, settings, [])

    def boom(d, s):
        raise ValueError("nope")

    assert sched.run_job(JobSpec("boom", boom, "interval", {"seconds": 60}))
    assert sched.runs["boom"] == {"ok": False, "error": "ValueError: nope"}


def test_scheduler_starts_last_lists_jobs_and_stops(settings_factory, db_url):
    app = create_app(settings_factory(db_url, scheduler_enabled=True))
    with TestClient(app) as c:
        status = c.get("/status").json()["scheduler"]
        assert status["enabled"] and status["running"]
        assert status["jobs"], "domains register jobs"
        assert all(j["next_run"] for j in status["jobs"])
        scheduler = app.state.scheduler
    assert not scheduler.running


def test_scheduler_disabled(client):
    s = client.get("/status").json()["scheduler"]
    assert s == {"enabled": False, "running": False, "jobs": []}


def test_a_job_interval_follows_the_apps_settings(db, settings_factory, db_url):
    """Regression: attendance/jobs read CLOSE_DAY_INTERVAL_MINUTES from the global settings at import, so an app
    started with other settings kept the default interval."""
    from datetime import timedelta

    import server.jobs  # noqa: F401  (the domains register their jobs)
    from server.scheduler import registered_jobs

    jobs = [j for j in registered_jobs() if j.id == "attendance.close_days"]
    scheduler = AppScheduler(db, settings_factory(db_url, close_day_interval_minutes=7), jobs)
    scheduler.start()
    try:
        assert scheduler._scheduler.get_job("attendance.close_days").trigger.interval == timedelta(minutes=7)
    finally:
        scheduler.shutdown()
