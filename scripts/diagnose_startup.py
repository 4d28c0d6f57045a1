#!/usr/bin/env python
"""Checks everything the server needs before it starts, and says what to fix.

    python scripts/diagnose_startup.py          # readable table
    python scripts/diagnose_startup.py --json   # machine-readable
Exit code 0 only when every check passes. Uses the same settings (environment / .env) as the server.
TensorFlow is never imported unless a TensorFlow backend is configured.

A diagnosis writes nothing: no directory is created or write-tested (permissions are read), a SQLite database is
opened read-only (and not at all when it does not exist yet), and no bytecode is cached.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # a diagnosis writes nothing, not even __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# Memory the process needs with each model loaded (measured RSS, rounded up; see README "Figures").
MODEL_MEMORY_MB = {"sface": 250, "dlib": 300, "facenet": 500, "VGG-Face": 1200, "Facenet": 600, "Facenet512": 600,
                   "ArcFace": 600}
BASE_PACKAGES = ("fastapi", "uvicorn", "sqlalchemy", "alembic", "psycopg", "apscheduler", "jwt", "pwdlib", "psutil",
                 "numpy", "PIL", "pydantic_settings", "multipart")
MODEL_PACKAGES = {"sface": ("cv2",), "dlib": ("dlib", "cv2"), "facenet": ("cv2",),
                  "card": ("cv2", "onnxruntime", "deepface")}


def _result(name, ok, detail, fix=""):
    return {"check": name, "ok": bool(ok), "detail": detail, "fix": fix}


def check_python():
    v = sys.version_info
    return _result("python", v >= (3, 11), f"{v.major}.{v.minor}.{v.micro}", "install Python 3.11 or newer")


def check_settings():
    try:
        from server.config import Settings

        s = Settings()
    except Exception as exc:
        return None, _result("settings", False, f"invalid environment: {exc}".replace("\n", " "),
                             "fix the environment variables named above (see README, Configuration)")
    problems = []
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(s.default_timezone)
    except Exception:
        problems.append(f"DEFAULT_TIMEZONE={s.default_timezone!r} is not an IANA zone")
    from server.auth.tokens import secret_problem, secret_warning

    jwt_problem = secret_problem(s) or secret_warning(s)
    if jwt_problem:
        problems.append(jwt_problem)
    try:
        from server.faces.weights import canonical_model

        canonical_model(s.face_model)
    except ValueError as exc:
        problems.append(str(exc))
    return s, _result("settings", not problems, "; ".join(problems) or f"FACE_MODEL={s.face_model}, "
                      f"ENVIRONMENT={s.environment}", "set the variables named above")


def check_packages(settings):
    from server.faces.weights import CARD_MODELS, canonical_model

    names = list(BASE_PACKAGES)
    model = canonical_model(settings.face_model) if settings else "sface"
    names += MODEL_PACKAGES["card" if model in CARD_MODELS else model]
    tf_wanted = os.environ.get("DEEPFACE_BACKEND_ENGINE", "onnx") != "onnx" and model in CARD_MODELS
    if model in CARD_MODELS:
        os.environ.setdefault("DEEPFACE_BACKEND_ENGINE", "onnx")
    missing = []
    for n in names:
        try:
            importlib.import_module(n)
        except Exception as exc:
            missing.append(f"{n} ({exc.__class__.__name__})")
    tf_loaded = "tensorflow" in sys.modules
    if tf_loaded and not tf_wanted:
        missing.append("tensorflow was imported although no TensorFlow model is configured")
    return _result("packages", not missing, ", ".join(missing) or f"{len(names)} importable, TensorFlow not loaded",
                   "run ./run.sh (it installs the project into .venv)")


def check_directories(settings):
    """The same rules as the server's "directories" step, read from the permissions instead of tried: DATA_DIR, its
    images/ and locks/ must be writable or creatable; MODELS_DIR is only read (it may be read-only, as in Docker)."""
    if settings is None:
        return _result("directories", False, "settings invalid", "")
    from server.startup import access_problem, writable_dirs

    bad = [f"{d}: {problem}" for d in writable_dirs(settings) if (problem := access_problem(d))]
    w = Path(settings.weights_dir)
    if w.exists() and (not w.is_dir() or not os.access(w, os.R_OK | os.X_OK)):
        bad.append(f"{w}: not a readable directory")
    data = Path(settings.data_dir)
    return _result("directories", not bad, "; ".join(bad) or f"DATA_DIR={data} "
                   f"{'writable' if data.exists() else 'not created yet (the server creates it)'}, "
                   f"MODELS_DIR={w} {'readable' if w.exists() else 'not created yet'}",
                   "set DATA_DIR to a writable path and MODELS_DIR to a readable one")


def check_file_modes(settings):
    """Face templates, kept photos and the JWT secret must be private (the server fixes them at its next start)."""
    if settings is None:
        return _result("file_modes", False, "settings invalid", "")
    from server.private_files import mode_problems

    bad = mode_problems(settings)
    files = [str(p) for p, _ in bad if not p.is_dir()]
    dirs = [str(p) for p, _ in bad if p.is_dir()]
    fix = " and ".join(x for x in (f"chmod go-rwx {' '.join(files[:5])}{' ...' if len(files) > 5 else ''}" if files
                                   else "", f"chmod -R go-rwx {' '.join(dirs[:1])}" if dirs else "") if x)
    return _result("file_modes", not bad,
                   "; ".join(f"{p} is {mode:04o} (readable by group/others)" for p, mode in bad[:10])
                   + (f"; and {len(bad) - 10} more" if len(bad) > 10 else "")
                   or "database, images and JWT key file readable by their owner only",
                   f"start the server once (it makes them private) or run {fix}")


def _sqlite_revision(path: Path) -> str | None:
    """alembic_version of an existing SQLite file, read-only. Without -wal and -shm files (no server has it open,
    everything checkpointed) it is opened immutable, which creates nothing; otherwise read-only, which uses the
    existing -wal/-shm."""
    import sqlite3

    immutable = not Path(f"{path}-wal").exists() and not Path(f"{path}-shm").exists()
    uri = f"{path.absolute().as_uri()}?{'immutable=1' if immutable else 'mode=ro'}"
    conn = sqlite3.connect(uri, uri=True, timeout=5)
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'").fetchone():
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None
    finally:
        conn.close()


def _migrations_result(settings, current, head):
    if current == head:
        return _result("migrations", True, f"at head {head}")
    if settings.auto_migrate:
        return _result("migrations", True, f"at {current or 'none'}, head {head}: AUTO_MIGRATE will upgrade")
    return _result("migrations", False, f"at {current or 'none'}, code needs {head}",
                   "run `python -m server.migrate` (or `alembic upgrade head`) or set AUTO_MIGRATE=true")


def check_database(settings):
    if settings is None:
        return [_result("database", False, "settings invalid", "")]
    from server.migrate import current_revision, head_revision
    from server.private_files import sqlite_path
    from server.startup import StartupError, open_database

    path = sqlite_path(settings)
    if path is not None:  # never through the server's engine: its connect hook switches the file to WAL (a write)
        if not path.exists():
            return [_result("database", True, f"sqlite at {path}: not created yet (the server creates it)"),
                    _migrations_result(settings, None, head_revision())]
        try:
            current = _sqlite_revision(path)
        except Exception as exc:
            return [_result("database", False, f"sqlite at {path}: {exc}", "check DATABASE_URL and the file"),
                    _result("migrations", False, "database unreadable", "")]
        return [_result("database", True, f"sqlite at {path}"), _migrations_result(settings, current, head_revision())]
    try:
        db = open_database(settings)
    except StartupError as exc:
        return [_result("database", False, str(exc), "set DATABASE_URL to a postgresql+psycopg:// or sqlite:/// URL"),
                _result("migrations", False, "no usable database", "")]
    shown = db.engine.url.render_as_string(hide_password=True)
    try:
        try:
            current = current_revision(db)
        except Exception as exc:
            msg = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            return [_result("database", False, f"{shown}: {msg}",
                            "check DATABASE_URL and that the database server runs"),
                    _result("migrations", False, "database unreachable", "")]
        return [_result("database", True, f"{db.dialect} at {shown}"),
                _migrations_result(settings, current, head_revision())]
    finally:
        db.dispose()


def check_weights(settings):
    if settings is None:
        return _result("model_weights", False, "settings invalid", "")
    from server.faces.weights import DEFAULT_OFFLINE, canonical_model, close_offline_hint, missing_weights

    missing = missing_weights(settings.face_model, settings.weights_dir)
    key = canonical_model(settings.face_model)
    hint = close_offline_hint(key)
    fix = f"run `python scripts/fetch_models.py{'' if key in DEFAULT_OFFLINE else ' --model ' + key}`"
    return _result("model_weights", not missing,
                   f"missing in {settings.weights_dir}: {', '.join(missing)}" if missing
                   else f"{settings.face_model} weights present in {settings.weights_dir}",
                   fix + (f" (needs internet); or: {hint}" if hint else ""))


def _memory_limit_mb() -> float | None:
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            raw = Path(path).read_text().strip()
        except OSError:
            continue
        if raw.isdigit() and int(raw) < 1 << 60:
            return int(raw) / 2**20
    return None


def check_memory(settings):
    import psutil

    from server.faces.weights import canonical_model

    model = canonical_model(settings.face_model) if settings else "sface"
    need = MODEL_MEMORY_MB.get(model, 600) * max(1, settings.workers if settings else 1)
    avail = psutil.virtual_memory().available / 2**20
    limit = _memory_limit_mb()
    have = min(avail, limit) if limit else avail
    return _result("memory", have >= need, f"need ~{need} MB for {model} x{settings.workers if settings else 1} "
                   f"worker(s), available {have:.0f} MB" + (f" (cgroup limit {limit:.0f} MB)" if limit else ""),
                   "give the container more memory or use fewer WORKERS")


def run_checks() -> list[dict]:
    results = [check_python()]
    settings, res = check_settings()
    results.append(res)
    results.append(check_packages(settings))
    results.append(check_directories(settings))
    results.append(check_file_modes(settings))
    results += check_database(settings)
    results.append(check_weights(settings))
    results.append(check_memory(settings))
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args(argv)
    results = run_checks()
    ok = all(r["ok"] for r in results)
    if args.json:
        print(json.dumps({"ok": ok, "checks": results}, indent=2))
    else:
        width = max(len(r["check"]) for r in results)
        for r in results:
            line = f"{'PASS' if r['ok'] else 'FAIL'}  {r['check']:<{width}}  {r['detail']}"
            if not r["ok"] and r["fix"]:
                line += f"\n      {'':<{width}}  -> {r['fix']}"
            print(line)
        print("all checks passed" if ok else "some checks FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
