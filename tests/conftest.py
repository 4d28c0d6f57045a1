"""Test fixtures: a real, freshly migrated database per test (SQLite always, PostgreSQL when TEST_DATABASE_URL is set)
and the real app over HTTP (FastAPI TestClient running the whole lifespan).

Isolation is a fresh database per test: SQLite copies a migrated template file; PostgreSQL creates a database from a
migrated template database (CREATE DATABASE ... TEMPLATE), dropped after the test. Commits are real, so concurrency,
scheduler and multi-worker tests see what production would.
"""
from __future__ import annotations

import itertools
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from server.config import Settings
from server.database import Database

from tests.fixtures import ADMIN_PASSWORD, ROOT

# The shared fixtures of every folder (tests/fixtures/__init__.py); helpers are imported from those modules.
pytest_plugins = ["tests.fixtures.world", "tests.fixtures.live"]

PG_URL = os.environ.get("TEST_DATABASE_URL")
_counter = itertools.count()


def _backends():
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """Weights provisioned once (scripts/fetch_models.py's code; the offline FaceNet too, so that its engine is tested
    for real); MODELS_DIR wins when set."""
    if os.environ.get("MODELS_DIR"):
        return Path(os.environ["MODELS_DIR"])
    d = ROOT / "data" / "models"
    from server.faces.provisioning import provision_offline

    provision_offline(d, log=lambda *a: None, models=("sface", "dlib", "facenet"))
    return d


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    from server.migrate import upgrade

    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_template():
    from server.migrate import upgrade

    db = Database(PG_URL)
    upgrade(db)
    db.dispose()
    return make_url(PG_URL)


def _pg_admin_engine(url):
    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


@contextmanager
def _pg_database(base, *, migrated: bool):
    """A new PostgreSQL database, cloned from the migrated template or empty; dropped on exit."""
    name = f"{base.database}_{'t' if migrated else 'e'}{os.getpid()}_{next(_counter)}"
    admin = _pg_admin_engine(base)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{base.database}"' if migrated else "")))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def fresh_pg_database(base):
    """A new PostgreSQL database cloned from the migrated template; dropped on exit."""
    return _pg_database(base, migrated=True)


def empty_pg_database(base):
    """A new, empty (not migrated) PostgreSQL database; dropped on exit."""
    return _pg_database(base, migrated=False)


@pytest.fixture(params=_backends())
def empty_db_url(request, tmp_path) -> str:
    """URL of a fresh database with no tables at all (what a first start meets)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with empty_pg_database(make_url(PG_URL)) as url:
        yield url


@pytest.fixture(params=_backends())
def db_url(request, tmp_path) -> str:
    """URL of a fresh, migrated, empty database for this test."""
    if request.param == "sqlite":
        template = request.getfixturevalue("_sqlite_template")
        target = tmp_path / "test.db"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    with fresh_pg_database(request.getfixturevalue("_pg_template")) as url:
        yield url


@pytest.fixture
def pg_url(request):
    """A fresh PostgreSQL database (skips when TEST_DATABASE_URL is not set)."""
    if not PG_URL:
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    with fresh_pg_database(request.getfixturevalue("_pg_template")) as url:
        yield url


@pytest.fixture
def db(db_url) -> Database:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def settings_factory(tmp_path, models_dir):
    def make(db_url: str, **overrides) -> Settings:
        values = dict(
            environment="test",
            data_dir=tmp_path / "data",
            models_dir=models_dir,
            database_url=db_url,
            scheduler_enabled=False,
            admin_email="admin@example.com",
            admin_password=ADMIN_PASSWORD,
            jwt_secret="test-secret-that-is-long-enough-for-hs256",
        )
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def settings(settings_factory, db_url) -> Settings:
    return settings_factory(db_url)


@pytest.fixture
def app(settings):
    from server.main import create_app

    return create_app(settings)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c
