#!/usr/bin/env python3
"""Cost of the access-token revocation check (issue 16 item 2): every authenticated request reads its user and
probes its login (token family) in one query (`server.auth.deps.current_user`, `server.auth.service.live_family`).

    .venv/bin/python scripts/bench_revocation.py                                  # fresh SQLite in a temp dir
    .venv/bin/python scripts/bench_revocation.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/db_x
      (an EMPTY database: the script migrates it and fills refresh_tokens)

How it works
* The database gets `--families` logins spread over `--users` users, each with `--rotations` refresh-token rows
  (a login refreshed that many times), a tenth of them revoked: the table a busy site has within a week.
* Query: the user lookup as it was before the check (`users.id = ? AND is_active`) and the same query with the
  family probe, `--queries` times each, interleaved; median and P95 in microseconds, and the query plan.
* Request: GET /api/v1/users/me in-process (TestClient, the whole app), with the check and with the probe replaced
  by TRUE (the old behaviour), interleaved (alternating which goes first), `--requests` each.
Times on a busy machine are noisy: compare the ratios of one run. Prints one JSON document.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret-long-enough-for-hs256-0123456789"
PASSWORD = "bench-admin-password-1"


def stats_us(seconds: list[float]) -> dict:
    s = sorted(x * 1e6 for x in seconds)
    return {"n": len(s), "median_us": round(statistics.median(s), 1),
            "p95_us": round(s[min(len(s) - 1, int(0.95 * len(s)))], 1), "min_us": round(s[0], 1)}


def fill(db, *, users: int, families: int, rotations: int) -> int:
    """Bench users and their refresh-token rows (bulk insert). Returns the number of rows written."""
    from sqlalchemy import insert

    from server.auth.models import RefreshToken
    from server.clock import now
    from server.users.models import User

    t = now()
    with db.session() as s:
        s.execute(insert(User), [{"employee_code": f"BENCH-R-{i}", "full_name": f"Bench {i}", "role": "employee",
                                  "email": f"bench-r-{i}@example.com", "is_active": True} for i in range(users)])
        ids = [u.id for u in s.query(User.id).filter(User.employee_code.like("BENCH-R-%"))]
        rows = []
        for f in range(families):
            fam, uid = uuid.uuid4().hex, ids[f % len(ids)]
            revoked = t if f % 10 == 0 else None
            for r in range(rotations):
                rows.append({"jti": uuid.uuid4().hex, "family_id": fam, "user_id": uid, "issued_at": t,
                             "expires_at": t + timedelta(days=7), "spent_at": t if r < rotations - 1 else None,
                             "revoked_at": revoked})
            if len(rows) >= 20_000:
                s.execute(insert(RefreshToken), rows)
                rows = []
        if rows:
            s.execute(insert(RefreshToken), rows)
    return families * rotations


def time_queries(db, user_id: int, family_id: str, n: int) -> dict:
    from sqlalchemy import select, text

    from server.auth.service import live_family
    from server.users.models import User

    before = select(User).where(User.id == user_id, User.is_active.is_(True))
    after = before.where(live_family(family_id))
    times: dict[str, list[float]] = {"user_only": [], "user_and_family": []}
    with db.session() as s:
        for i in range(n):
            for name, q in ((("user_only", before), ("user_and_family", after))[::1 if i % 2 else -1]):
                s.expunge_all()
                t0 = time.perf_counter()
                found = s.scalar(q)
                times[name].append(time.perf_counter() - t0)
                assert found is not None, name
        compiled = after.compile(db.engine, compile_kwargs={"literal_binds": True})
        explain = "EXPLAIN QUERY PLAN " if db.dialect == "sqlite" else "EXPLAIN "
        plan = [" ".join(str(c) for c in row) for row in s.execute(text(explain + str(compiled)))]
    out = {k: stats_us(v) for k, v in times.items()}
    out["probe_cost_us"] = round(out["user_and_family"]["median_us"] - out["user_only"]["median_us"], 1)
    out["plan"] = plan
    return out


def time_requests(app, client, n: int) -> dict:
    from sqlalchemy import true

    import server.auth.deps as deps

    pair = client.post("/api/v1/auth/login", data={"username": "admin@example.com", "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    real = deps.live_family
    times: dict[str, list[float]] = {"with_check": [], "without_check": []}
    try:
        for i in range(n):
            for name in (("with_check", "without_check") if i % 2 else ("without_check", "with_check")):
                deps.live_family = real if name == "with_check" else (lambda *_a: true())
                t0 = time.perf_counter()
                r = client.get("/api/v1/users/me", headers=headers)
                times[name].append(time.perf_counter() - t0)
                assert r.status_code == 200, r.text
    finally:
        deps.live_family = real
    out = {k: stats_us(v) for k, v in times.items()}
    out["ratio_with_to_without"] = round(out["with_check"]["median_us"] / out["without_check"]["median_us"], 3)
    out["ratio_of_minimums"] = round(out["with_check"]["min_us"] / out["without_check"]["min_us"], 3)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", help="an empty database (default: a fresh SQLite file)")
    ap.add_argument("--users", type=int, default=500)
    ap.add_argument("--families", type=int, default=20_000)
    ap.add_argument("--rotations", type=int, default=5)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--requests", type=int, default=500)
    args = ap.parse_args(argv)

    from fastapi.testclient import TestClient

    from server.auth.tokens import decode_token
    from server.config import Settings
    from server.main import create_app

    tmp = Path(tempfile.mkdtemp(prefix="bench-revocation-"))
    settings = Settings(environment="test", data_dir=tmp, database_url=args.database_url, scheduler_enabled=False,
                        admin_password=PASSWORD, jwt_secret=SECRET,
                        models_dir=os.environ.get("MODELS_DIR") or str(ROOT / "data" / "models"))
    app = create_app(settings)
    with TestClient(app) as client:
        db = app.state.db
        rows = fill(db, users=args.users, families=args.families, rotations=args.rotations)
        pair = client.post("/api/v1/auth/login", data={"username": "admin@example.com", "password": PASSWORD}).json()
        claims = decode_token(settings, pair["access_token"])
        result = {
            "bench": "revocation_check",
            "database": db.dialect,
            "refresh_token_rows": rows + 1,
            "families": args.families + 1,
            "query": time_queries(db, int(claims["sub"]), claims["fam"], args.queries),
            "request_users_me": time_requests(app, client, args.requests),
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
            "command": "scripts/bench_revocation.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
