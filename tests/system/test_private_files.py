"""Biometric files are private (issue 16, item 3): the SQLite database with its -wal/-shm, DATA_DIR/images and what
is in it, and the JWT secret are created 0600/0700 from the first byte (the process umask), existing ones are fixed
at start, and scripts/diagnose_startup.py reports wrong modes while writing nothing itself."""
from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.people import ANN, enroll, photos  # noqa: F401
from tests.fixtures.api import admin_headers, create_user

ROOT = Path(__file__).resolve().parents[2]
DIAGNOSE = ROOT / "scripts" / "diagnose_startup.py"


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.lstat().st_mode)


@pytest.fixture
def loose_umask():
    """Starts the test with the usual 022 umask (files 0644), whatever an earlier app in this process set."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _sqlite_settings(settings_factory, data: Path, **kw):
    return settings_factory(None, data_dir=data, jwt_secret=None, **kw)  # database_url None: DATA_DIR/faceclock.db


def test_created_private_from_the_first_byte(settings_factory, tmp_path, loose_umask):
    from server.main import create_app

    data = tmp_path / "data"
    settings = _sqlite_settings(settings_factory, data, keep_enrollment_images=True)
    with TestClient(create_app(settings)) as c:
        admin = admin_headers(c)  # also writes DATA_DIR/jwt_secret (no JWT_SECRET given)
        ann = create_user(c, admin, code="ANN")
        enroll(c, admin, ann["id"], photos(ANN, 0))
        db = data / "faceclock.db"
        wal, shm = Path(f"{db}-wal"), Path(f"{db}-shm")
        assert wal.exists() and shm.exists()  # WAL mode, the server holds them open now
        for f in (db, wal, shm, data / "jwt_secret"):
            assert _mode(f) == 0o600, f
        images = data / "images"
        kept = [p for p in images.rglob("*") if p.is_file()]
        assert kept
        for p in [images, *images.rglob("*")]:
            assert _mode(p) == (0o700 if p.is_dir() else 0o600), p
        assert _mode(data) == 0o700


def test_existing_loose_files_are_fixed_at_start(settings_factory, tmp_path, loose_umask, caplog):
    from server.main import create_app

    data = tmp_path / "data"
    folder = data / "images" / "enrollment" / "7"
    folder.mkdir(parents=True)
    photo = folder / "old.jpg"
    photo.write_bytes(b"jpeg")
    db = data / "faceclock.db"
    sqlite3.connect(db).close()
    Path(f"{db}-wal").write_bytes(b"")  # left over from an unclean stop
    for p, mode in ((data / "images", 0o755), (folder, 0o775), (photo, 0o644), (db, 0o644),
                    (Path(f"{db}-wal"), 0o666)):
        p.chmod(mode)
    with TestClient(create_app(_sqlite_settings(settings_factory, data))) as c:
        assert c.get("/ready").status_code == 200
        assert _mode(db) == 0o600 and _mode(Path(f"{db}-shm")) == 0o600
        assert _mode(data / "images") == 0o700 and _mode(folder) == 0o700 and _mode(photo) == 0o600
    assert any(f"made {photo} private (mode 0644 -> 0600)" in r.getMessage() for r in caplog.records)


def _diagnose(env: dict, cwd: Path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATA_DIR", "MODELS_DIR", "JWT_SECRET")}
    return subprocess.run([sys.executable, str(DIAGNOSE), "--json"], env={**base, **env}, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def _tree(root: Path) -> dict:
    """Every path under root with its mode, size and modification time: what a write would change."""
    out = {}
    for p in [root, *root.rglob("*")]:
        st = p.lstat()
        out[str(p.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


def test_diagnose_without_data_dir_creates_nothing(tmp_path, models_dir):
    work = tmp_path / "cwd"
    work.mkdir()
    p = _diagnose({"MODELS_DIR": str(models_dir), "HOME": str(tmp_path / "home")}, work)
    assert p.returncode == 0, p.stdout + p.stderr
    checks = {c["check"]: c for c in json.loads(p.stdout)["checks"]}
    assert "not created yet" in checks["directories"]["detail"]
    assert "not created yet" in checks["database"]["detail"]
    assert list(work.iterdir()) == []  # no ./data, no ./data/locks, no faceclock.db
    assert not (tmp_path / "home").exists()


def test_diagnose_reports_loose_modes_and_changes_nothing(settings_factory, tmp_path, models_dir, loose_umask):
    from server.main import create_app

    data = tmp_path / "data"
    settings = _sqlite_settings(settings_factory, data)
    with TestClient(create_app(settings)) as c:  # a real DATA_DIR: migrated database, secret, images/
        admin_headers(c)
    db = data / "faceclock.db"
    db.chmod(0o644)
    (data / "images").chmod(0o755)
    before = _tree(data)
    p = _diagnose({"DATA_DIR": str(data), "MODELS_DIR": str(models_dir)}, tmp_path)
    assert p.returncode == 1, p.stdout
    checks = {c["check"]: c for c in json.loads(p.stdout)["checks"]}
    modes = checks["file_modes"]
    assert not modes["ok"]
    assert f"{db} is 0644" in modes["detail"] and f"{data / 'images'} is 0755" in modes["detail"]
    assert "chmod" in modes["fix"]
    assert checks["migrations"]["ok"] and checks["migrations"]["detail"].startswith("at head")
    assert _tree(data) == before  # nothing created, nothing touched (no -wal/-shm, no locks, no chmod)
    db.chmod(0o600)
    (data / "images").chmod(0o700)
    p = _diagnose({"DATA_DIR": str(data), "MODELS_DIR": str(models_dir)}, tmp_path)
    assert p.returncode == 0, p.stdout


def test_diagnose_reads_a_database_a_running_server_holds(settings_factory, tmp_path, models_dir):
    from server.main import create_app

    data = tmp_path / "data"
    with TestClient(create_app(_sqlite_settings(settings_factory, data))):  # holds the -wal/-shm open
        p = _diagnose({"DATA_DIR": str(data), "MODELS_DIR": str(models_dir)}, tmp_path)
    assert p.returncode == 0, p.stdout
    checks = {c["check"]: c for c in json.loads(p.stdout)["checks"]}
    assert checks["migrations"]["detail"].startswith("at head")
