"""Lifespan order, migrations switch, and clear failures for a bad database or a read-only DATA_DIR."""
from __future__ import annotations

import logging
import os

import pytest
from fastapi.testclient import TestClient

from server.main import create_app
from server.startup import StartupError


def test_steps_run_once_in_order_and_are_logged(settings, caplog):
    caplog.set_level(logging.INFO, logger="faceclock.startup")
    app = create_app(settings)
    with TestClient(app):
        pass
    done = [r.getMessage().split()[2] for r in caplog.records if r.getMessage().startswith("startup step")]
    assert done == ["directories", "migrations", "face_engine", "gallery", "seeds", "scheduler"]
    assert "startup step scheduler skipped: SCHEDULER_ENABLED=false" in caplog.messages
    assert sum(" done in " in m for m in caplog.messages if m.startswith("startup step")) == 5


def test_auto_migrate_false_on_empty_database_fails_naming_the_command(settings_factory, tmp_path):
    settings = settings_factory(f"sqlite:///{tmp_path / 'empty.db'}", auto_migrate=False)
    with pytest.raises(StartupError, match="alembic upgrade head"):
        with TestClient(create_app(settings)):
            pass


def test_auto_migrate_false_at_head_starts(settings_factory, db_url):
    with TestClient(create_app(settings_factory(db_url, auto_migrate=False))) as c:
        assert c.get("/ready").status_code == 200


def test_unreachable_database_is_named(settings_factory):
    settings = settings_factory("postgresql+psycopg://nobody@127.0.0.1:1/nowhere", db_connect_timeout=2)
    with pytest.raises(StartupError, match="cannot connect to the database .*127.0.0.1:1"):
        with TestClient(create_app(settings)):
            pass


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere; permission bits do not apply")
def test_read_only_data_dir_is_named(settings_factory, db_url, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(StartupError, match="not writable"):
        with TestClient(create_app(settings_factory(db_url, data_dir=ro / "data"))):
            pass


def test_data_dir_that_is_a_file_is_named(settings_factory, db_url, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StartupError, match="not writable"):
        with TestClient(create_app(settings_factory(db_url, data_dir=blocker))):
            pass


def test_missing_model_weights_keep_ready_503_naming_the_script(settings_factory, db_url, tmp_path):
    from server.faces.loader import reset_engine

    reset_engine()
    try:
        settings = settings_factory(db_url, models_dir=tmp_path / "empty-models")
        with TestClient(create_app(settings)) as c:
            r = c.get("/ready")
            assert r.status_code == 503
            assert "fetch_models.py" in r.json()["checks"]["face_engine"]
            assert c.get("/health").status_code == 200
    finally:
        reset_engine()
