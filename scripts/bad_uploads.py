#!/usr/bin/env python3
"""Fire the bad-upload corpus (scripts/bad_corpus.py, ≥ 500 cases) at every photo endpoint of a live server.

Every answer must be a named 4xx — status 400..499 with a JSON `{"error": {"code": ...}}` — never a 2xx, a 5xx or a
dropped connection, and the server's RSS must grow by less than `--max-rss-growth-mb` (default 50) across the corpus.

    python scripts/bad_uploads.py --start                 # starts its own server (fresh SQLite) and reads its RSS
    python scripts/bad_uploads.py --url http://127.0.0.1:8000 --admin-password ... [--pid PID]
    python scripts/bad_uploads.py --generate OUT_DIR      # only write the corpus to disk (one file per case)

Endpoints: kiosk check (X-Device-Key), face login, enrollment (admin), faces/verify (admin). The script creates what it
needs (a device, an employee) through the API. RSS comes from the PID when given (psutil), else from GET /status.
Exit status 0 only when every answer passed and the RSS growth is under the limit. `--json` prints the summary as JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bad_corpus  # noqa: E402

ENDPOINTS = {
    "kiosk_check": {"path": "/api/v1/kiosk/check", "one": "image", "many": "images", "auth": "device"},
    "face_login": {"path": "/api/v1/auth/face-login", "one": "image", "many": "images", "auth": None},
    "enroll": {"path": "/api/v1/users/{user_id}/faces", "one": "images", "many": "images", "auth": "admin"},
    "faces_verify": {"path": "/api/v1/faces/verify", "one": "image1", "many": "image1", "auth": "admin"},
}


class Context:
    """What the endpoints need: an admin token, a device key and an employee to enroll photos for."""

    def __init__(self, client, admin_email: str, admin_password: str):
        self.client = client
        r = client.post("/api/v1/auth/login", data={"username": admin_email, "password": admin_password})
        if r.status_code != 200:
            raise SystemExit(f"admin login failed: {r.status_code} {r.text[:300]}")
        self.admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
        tag = uuid.uuid4().hex[:8]
        r = client.post("/api/v1/devices", json={"name": f"bad-uploads-{tag}"}, headers=self.admin)
        self.device = {"X-Device-Key": r.json()["api_key"]} if r.status_code == 201 else {}
        r = client.post("/api/v1/users", json={"employee_code": f"BAD-{tag}", "full_name": "Bad Uploads",
                                               "role": "employee"}, headers=self.admin)
        self.user_id = r.json()["id"] if r.status_code == 201 else None
        paths = set(client.get("/openapi.json").json().get("paths", {}))
        self.available = {name for name, ep in ENDPOINTS.items()
                          if ep["path"] in paths and (ep["auth"] != "device" or self.device)
                          and ("{user_id}" not in ep["path"] or self.user_id)}

    def headers(self, endpoint: str) -> dict[str, str]:
        auth = ENDPOINTS[endpoint]["auth"]
        return dict(self.admin) if auth == "admin" else dict(self.device) if auth == "device" else {}


def send(ctx: Context, endpoint: str, case: bad_corpus.Case):
    ep = ENDPOINTS[endpoint]
    path = ep["path"].format(user_id=ctx.user_id)
    headers = ctx.headers(endpoint)
    form = dict(case.form)
    if endpoint == "kiosk_check":
        form.setdefault("request_id", str(uuid.uuid4()))
    if endpoint == "enroll":
        form.setdefault("consent", "true")
    if case.raw is not None:
        if case.raw_type:
            headers["Content-Type"] = case.raw_type
        return ctx.client.post(path, content=case.raw, headers=headers)
    parts = case.materialize()
    field = ep["one"] if len(parts) == 1 else ep["many"]
    files = [(field, (fn, data, ct)) for fn, ct, data in parts]
    if endpoint == "faces_verify" and parts:
        fn, ct, data = parts[0]
        files.append(("image2", (fn, data, ct)))
    return ctx.client.post(path, files=files or None, data=form, headers=headers)


def judge(resp) -> str | None:
    """None when the answer is a named 4xx, else why not."""
    if not 400 <= resp.status_code < 500:
        return f"status {resp.status_code}"
    try:
        code = resp.json()["error"]["code"]
    except Exception:
        return f"status {resp.status_code} without a JSON error code"
    return None if isinstance(code, str) and code else f"status {resp.status_code} with an empty error code"


class Rss:
    def __init__(self, client, pid: int | None):
        self.client, self.proc = client, None
        if pid:
            import psutil

            self.proc = psutil.Process(pid)

    def mb(self) -> float | None:
        if self.proc is not None:
            return self.proc.memory_info().rss / 2**20
        try:
            return float(self.client.get("/status").json()["rss_mb"])
        except Exception:
            return None


def run(client, cases, *, admin_email: str, admin_password: str, pid: int | None = None,
        endpoints: list[str] | None = None, progress: bool = False) -> dict:
    ctx = Context(client, admin_email, admin_password)
    targets = [e for e in (endpoints or ENDPOINTS) if e in ctx.available]
    rss = Rss(client, pid)
    warm = [c for c in cases if c.category in ("no_face_image", "truncated_jpeg")][:6]
    for case in warm:  # load lazily-initialised code paths before the baseline
        for e in targets:
            send(ctx, e, case)
    before = rss.mb()
    statuses, codes, failures, by_category = Counter(), Counter(), [], Counter()
    t0, n = time.perf_counter(), 0
    for i, case in enumerate(cases):
        for e in targets:
            n += 1
            try:
                resp = send(ctx, e, case)
            except Exception as exc:  # a dropped connection is a failure too
                failures.append({"case": case.name, "endpoint": e, "why": f"{exc.__class__.__name__}: {exc}"})
                continue
            statuses[resp.status_code] += 1
            why = judge(resp)
            if why is None:
                codes[resp.json()["error"]["code"]] += 1
                by_category[case.category] += 1
            else:
                failures.append({"case": case.name, "endpoint": e, "why": why, "body": resp.text[:200]})
        if progress and (i + 1) % 50 == 0:
            print(f"  {i + 1}/{len(cases)} cases, {len(failures)} failures, rss {rss.mb()} MB", file=sys.stderr)
    after = rss.mb()
    growth = None if before is None or after is None else round(after - before, 1)
    return {
        "cases": len(cases), "endpoints": targets, "skipped_endpoints": sorted(set(ENDPOINTS) - set(targets)),
        "requests": n, "seconds": round(time.perf_counter() - t0, 1), "statuses": dict(sorted(statuses.items())),
        "error_codes": dict(codes.most_common()), "categories": bad_corpus.summary(cases),
        "failures": len(failures), "failure_examples": failures[:25],
        "rss_mb_before": None if before is None else round(before, 1),
        "rss_mb_after": None if after is None else round(after, 1), "rss_growth_mb": growth,
    }


def verdict(result: dict, max_rss_growth_mb: float) -> tuple[bool, list[str]]:
    """Pass only when every answer was a named 4xx AND the RSS growth was measured and under the limit: an RSS that
    could not be read (no --pid and no rss_mb in /status) is a failure, never taken as zero growth."""
    reasons = []
    if result["failures"]:
        reasons.append(f"{result['failures']} answers were not a named 4xx")
    growth = result.get("rss_growth_mb")
    if growth is None:
        reasons.append("server RSS could not be read (give --pid, or a server whose /status has rss_mb)")
    elif growth >= max_rss_growth_mb:
        reasons.append(f"RSS grew {growth} MB (limit {max_rss_growth_mb} MB)")
    return not reasons, reasons


def _generate(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    manifest = []
    for case in bad_corpus.build():
        for j, (fn, ct, data) in enumerate(case.materialize() or [("raw", case.raw_type or "", case.raw or b"")]):
            name = f"{case.name}.{j}.bin"
            (out / name).write_bytes(data)
            manifest.append({"case": case.name, "category": case.category, "file": name, "content_type": ct,
                             "filename": fn, "raw_body": case.raw is not None})
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    print(f"{len(manifest)} files written to {out}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="base URL of a running server")
    p.add_argument("--start", action="store_true", help="start a server of this checkout (fresh SQLite, temp dir)")
    p.add_argument("--pid", type=int, help="server PID for RSS (default: GET /status rss_mb)")
    p.add_argument("--admin-email", default="admin@example.com")
    p.add_argument("--admin-password", default=None, help="default: ADMIN_PASSWORD of --start")
    p.add_argument("--endpoints", default=",".join(ENDPOINTS), help="comma-separated subset")
    p.add_argument("--quick", action="store_true", help="the reduced corpus")
    p.add_argument("--max-rss-growth-mb", type=float, default=50.0)
    p.add_argument("--generate", type=Path, metavar="OUT_DIR", help="write the corpus to OUT_DIR and exit")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    if a.generate:
        _generate(a.generate)
        return 0
    import httpx

    from live_server import ADMIN_PASSWORD, LiveServer

    server = None
    if a.start:
        server = LiveServer(Path(tempfile.mkdtemp(prefix="bad-uploads-")),
                            env={"LOCKOUT_MAX_PER_CLIENT": "1000000", "LOCKOUT_MAX_PER_USER": "1000000"}).start()
        a.url, a.pid = server.url, server.pid
        a.admin_password = a.admin_password or ADMIN_PASSWORD
    if not a.url or not a.admin_password:
        p.error("give --start, or --url with --admin-password")
    cases = bad_corpus.build(full=not a.quick)
    try:
        with httpx.Client(base_url=a.url, timeout=120) as client:
            result = run(client, cases, admin_email=a.admin_email, admin_password=a.admin_password, pid=a.pid,
                         endpoints=a.endpoints.split(","), progress=not a.json)
    finally:
        if server:
            server.stop()
    ok, reasons = verdict(result, a.max_rss_growth_mb)
    result["passed"], result["fail_reasons"] = ok, reasons
    if a.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['requests']} requests ({result['cases']} cases × {len(result['endpoints'])} endpoints) in "
              f"{result['seconds']} s; statuses {result['statuses']}; failures {result['failures']}; RSS "
              f"{result['rss_mb_before']} → {result['rss_mb_after']} MB (growth {result['rss_growth_mb']} MB)")
        for f in result["failure_examples"]:
            print("  FAIL", f)
        for why in result["fail_reasons"]:
            print("  FAIL:", why)
        if result["skipped_endpoints"]:
            print("  endpoints not served (skipped):", ", ".join(result["skipped_endpoints"]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
