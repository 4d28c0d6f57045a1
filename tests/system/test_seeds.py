"""Seeds: roles, default shifts, first admin; idempotent; never overwrite an admin's password."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from seeds import run_all
from server.users.passwords import verify_password
from server.database import Database
from server.shifts.models import Shift
from server.users.models import Role, User


def _snapshot(s):
    return (sorted(r.name for r in s.scalars(select(Role))),
            sorted((x.name, x.timezone, str(x.start_time), str(x.end_time)) for x in s.scalars(select(Shift))),
            sorted((u.email, u.role, u.password_hash) for u in s.scalars(select(User))))


def test_seeds_create_roles_shifts_admin_then_change_nothing(db, settings_factory, db_url):
    settings = settings_factory(db_url, default_timezone="Europe/Madrid")
    with db.session() as s:
        first = run_all(s, settings)
    assert first == {"roles": 3, "shifts": 2, "admin": "created"}
    with db.session() as s:
        before = _snapshot(s)
        assert before[0] == ["admin", "employee", "manager"]
        day, night = sorted(s.scalars(select(Shift)), key=lambda x: x.name)
        assert day.timezone == night.timezone == "Europe/Madrid"
        assert night.end_time < night.start_time  # overnight
    with db.session() as s:
        second = run_all(s, settings)
    assert second == {"roles": 0, "shifts": 0, "admin": None}
    with db.session() as s:
        assert _snapshot(s) == before


def test_generated_admin_password_is_given_once_and_works(db, settings_factory, db_url, caplog):
    caplog.set_level(logging.INFO, logger="faceclock.seeds")
    settings = settings_factory(db_url, admin_password=None)
    with db.session() as s:
        first = run_all(s, settings)
    with db.session() as s:
        second = run_all(s, settings)
    password = first["admin_password"]
    assert first["admin"] == "created" and len(password) >= 16
    assert second == {"roles": 0, "shifts": 0, "admin": None}
    assert password not in caplog.text  # the caller shows it (start-up banner, CLI output), never the log here
    with db.session() as s:
        admin = s.scalar(select(User).where(User.email == "admin@example.com"))
        assert verify_password(password, admin.password_hash)


def test_existing_admin_password_is_never_overwritten(db, settings_factory, db_url):
    with db.session() as s:
        run_all(s, settings_factory(db_url, admin_password="first-password-1"))
    with db.session() as s:
        run_all(s, settings_factory(db_url, admin_password="second-password-2"))
    with db.session() as s:
        admin = s.scalar(select(User).where(User.email == "admin@example.com"))
        assert verify_password("first-password-1", admin.password_hash)
        assert not verify_password("second-password-2", admin.password_hash)
        assert s.scalar(select(func.count()).select_from(User)) == 1


def test_seeds_cli(db_url, tmp_path):
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": db_url, "DATA_DIR": str(tmp_path), "ADMIN_PASSWORD": "cli-password-123"}
    out = subprocess.run([sys.executable, "-m", "seeds"], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"roles": 3, "shifts": 2, "admin": "created"}
    out = subprocess.run([sys.executable, "-m", "seeds"], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"roles": 0, "shifts": 0, "admin": None}


def test_seeds_cli_prints_a_generated_admin_password_once(db_url, tmp_path):
    import json
    import os
    import subprocess
    import sys

    env = {**{k: v for k, v in os.environ.items() if k != "ADMIN_PASSWORD"}, "DATABASE_URL": db_url,
           "DATA_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "seeds"], env=env, capture_output=True, text=True, check=True)
    first = json.loads(out.stdout.strip().splitlines()[-1])
    assert first["admin"] == "created" and len(first["admin_password"]) >= 16
    assert first["admin_password"] not in out.stderr
    db = Database(db_url)
    try:
        with db.session() as s:
            assert verify_password(first["admin_password"], s.scalar(select(User.password_hash)))
    finally:
        db.dispose()
    out = subprocess.run([sys.executable, "-m", "seeds"], env=env, capture_output=True, text=True, check=True)
    assert "admin_password" not in out.stdout


def test_short_admin_password_is_refused_when_the_admin_is_created(db, settings_factory, db_url):
    from seeds import SeedError

    with db.session() as s:
        with pytest.raises(SeedError, match="ADMIN_PASSWORD has 5 characters but PASSWORD_MIN_LENGTH is 10"):
            run_all(s, settings_factory(db_url, admin_password="short"))
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 0
        run_all(s, settings_factory(db_url, admin_password="long-enough-1"))
    with db.session() as s:  # an existing admin: ADMIN_PASSWORD is not used, so it is not checked either
        assert run_all(s, settings_factory(db_url, admin_password="short"))["admin"] is None


def test_short_admin_password_stops_the_start_with_a_clear_message(settings_factory, db_url):
    from fastapi.testclient import TestClient

    from server.main import create_app
    from server.startup import StartupError

    app = create_app(settings_factory(db_url, admin_password="abc123"))
    with pytest.raises(StartupError, match="startup step 'seeds' failed: ADMIN_PASSWORD has 6 characters but "
                                           "PASSWORD_MIN_LENGTH is 10"):
        with TestClient(app):
            pass


def test_seeds_cli_refuses_a_short_admin_password(db_url, tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": db_url, "DATA_DIR": str(tmp_path), "ADMIN_PASSWORD": "short"}
    p = subprocess.run([sys.executable, "-m", "seeds"], env=env, capture_output=True, text=True)
    assert p.returncode == 1
    assert p.stderr.strip().splitlines()[-1].startswith("seeds: ADMIN_PASSWORD has 5 characters")
    assert "Traceback" not in p.stderr


def test_a_row_inserted_by_another_process_is_skipped(db, settings_factory, db_url):
    """What a concurrent seeder sees: its check said "missing", but the row is there when it inserts."""
    from seeds import insert_if_absent
    from server.users.models import Role as RoleRow

    with db.session() as s:
        run_all(s, settings_factory(db_url))
    with db.session() as s:
        assert insert_if_absent(s, RoleRow(name="admin", description="again")) is False
        assert insert_if_absent(s, RoleRow(name="auditor", description="new")) is True
    with db.session() as s:
        assert sorted(s.scalars(select(RoleRow.name))) == ["admin", "auditor", "employee", "manager"]
