"""Latency of representative writes over real HTTP (a uvicorn server of a checkout, fresh SQLite or PostgreSQL), and
of a read right after each, as JSON. Measures what the transaction rule costs: the commit is inside the answer.

    python scripts/bench_writes.py [--n 300] [--database-url postgresql+psycopg://...] [--tree DIR ...]

With several --tree (checkouts of the project, e.g. main exported with `git archive main | tar -x -C /tmp/main`)
the servers are measured in turns, round after round, so a noisy machine loads them alike: compare their ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from live_server import Api, LiveServer  # noqa: E402


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 2)


class Target:
    def __init__(self, tree: Path, work: Path, database_url: str | None):
        self.tree = tree
        self.server = LiveServer(work, database_url=database_url)
        self.times: dict[str, list[float]] = {"create_user": [], "patch_user": [], "read_after": []}
        self.count = 0
        self.created: list[int] = []
        self.missed = 0

    def start(self) -> None:
        import live_server

        old = live_server.ROOT
        live_server.ROOT = self.tree  # the server runs from this checkout (cwd first on sys.path)
        try:
            self.server.start()
        finally:
            live_server.ROOT = old
        self.api = Api(self.server.url)
        self.api.login_admin()

    def round(self, n: int) -> None:
        """n x (create a user; rename the user created the round before; read the new user right away)."""
        http, headers = self.api.http, self.api._auth()
        earlier = list(self.created)
        for i in range(n):
            self.count += 1
            t0 = time.perf_counter()
            r = http.post("/api/v1/users", json={"employee_code": f"W{self.count:06d}", "full_name": "Bench"},
                          headers=headers)
            t1 = time.perf_counter()
            assert r.status_code == 201, r.text
            uid = r.json()["id"]
            self.created.append(uid)
            r = http.get(f"/api/v1/users/{uid}", headers=headers)
            t2 = time.perf_counter()
            self.missed += r.status_code != 200  # the answer came before the commit
            self.times["create_user"].append((t1 - t0) * 1000)
            self.times["read_after"].append((t2 - t1) * 1000)
            if earlier:
                t2 = time.perf_counter()
                r = http.patch(f"/api/v1/users/{earlier[i % len(earlier)]}", json={"full_name": f"Bench {i}"},
                               headers=headers)
                assert r.status_code == 200, r.text
                self.times["patch_user"].append((time.perf_counter() - t2) * 1000)

    def report(self) -> dict:
        return {"tree": str(self.tree), "requests": {k: {"n": len(v), "mean_ms": round(statistics.fmean(v), 2),
                                                          "p50_ms": _pct(v, 0.5), "p95_ms": _pct(v, 0.95)}
                                                      for k, v in self.times.items()},
                "read_after_write_missed": self.missed}

    def stop(self) -> None:
        self.api.close()
        self.server.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300, help="users created per server (each read at once, and an earlier "
                                                       "one renamed)")
    ap.add_argument("--rounds", type=int, default=10, help="turns the servers take")
    ap.add_argument("--database-url", help="a PostgreSQL database per tree is not created: give an empty one per run")
    ap.add_argument("--tree", action="append", type=Path, help="checkout(s) to measure (default: this one)")
    a = ap.parse_args(argv)
    os.environ.setdefault("MODELS_DIR", str(ROOT / "data" / "models"))  # other trees use this checkout's weights
    trees = a.tree or [ROOT]
    with tempfile.TemporaryDirectory() as tmp:
        targets = [Target(t.resolve(), Path(tmp) / f"s{i}", a.database_url if len(trees) == 1 else None)
                   for i, t in enumerate(trees)]
        try:
            for t in targets:
                t.start()
            for _ in range(a.rounds):
                for t in targets:
                    t.round(max(1, a.n // a.rounds))
            out = {"database": "postgresql" if a.database_url and len(trees) == 1 else "sqlite",
                   "servers": [t.report() for t in targets]}
        finally:
            for t in targets:
                t.stop()
    if len(targets) > 1:
        base = out["servers"][0]["requests"]
        for s in out["servers"][1:]:
            s["ratio_to_first"] = {k: round(v["mean_ms"] / base[k]["mean_ms"], 3) for k, v in s["requests"].items()}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
