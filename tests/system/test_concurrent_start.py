"""Several workers starting at once on a fresh database (docker-compose runs WORKERS=2): migrations and seeds are
serialised across processes, so every worker starts, the schema is created once, and there is one admin."""
from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import func, select

from server.database import Database
from server.migrate import current_revision, head_revision
from server.shifts.models import Shift
from server.users.models import Role, User
from tests.fixtures import ROOT

WORKERS = 3

# One "worker": builds the app, waits at a file barrier until every worker is ready, then runs the whole lifespan.
_WORKER = r"""
import os, sys, time
from pathlib import Path
from fastapi.testclient import TestClient
from server.config import Settings
from server.main import configure_logging, create_app

configure_logging("INFO")
app = create_app(Settings())
barrier = Path(os.environ["BARRIER_DIR"])
(barrier / f"ready-{os.getpid()}").touch()
deadline = time.time() + 60
while len(list(barrier.glob("ready-*"))) < int(os.environ["BARRIER_N"]) and time.time() < deadline:
    time.sleep(0.002)
with TestClient(app) as c:
    r = c.get("/ready")
    print("READY", r.status_code, r.text, flush=True)
sys.exit(0 if r.status_code == 200 else 1)
"""


def test_concurrent_first_starts_all_succeed_with_one_admin(empty_db_url, tmp_path, models_dir):
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("ADMIN_PASSWORD", "JWT_SECRET", "ENVIRONMENT")}
    env.update({"DATABASE_URL": empty_db_url, "DATA_DIR": str(tmp_path / "data"), "MODELS_DIR": str(models_dir),
                "SCHEDULER_ENABLED": "false", "BARRIER_DIR": str(barrier), "BARRIER_N": str(WORKERS),
                "LOG_LEVEL": "INFO"})
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(WORKERS)]
    outputs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, out + err[-3000:]
        assert "READY 200" in out
    logs = "".join(err for _, err in outputs)
    assert logs.count("created first admin") == 1, logs[-3000:]
    assert logs.count("generated password") == 1
    assert logs.count("  password  ") == 1  # the start-up banner of the worker that created the admin
    db = Database(empty_db_url)
    try:
        assert current_revision(db) == head_revision()
        with db.session() as s:
            assert sorted(s.scalars(select(Role.name))) == ["admin", "employee", "manager"]
            assert s.scalar(select(func.count()).select_from(Shift)) == 2
            assert s.scalar(select(func.count()).select_from(User)) == 1
            assert s.scalar(select(User.role)) == "admin"
    finally:
        db.dispose()
