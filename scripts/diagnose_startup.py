#!/usr/bin/env python
"""Checks everything the server needs before it starts, and says what to fix.

    python scripts/diagnose_startup.py          # readable table
    python scripts/diagnose_startup.py --json   # machine-readable
Exit code 0 only when every check passes. Uses the same settings (environment / .env) as the server.
TensorFlow is never imported unless a TensorFlow backend is configured.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# Memory the process needs with each model loaded (measured RSS, rounded up; see README "Figures").
MODEL_MEMORY_MB = {"sface": 250, "dlib": 300, "VGG-Face": 1200, "Facenet": 600, "Facenet512": 600, "ArcFace": 600}
BASE_PACKAGES = ("fastapi", "uvicorn", "sqlalchemy", "alembic", "psycopg", "apscheduler", "jwt", "pwdlib", "psutil",
                 "numpy", "PIL", "pydantic_settings", "multipart")
MODEL_PACKAGES = {"sface": ("cv2",), "dlib": ("dlib", "cv2"), "card": ("cv2", "onnxruntime", "deepface")}


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
    """The same rules as the server's "directories" step: DATA_DIR, its images/ and locks/ must be writable;
    MODELS_DIR is only read (it may be read-only, as in the Docker image)."""
    if settings is None:
        return _result("directories", False, "settings invalid", "")
    from server.startup import writable_dirs, writable_problem

    bad = [f"{d}: {problem}" for d in writable_dirs(settings) if (problem := writable_problem(d))]
    w = Path(settings.weights_dir)
    if w.exists() and (not w.is_dir() or not os.access(w, os.R_OK | os.X_OK)):
        bad.append(f"{w}: not a readable directory")
    return _result("directories", not bad, "; ".join(bad) or f"DATA_DIR={settings.data_dir} writable, "
                   f"MODELS_DIR={w} {'readable' if w.exists() else 'not created yet'}",
                   "set DATA_DIR to a writable path and MODELS_DIR to a readable one")


def check_database(settings):
    if settings is None:
        return [_result("database", False, "settings invalid", "")]
    from server.migrate import current_revision, head_revision
    from server.startup import StartupError, open_database

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
        head = head_revision()
        conn = _result("database", True, f"{db.dialect} at {shown}")
        if current == head:
            mig = _result("migrations", True, f"at head {head}")
        elif settings.auto_migrate:
            mig = _result("migrations", True, f"at {current or 'none'}, head {head}: AUTO_MIGRATE will upgrade")
        else:
            mig = _result("migrations", False, f"at {current or 'none'}, code needs {head}",
                          "run `python -m server.migrate` (or `alembic upgrade head`) or set AUTO_MIGRATE=true")
        return [conn, mig]
    finally:
        db.dispose()


def check_weights(settings):
    if settings is None:
        return _result("model_weights", False, "settings invalid", "")
    from server.faces.weights import missing_weights

    missing = missing_weights(settings.face_model, settings.weights_dir)
    return _result("model_weights", not missing,
                   f"missing in {settings.weights_dir}: {', '.join(missing)}" if missing
                   else f"{settings.face_model} weights present in {settings.weights_dir}",
                   f"run `python scripts/fetch_models.py{'' if settings.face_model in ('sface', 'dlib') else ' --model ' + settings.face_model}`")


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
