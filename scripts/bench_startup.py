#!/usr/bin/env python
"""Time from `./run.sh` start to /ready = 200, and process RSS at ready, as JSON.

    python scripts/bench_startup.py [--database-url URL] [--runs 3]
The venv must already be installed (run ./run.sh once). Each run uses a fresh DATA_DIR (new SQLite file) unless
--database-url is given, and stops the server after it is ready.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 1.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, None
    except OSError:
        return None, None


def one_run(database_url: str | None, models_dir: str) -> dict:
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="faceclock-bench-")
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "DATA_DIR": data_dir, "MODELS_DIR": models_dir,
           "ADMIN_PASSWORD": "bench-password-1", "LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(ROOT / "run.sh")], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
            status, _ = get(f"http://127.0.0.1:{port}/ready", timeout=0.5)
            if status == 200:
                break
            if time.perf_counter() - t0 > 120:
                raise RuntimeError("not ready after 120 s")
            time.sleep(0.05)
        ready_s = time.perf_counter() - t0
        _, st = get(f"http://127.0.0.1:{port}/status")
        return {"ready_seconds": round(ready_s, 3), "rss_mb": st["rss_mb"], "dialect": st["database"]["dialect"],
                "models": st["models"], "startup_steps": {k: v["seconds"] for k, v in st["startup"].items()},
                "rss_mb_before_face_model": st["startup"]["migrations"]["rss_mb_after"]}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", default=None, help="PostgreSQL URL (default: fresh embedded SQLite)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--models-dir", default=str(ROOT / "data" / "models"))
    args = ap.parse_args()
    runs = [one_run(args.database_url, args.models_dir) for _ in range(args.runs)]
    print(json.dumps({
        "runs": runs,
        "ready_seconds_median": statistics.median(r["ready_seconds"] for r in runs),
        "rss_mb_median": statistics.median(r["rss_mb"] for r in runs),
        "rss_mb_before_face_model_median": statistics.median(r["rss_mb_before_face_model"] for r in runs),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }, indent=2))


if __name__ == "__main__":
    main()
