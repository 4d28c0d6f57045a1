#!/usr/bin/env python3
"""Schemathesis against the OpenAPI schema of a live server: every operation, generated valid and invalid inputs,
one check — no 5xx (`not_a_server_error`) — and no unhandled error in the server's log.

    python scripts/schemathesis_live.py --start [--max-examples 50] [--max-time 600]
    python scripts/schemathesis_live.py --url http://127.0.0.1:8000 --admin-password ... [--server-log FILE]

Credentials that cannot be locked out: the run creates its OWN admin (a fresh employee code, email and password,
logged in as the Bearer token) and its OWN kiosk device (X-Device-Key), so the generated requests reach the handlers
instead of stopping at 401. This file is also the run's schemathesis hooks module (SCHEMATHESIS_HOOKS): a
`filter_case` hook drops every generated request whose path targets those two ids (PATCH/DELETE of the admin,
erasing its faces, revoking the device, ...), and /api/v1/auth/logout is excluded. After the run the script checks
that the token and the key still work and that the admin is still an active admin: if not, the run locked itself
out and fails (a "no 5xx" over a sea of 401s proves nothing).

Exit status: 0 only when schemathesis found no server error, the server log (own server with --start, or
--server-log) has no unhandled error, and the credentials survived. Reports (JUnit + the failing requests as pytest
code) go to test-artifacts/schemathesis/; the summary (`summary.json` there, and printed) lists the failing
operations from the JUnit report and the unhandled errors from the log (exception and first line).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_server import ADMIN_PASSWORD, ROOT, Api, LiveServer  # noqa: E402

REPORTS = ROOT / "test-artifacts" / "schemathesis"
PROTECT_ENV = "FACECLOCK_SCHEMATHESIS_PROTECT"  # JSON {"user_id": [...], "device_id": [...]}
_UNHANDLED = re.compile(r"unhandled error|Exception in ASGI application|Traceback \(most recent call last\)")


# ---------------------------------------------------------------------------------------------- schemathesis hooks
def _protected() -> dict[str, set[str]]:
    raw = json.loads(os.environ.get(PROTECT_ENV) or "{}")
    return {name: {str(v) for v in values} for name, values in raw.items()}


def targets_protected(path_parameters: dict | None, protected: dict[str, set[str]]) -> bool:
    """True when a path parameter names a protected id (compared as text: "7" and 7 are the same row)."""
    for name, value in (path_parameters or {}).items():
        if name in protected and str(value).strip() in protected[name]:
            return True
    return False


if __name__ == "_schemathesis_hooks":  # loaded by schemathesis through SCHEMATHESIS_HOOKS
    import schemathesis

    _PROTECTED = _protected()

    @schemathesis.hook
    def filter_case(context, case) -> bool:  # noqa: F811
        return not targets_protected(case.path_parameters, _PROTECTED)


# ---------------------------------------------------------------------------------------------- the run
def make_credentials(api: Api) -> dict:
    """A dedicated admin (logged in) and device for this run."""
    tag = uuid.uuid4().hex[:8]
    password = f"st-{uuid.uuid4().hex}"
    admin = api.create_user(f"SCHEMATHESIS-{tag}", "Schemathesis run", role="admin",
                            email=f"schemathesis-{tag}@example.com", password=password)
    own = Api(str(api.http.base_url))
    token = own.login_admin(admin["email"], password)
    device = own.create_device(f"schemathesis-{tag}")
    return {"user_id": admin["id"], "email": admin["email"], "token": token, "device_id": device["id"],
            "key": device["api_key"], "api": own}


def credentials_alive(api: Api, creds: dict) -> dict:
    me = api.http.get("/api/v1/users/me", headers={"Authorization": f"Bearer {creds['token']}"})
    dev = api.http.get("/api/v1/devices/me", headers={"X-Device-Key": creds["key"]})
    body = me.json() if me.status_code == 200 else {}
    return {"token": me.status_code, "device_key": dev.status_code, "role": body.get("role"),
            "is_active": body.get("is_active"),
            "ok": me.status_code == 200 and dev.status_code == 200 and body.get("role") == "admin"
            and body.get("is_active", True) is True}


def unhandled_errors(log_text: str) -> list[dict]:
    """Each unhandled error in a server log: its line and the exception line that ends its traceback."""
    lines, out = log_text.splitlines(), []
    for i, line in enumerate(lines):
        if "unhandled error" in line or "Exception in ASGI application" in line:
            exc = next((ln.strip() for ln in lines[i + 1:i + 200]
                        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b", ln.strip())), "")
            out.append({"line": line.strip()[:300], "exception": exc[:300]})
    if not out and _UNHANDLED.search(log_text):
        out.append({"line": "traceback in the server log", "exception": ""})
    return out


def junit_failures(report_dir: Path) -> list[dict]:
    """Failing operations (test case name = "METHOD /path") and the first line of their message."""
    import xml.etree.ElementTree as ET

    out = []
    for xml in sorted(report_dir.glob("*.xml")):
        try:
            root = ET.parse(xml).getroot()
        except ET.ParseError:
            continue
        for case in root.iter("testcase"):
            for bad in list(case.findall("failure")) + list(case.findall("error")):
                text = (bad.get("message") or bad.text or "").strip().splitlines()
                out.append({"operation": case.get("name"), "kind": bad.tag, "message": (text[0] if text else "")[:300]})
    return out


def schemathesis_cmd(a, url: str, creds: dict, extra: list[str]) -> list[str]:
    cmd = [str(Path(sys.executable).parent / "schemathesis"), "run", f"{url}/openapi.json",
           "--checks", "not_a_server_error", "--max-examples", str(a.max_examples), "--workers", a.workers,
           "--seed", str(a.seed), "--phases", "examples,coverage,fuzzing", "--request-timeout", "60",
           "-H", f"Authorization: Bearer {creds['token']}", "-H", f"X-Device-Key: {creds['key']}",
           # logging out would revoke the run's own session; the hooks keep its admin and device untouched
           "--exclude-path", "/api/v1/auth/logout",
           "--report", "junit,pytest", "--report-dir", str(REPORTS), "--no-color", *extra]
    if a.max_time:
        cmd += ["--max-time", str(a.max_time)]
    return cmd


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url")
    p.add_argument("--start", action="store_true", help="start a server of this checkout (fresh SQLite, temp dir)")
    p.add_argument("--server-log", type=Path, help="with --url: the server's log, scanned for unhandled errors")
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
    summary: dict = {"url": a.url, "schemathesis_exit": None, "credentials_after_run": {"ok": False}}
    try:
        api = Api(a.url)
        api.login_admin(a.admin_email, a.admin_password)
        creds = make_credentials(api)
        summary["protected"] = {"user_id": creds["user_id"], "device_id": creds["device_id"]}
        REPORTS.mkdir(parents=True, exist_ok=True)
        for old in REPORTS.glob("*.xml"):
            old.unlink()
        cmd = schemathesis_cmd(a, a.url, creds, extra)
        print("$", " ".join(c if "Bearer" not in c and "Device-Key" not in c else c.split(":")[0] + ": ***"
                             for c in cmd), flush=True)
        env = {**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": str(Path(__file__).resolve()),
               PROTECT_ENV: json.dumps({"user_id": [creds["user_id"]], "device_id": [creds["device_id"]]})}
        summary["schemathesis_exit"] = subprocess.call(cmd, env=env)
        summary["credentials_after_run"] = credentials_alive(api, creds)
        summary["failing_operations"] = junit_failures(REPORTS)
    finally:
        log_text = None
        if server:
            log_text = server.log_tail(10**7)
            server.stop()
        elif a.server_log:
            log_text = a.server_log.read_text(errors="replace")
    summary["server_log_checked"] = log_text is not None
    summary["unhandled_errors"] = unhandled_errors(log_text) if log_text is not None else None
    by_exception = Counter(e["exception"] for e in summary["unhandled_errors"] or [])
    summary["unhandled_by_exception"] = dict(by_exception.most_common())
    reasons = []
    if summary["schemathesis_exit"] != 0:  # None: it never ran
        reasons.append(f"schemathesis exit {summary['schemathesis_exit']} (server errors or a failed run)")
    if summary["unhandled_errors"]:
        reasons.append(f"{len(summary['unhandled_errors'])} unhandled errors in the server log")
    if not summary["credentials_after_run"]["ok"]:
        reasons.append(f"the run locked itself out: {summary['credentials_after_run']}")
    summary["fail_reasons"] = reasons
    summary["passed"] = not reasons
    (REPORTS / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    if not summary["server_log_checked"]:
        print("note: server log not checked (use --start, or give --server-log)", file=sys.stderr)
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
