"""Alembic: upgrade → downgrade → upgrade on a real database, and the models match the migrations."""
from __future__ import annotations

import os
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import server.models  # noqa: F401
from server.database import Base, Database
from server.migrate import code_head, current_revision, downgrade, head_revision, upgrade
from tests.fixtures import ROOT


def test_upgrade_downgrade_upgrade(db):
    assert current_revision(db) == head_revision()
    downgrade(db, "base")
    assert current_revision(db) is None
    assert not (set(inspect(db.engine).get_table_names()) & set(Base.metadata.tables))
    upgrade(db)
    assert current_revision(db) == head_revision()
    assert set(Base.metadata.tables) <= set(inspect(db.engine).get_table_names())


def test_models_and_migrations_agree(db):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == []


def test_code_head_reads_the_files_as_alembic_does():
    assert code_head() == head_revision() is not None


def test_current_revision_of_a_database_without_alembic_version_is_none(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert current_revision(db) is None
    finally:
        db.dispose()


# A start of the whole app, then /status, in a fresh interpreter: which Alembic modules got imported.
_START = r"""
import sys
from fastapi.testclient import TestClient
from server.config import Settings
from server.main import create_app

with TestClient(create_app(Settings())) as c:
    ready, status = c.get("/ready"), c.get("/status").json()
print("READY", ready.status_code, status["database"]["revision"])
print("ALEMBIC", sorted(m for m in sys.modules if m.split(".")[0] in ("alembic", "mako")))
"""


def test_a_start_on_a_database_at_head_imports_no_alembic(empty_db_url, tmp_path, models_dir):
    """Alembic (~8.5 MB of RSS with mako and pygments) is loaded only to migrate: a replica starting on a database
    already at head, and its /status, read both revisions without it."""
    db = Database(empty_db_url)
    try:
        upgrade(db)
    finally:
        db.dispose()
    env = {k: v for k, v in os.environ.items() if k not in ("ADMIN_PASSWORD", "JWT_SECRET", "ENVIRONMENT")}
    env.update({"DATABASE_URL": empty_db_url, "DATA_DIR": str(tmp_path / "data"), "MODELS_DIR": str(models_dir),
                "SCHEDULER_ENABLED": "false"})
    p = subprocess.run([sys.executable, "-c", _START], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr[-3000:]
    assert f"READY 200 {head_revision()}" in p.stdout
    assert "ALEMBIC []" in p.stdout, p.stdout
