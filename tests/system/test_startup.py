"""Lifespan order, migrations switch, and clear failures for a bad database or a read-only DATA_DIR."""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.main import create_app
from server.startup import StartupError
from tests.fixtures import ROOT
from tests.fixtures.files import read_only_directory


def test_steps_run_once_in_order_and_are_logged(settings, caplog):
    caplog.set_level(logging.INFO, logger="faceclock.startup")
    app = create_app(settings)
    with TestClient(app):
        pass
    done = [r.getMessage().split()[2] for r in caplog.records if r.getMessage().startswith("startup step")]
    assert done == ["settings", "directories", "migrations", "face_engine", "gallery", "seeds", "scheduler"]
    assert "startup step scheduler skipped: SCHEDULER_ENABLED=false" in caplog.messages
    assert sum(" done in " in m for m in caplog.messages if m.startswith("startup step")) == 6


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
    with pytest.raises(StartupError, match="cannot connect to the database .*127.0.0.1:1.*Connection refused.* "
                                           "Check DATABASE_URL and that the server is running"):
        with TestClient(create_app(settings)):
            pass


@pytest.mark.parametrize("where", ["data_dir_itself", "parent_of_data_dir"])
def test_read_only_data_dir_is_named(settings_factory, db_url, tmp_path, where):
    ro = tmp_path / "ro"
    (ro / "data").mkdir(parents=True)
    target = ro / "data" if where == "data_dir_itself" else ro
    data_dir = ro / "data" if where == "data_dir_itself" else ro / "new-data"
    with read_only_directory(target):
        app = create_app(settings_factory(db_url, data_dir=data_dir))
        with pytest.raises(StartupError, match=f"directory {data_dir}.* is not writable .*set DATA_DIR"):
            with TestClient(app):
                pass
    assert app.state.startup.steps["directories"]["ok"] is False


def test_read_only_models_dir_starts_and_is_ready(settings_factory, db_url, tmp_path, models_dir):
    """The Docker image: weights provisioned at build time in a MODELS_DIR the (non-root) user cannot write."""
    from server.faces.loader import reset_engine

    ro_models = tmp_path / "models"
    shutil.copytree(models_dir, ro_models)
    reset_engine()
    try:
        with read_only_directory(ro_models):
            settings = settings_factory(db_url, models_dir=ro_models)
            with TestClient(create_app(settings)) as c:
                r = c.get("/ready")
                assert r.status_code == 200, r.text
            assert not list(ro_models.glob(".write-test-*"))
    finally:
        reset_engine()


def test_models_dir_that_cannot_be_created_keeps_ready_503(settings_factory, db_url, tmp_path):
    from server.faces.loader import reset_engine

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    reset_engine()
    try:
        with TestClient(create_app(settings_factory(db_url, models_dir=blocker / "models"))) as c:
            r = c.get("/ready")
            assert r.status_code == 503
            assert r.json()["checks"]["directories"] == "ok"
            assert "fetch_models.py" in r.json()["checks"]["face_engine"]
    finally:
        reset_engine()


@pytest.mark.parametrize("url, message", [
    ("foo", "DATABASE_URL 'foo' is not a database URL"),
    ("mysql://user:secret@db.example/x", r"DATABASE_URL mysql://user:\*\*\*@db.example/x: the 'mysql' database"),
    ("postgresql+asyncpg://u:p@localhost/x", "DATABASE_URL .*: its database driver is not available"),
    ("postgresql+psycopg://u:secret@h:notaport/x", r"DATABASE_URL 'postgresql\+psycopg://u:\*\*\*@h:notaport/x' is"),
])
def test_malformed_database_url_is_one_line_naming_it(settings_factory, url, message):
    app = create_app(settings_factory(url))
    with pytest.raises(StartupError, match=message) as info:
        with TestClient(app):
            pass
    assert "\n" not in str(info.value) and "secret" not in str(info.value)
    assert app.state.startup.steps["directories"]["ok"] is True  # the steps before it ran


def _serve(env_overrides: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    """uvicorn as run.sh starts it, in a subprocess; returns when it exits (a refused start exits at once)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "JWT_SECRET", "ENVIRONMENT")}
    env.update({"DATA_DIR": str(tmp_path / "data"), "SCHEDULER_ENABLED": "false", **env_overrides})
    return subprocess.run([sys.executable, "-m", "uvicorn", "--factory", "server.main:app_factory",
                           "--host", "127.0.0.1", "--port", "0"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_served_start_with_malformed_url_ends_with_the_reason_not_a_traceback(tmp_path):
    p = _serve({"DATABASE_URL": "foo"}, tmp_path)
    assert p.returncode != 0
    assert "Traceback" not in p.stderr, p.stderr
    errors = [line for line in p.stderr.splitlines() if line.startswith("ERROR:")]
    assert errors[0] == ("ERROR:    startup step 'migrations' failed: DATABASE_URL 'foo' is not a database URL; use "
                         "e.g. postgresql+psycopg://user:pass@host:5432/db or sqlite:////path/to/file.db"), p.stderr


def test_production_without_jwt_secret_is_refused_at_start(settings_factory, db_url):
    app = create_app(settings_factory(db_url, environment="production", jwt_secret=None))
    with pytest.raises(StartupError, match="startup step 'settings' failed: JWT_SECRET must be set when "
                                           "ENVIRONMENT=production"):
        with TestClient(app):
            pass
    assert "migrations" not in app.state.startup.steps  # nothing else was touched


def test_production_with_a_short_jwt_secret_is_refused(settings_factory, db_url):
    with pytest.raises(StartupError, match="JWT_SECRET is 31 bytes long; ENVIRONMENT=production needs at least 32"):
        with TestClient(create_app(settings_factory(db_url, environment="Production", jwt_secret="s" * 31))):
            pass


def test_production_with_a_good_secret_starts_and_logs_in(settings_factory, db_url):
    from tests.fixtures.api import admin_headers

    settings = settings_factory(db_url, environment="production", jwt_secret="p" * 32)
    with TestClient(create_app(settings)) as c:
        assert c.get("/ready").status_code == 200
        assert c.get("/api/v1/users/me", headers=admin_headers(c)).status_code == 200


def test_served_start_in_production_without_secret_names_it(tmp_path, db_url):
    p = _serve({"DATABASE_URL": db_url, "ENVIRONMENT": "production"}, tmp_path)
    assert p.returncode != 0
    assert "ERROR:    startup step 'settings' failed: JWT_SECRET must be set when ENVIRONMENT=production" in p.stderr
    assert "Traceback" not in p.stderr


def test_data_dir_that_is_a_file_is_named(settings_factory, db_url, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StartupError, match="not writable"):
        with TestClient(create_app(settings_factory(db_url, data_dir=blocker))):
            pass


def test_missing_card_weights_name_the_close_offline_model(settings_factory, db_url, tmp_path, caplog):
    """Facenet512 without its (downloaded) weights: /ready and the log name fetch_models.py and the offline FaceNet."""
    from server.faces.loader import reset_engine

    reset_engine()
    try:
        settings = settings_factory(db_url, models_dir=tmp_path / "empty-models", face_model="Facenet512")
        with caplog.at_level("ERROR"), TestClient(create_app(settings)) as c:
            r = c.get("/ready")
            assert r.status_code == 503
            msg = r.json()["checks"]["face_engine"]
            assert "fetch_models.py --model Facenet512" in msg and "FACE_MODEL=facenet is close to Facenet512" in msg
        assert any("FACE_MODEL=facenet is close to Facenet512" in rec.getMessage() for rec in caplog.records)
    finally:
        reset_engine()


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
