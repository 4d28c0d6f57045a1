#!/usr/bin/env python3
"""Login latency: facial login (1:N and 1:1) and password login (argon2), median and P95 over N requests each.

    .venv/bin/python scripts/bench_login.py ../shared/faces                      # app in-process (fresh SQLite)
    .venv/bin/python scripts/bench_login.py ../shared/faces --url http://127.0.0.1:8000 \\
        --admin-email admin@example.com --admin-password '...'                   # a live server

How it works
* People: identities of `labels.csv` in the faces folder with at least two photos (LFW and the deepface set). Up to
  `--people` of them are created as users (BENCH-L-<n>) and enrolled over the API with their first photo that passes
  the quality gate (`allow_duplicate=true`, so look-alikes do not stop the set-up). Their other photos are the probes.
* Face login: `--requests` POST /api/v1/auth/face-login, cycling through the probes, one photo each; first 1:N (no
  employee_code), then 1:1 (employee_code of the probe's person). The clock runs from sending the request to reading
  the JSON answer; every answer counts (200 recognized, 401 not recognized, 422 refused photo).
  The server-side figure (`server_ms`) is the decision records' latency_ms (analysis + matching, no HTTP).
* Password login: `--requests` POST /api/v1/auth/login of one user with a password (argon2id verification + token
  issue).
* In-process, lockout limits are raised so that misses do not turn into 429s. Against a live server the lockout is
  live: 20 misses from this client within 15 minutes give 429s, which are counted apart ("locked").

Prints one JSON document.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PREFIX = "BENCH-L-"
PASSWORD = "bench-password-0123"


def stats(ms: list[float]) -> dict:
    if not ms:
        return {"n": 0}
    s = sorted(ms)
    p95 = s[min(len(s) - 1, max(0, int(round(0.95 * len(s))) - 1))]
    return {"n": len(s), "median_ms": round(statistics.median(s), 1), "p95_ms": round(p95, 1),
            "mean_ms": round(statistics.fmean(s), 1), "min_ms": round(s[0], 1), "max_ms": round(s[-1], 1)}


def people_of(faces_dir: Path, limit: int) -> list[tuple[str, list[Path]]]:
    by_identity: dict[str, list[Path]] = {}
    with open(faces_dir / "labels.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row.get("n_faces") not in (None, "", "1"):
                continue
            path = faces_dir / row["path"]
            if path.is_file():
                by_identity.setdefault(row["identity"], []).append(path)
    multi = sorted((k, sorted(v)) for k, v in by_identity.items() if len(v) >= 2)
    return multi[:limit]


def open_client(args):
    if args.url:
        import httpx

        return httpx.Client(base_url=args.url, timeout=60), None
    from fastapi.testclient import TestClient

    from server.config import Settings
    from server.main import create_app

    tmp = Path(tempfile.mkdtemp(prefix="bench-login-"))
    models = os.environ.get("MODELS_DIR") or str(ROOT / "data" / "models")
    settings = Settings(environment="test", data_dir=tmp, models_dir=models, scheduler_enabled=False,
                        admin_password=args.admin_password, admin_email=args.admin_email,
                        jwt_secret="bench-secret-long-enough-for-hs256-0123456789",
                        lockout_max_per_user=10**9, lockout_max_per_client=10**9)
    client = TestClient(create_app(settings))
    client.__enter__()
    return client, settings


def login(client, username, password) -> dict:
    r = client.post("/api/v1/auth/login", data={"username": username, "password": password})
    r.raise_for_status()
    return r.json()


def ensure_user(client, headers, code: str, password: str | None = None) -> dict:
    found = client.get("/api/v1/users", params={"search": code, "limit": 5}, headers=headers).json()["items"]
    for u in found:
        if u["employee_code"] == code:
            return u
    body = {"employee_code": code, "full_name": f"Bench {code}", "role": "employee"}
    if password:
        body["password"] = password
    r = client.post("/api/v1/users", json=body, headers=headers)
    r.raise_for_status()
    return r.json()


def enroll_people(client, headers, people) -> list[dict]:
    """Enrolls each person with its first acceptable photo; returns [{code, user_id, probes}]."""
    enrolled = []
    for n, (identity, paths) in enumerate(people):
        code = f"{PREFIX}{n:04d}"
        user = ensure_user(client, headers, code)
        client.delete(f"/api/v1/users/{user['id']}/faces", headers=headers)
        for i, path in enumerate(paths):
            r = client.post(f"/api/v1/users/{user['id']}/faces", headers=headers,
                            files=[("images", (path.name, path.read_bytes(), "image/jpeg"))],
                            data={"consent": "true", "allow_duplicate": "true"})
            if r.status_code == 201:
                probes = [p for j, p in enumerate(paths) if j != i]
                enrolled.append({"code": code, "user_id": user["id"], "identity": identity, "probes": probes})
                break
    return enrolled


def run_face(client, enrolled, n: int, one_to_one: bool) -> tuple[list[float], Counter]:
    probes = [(e, p) for e in enrolled for p in e["probes"]]
    cache: dict[Path, bytes] = {}
    times, outcomes = [], Counter()
    for i in range(n):
        person, path = probes[i % len(probes)]
        data = cache.setdefault(path, path.read_bytes())
        form = {"employee_code": person["code"]} if one_to_one else {}
        t0 = time.perf_counter()
        r = client.post("/api/v1/auth/face-login", files=[("image", (path.name, data, "image/jpeg"))], data=form)
        r.json()
        elapsed = (time.perf_counter() - t0) * 1000
        if r.status_code == 200:
            outcomes["recognized_right" if r.json()["user"]["id"] == person["user_id"] else "recognized_wrong"] += 1
        elif r.status_code == 429:
            outcomes["locked"] += 1
            continue
        else:
            outcomes[{401: "not_recognized", 422: "photo_refused"}.get(r.status_code, str(r.status_code))] += 1
        times.append(elapsed)
    return times, outcomes


def server_side_ms(client, headers, n: int) -> list[float]:
    items, offset = [], 0
    while len(items) < n:
        page = client.get("/api/v1/face-attempts", params={"purpose": "login", "limit": 500, "offset": offset},
                          headers=headers).json()
        if not page["items"]:
            break
        items += page["items"]
        offset += len(page["items"])
    return [a["latency_ms"] for a in items[:n] if a["latency_ms"] is not None]


def run_password(client, n: int, username: str) -> tuple[list[float], Counter]:
    times, outcomes = [], Counter()
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.post("/api/v1/auth/login", data={"username": username, "password": PASSWORD})
        r.json()
        times.append((time.perf_counter() - t0) * 1000)
        outcomes[str(r.status_code)] += 1
    return times, outcomes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("faces_dir", type=Path, help="the shared faces folder (with labels.csv), e.g. ../shared/faces")
    ap.add_argument("--url", help="a live server; default: the app in-process on a fresh SQLite database")
    ap.add_argument("--admin-email", default="admin@example.com")
    ap.add_argument("--admin-password", default=os.environ.get("ADMIN_PASSWORD", "bench-admin-password-1"))
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--people", type=int, default=50, help="identities to enroll (default 50)")
    args = ap.parse_args(argv)

    people = people_of(args.faces_dir, args.people)
    if not people:
        ap.error(f"no identity with two photos in {args.faces_dir}/labels.csv")
    client, settings = open_client(args)
    try:
        admin = {"Authorization": f"Bearer {login(client, args.admin_email, args.admin_password)['access_token']}"}
        t0 = time.perf_counter()
        enrolled = enroll_people(client, admin, people)
        setup_s = time.perf_counter() - t0
        for _ in range(3):  # warm-up (first inference allocates buffers)
            run_face(client, enrolled, 1, one_to_one=False)
        one_to_n, out_n = run_face(client, enrolled, args.requests, one_to_one=False)
        server_n = server_side_ms(client, admin, len(one_to_n))
        one_to_one, out_1 = run_face(client, enrolled, args.requests, one_to_one=True)
        server_1 = server_side_ms(client, admin, len(one_to_one))
        pw_user = ensure_user(client, admin, f"{PREFIX}PW", password=PASSWORD)
        run_password(client, 2, pw_user["employee_code"])
        password, out_pw = run_password(client, args.requests, pw_user["employee_code"])
        status = client.get("/status").json()
    finally:
        if settings is not None:
            client.__exit__(None, None, None)
        else:
            client.close()
    print(json.dumps({
        "target": args.url or "in-process (TestClient, SQLite)",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "model": status.get("face_model"), "models": status.get("models"),
        "gallery": {"people_enrolled": len(enrolled), "probes": sum(len(e["probes"]) for e in enrolled),
                    "setup_seconds": round(setup_s, 1)},
        "face_login_1_to_n": {**stats(one_to_n), "outcomes": dict(out_n), "server_ms": stats(server_n)},
        "face_login_1_to_1": {**stats(one_to_one), "outcomes": dict(out_1), "server_ms": stats(server_1)},
        "password_login": {**stats(password), "outcomes": dict(out_pw)},
    }, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
