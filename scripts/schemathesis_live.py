#!/usr/bin/env python3
"""Schemathesis against the OpenAPI schema of a live server: every operation, generated valid and invalid inputs,
one check — no 5xx (`not_a_server_error`).

    python scripts/schemathesis_live.py --start [--max-examples 50] [--max-time 600]
    python scripts/schemathesis_live.py --url http://127.0.0.1:8000 --admin-password ...

The run authenticates as the admin (Bearer token) and as a kiosk (X-Device-Key of a device it creates), so the
generated requests reach the handlers instead of stopping at 401. Reports (JUnit + the failing requests as pytest
code) go to test-artifacts/schemathesis/. Exit status is schemathesis's (0 = no server error found).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_server import ADMIN_PASSWORD, ROOT, Api, LiveServer  # noqa: E402

REPORTS = ROOT / "test-artifacts" / "schemathesis"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url")
    p.add_argument("--start", action="store_true", help="start a server of this checkout (fresh SQLite, temp dir)")
    p.add_argument("--admin-email", default="admin@example.com")
    p.add_argument("--admin-password", default=None)
    p.add_argument("--max-examples", type=int, default=50)
    p.add_argument("--max-time", type=int, default=None, help="time budget in seconds")
    p.add_argument("--workers", default="2")
    p.add_argument("--seed", type=int, default=20261125)
    a, extra = p.parse_known_args(argv)
    server = None
    if a.start:
        env = {"LOCKOUT_MAX_PER_CLIENT": "1000000", "LOCKOUT_MAX_PER_USER": "1000000",
               "ACCESS_TOKEN_MINUTES": "240"}
        server = LiveServer(Path(tempfile.mkdtemp(prefix="schemathesis-")), env=env).start()
        a.url, a.admin_password = server.url, a.admin_password or ADMIN_PASSWORD
    if not a.url or not a.admin_password:
        p.error("give --start, or --url with --admin-password")
    try:
        api = Api(a.url)
        token = api.login_admin(a.admin_email, a.admin_password)
        key = api.create_device("schemathesis")["api_key"]
        REPORTS.mkdir(parents=True, exist_ok=True)
        cmd = [str(Path(sys.executable).parent / "schemathesis"), "run", f"{a.url}/openapi.json",
               "--checks", "not_a_server_error", "--max-examples", str(a.max_examples), "--workers", a.workers,
               "--seed", str(a.seed), "--phases", "examples,coverage,fuzzing", "--request-timeout", "60",
               "-H", f"Authorization: Bearer {token}", "-H", f"X-Device-Key: {key}",
               # the run must not lock itself out: logging out / deleting the admin would turn the rest into 401s
               "--exclude-path", "/api/v1/auth/logout",
               "--report", "junit,pytest", "--report-dir", str(REPORTS), "--no-color", *extra]
        if a.max_time:
            cmd += ["--max-time", str(a.max_time)]
        print("$", " ".join(c if "Bearer" not in c and "Device-Key" not in c else c.split(":")[0] + ": ***"
                             for c in cmd), flush=True)
        rc = subprocess.call(cmd, env={**os.environ, "NO_COLOR": "1"})
    finally:
        if server:
            errors = [ln for ln in server.log_tail(100000).splitlines() if "unhandled error" in ln]
            print(f"server log: {len(errors)} unhandled errors" + ("".join("\n  " + e for e in errors[:20])))
            server.stop()
    return rc


if __name__ == "__main__":
    sys.exit(main())
