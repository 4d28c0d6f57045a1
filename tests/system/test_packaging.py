"""A non-editable install (`pip install .`, as the Dockerfile does) carries what the server needs at run time: the
migration revisions (migrated without alembic.ini, away from the source tree), the seeds and the kiosk page."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile

from tests.fixtures import ROOT

_CHECK = r"""
import json, sys
import server, seeds, migrations
from server.database import Database
from server.migrate import current_revision, head_revision, upgrade
from sqlalchemy import inspect

db = Database(sys.argv[1])
upgrade(db)
print(json.dumps({"server": server.__file__, "migrations": migrations.__file__, "head": head_revision(),
                  "current": current_revision(db), "tables": sorted(inspect(db.engine).get_table_names())}))
"""


def test_wheel_carries_migrations_and_migrates_without_the_source_tree(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for package in ("server", "seeds", "migrations"):
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "-w", str(wheels), str(src)], check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("faceclock-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    revisions = sorted(p.name for p in (ROOT / "migrations" / "versions").glob("*.py"))
    assert revisions and {f"migrations/versions/{r}" for r in revisions} <= names
    assert {"migrations/env.py", "migrations/script.py.mako", "seeds/__main__.py",
            "server/kiosk/static/index.html", "server/kiosk/static/kiosk-store.js", "server/web/static/i18n.js",
            "server/web/static/es.json"} <= names

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"  # no alembic.ini, no source tree on the path
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "DATA_DIR": str(tmp_path / "data")}
    p = subprocess.run([sys.executable, "-c", _CHECK, f"sqlite:///{tmp_path / 'packaged.db'}"], cwd=elsewhere,
                       env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    import json

    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["server"].startswith(str(site)) and out["migrations"].startswith(str(site))
    assert out["current"] == out["head"] is not None
    assert {"users", "roles", "face_templates", "alembic_version"} <= set(out["tables"])


def test_migrate_module_upgrades_a_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(tmp_path / "data")}
    p = subprocess.run([sys.executable, "-m", "server.migrate"], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    from server.database import Database
    from server.migrate import current_revision, head_revision

    db = Database(url)
    try:
        assert current_revision(db) == head_revision()
        assert p.stdout.strip() == f"database at revision {head_revision()}"
    finally:
        db.dispose()
    p = subprocess.run([sys.executable, "-m", "server.migrate"], cwd=ROOT, capture_output=True, text=True,
                       env={**env, "DATABASE_URL": "foo"}, timeout=120)
    assert p.returncode == 1 and p.stderr.startswith("migrate: DATABASE_URL 'foo' is not a database URL")
