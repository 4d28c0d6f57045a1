#!/usr/bin/env python3
"""The server with the default face model and 10,000 enrolled people serves kiosk checks under a 512 MB memory limit.

    python scripts/memory_limit.py [--enrolled 10000] [--limit-mb 512] [--checks 1000] [--concurrency 4] [--json]

How the limit is enforced: a memory cgroup made for the run (cgroup v1 `memory.limit_in_bytes` when
/sys/fs/cgroup/memory exists, else cgroup v2 `memory.max`); the server process is moved into it before it execs
uvicorn, so everything it allocates counts (anonymous memory, page cache of its files, kernel memory). There is no swap
here, so going over the limit means the kernel's OOM killer ends the server — the run checks that it did not
(oom_kill = 0, the process alive, every check answered). Needs root (cgroup creation).

The 10,000 people are synthetic rows with random unit-norm templates of the configured model, inserted directly into
a fresh database before the server starts (it loads them into its gallery at startup); a few real people are then
enrolled through the API from --faces and their photos, sent as 640-pixel camera frames, are the probes.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from live_server import ADMIN_PASSWORD, JWT_SECRET, Api, LiveServer, default_models_dir  # noqa: E402
from soak_kiosk import as_camera_frame, default_faces, enroll_people, people_in, soak  # noqa: E402


class MemoryCgroup:
    """A memory cgroup for one process tree; `prefix` moves the process in before exec."""

    def __init__(self, limit_mb: int, name: str):
        v1 = Path("/sys/fs/cgroup/memory")
        self.v1 = v1.is_dir() and (v1 / "memory.limit_in_bytes").exists()
        self.path = (v1 if self.v1 else Path("/sys/fs/cgroup")) / name
        self.path.mkdir(exist_ok=False)
        limit = str(limit_mb * 2**20)
        if self.v1:
            (self.path / "memory.limit_in_bytes").write_text(limit)
            if (self.path / "memory.memsw.limit_in_bytes").exists():
                (self.path / "memory.memsw.limit_in_bytes").write_text(limit)  # no swapping around the limit
        else:
            (self.path / "memory.max").write_text(limit)
            if (self.path / "memory.swap.max").exists():
                (self.path / "memory.swap.max").write_text("0")
        self.method = ("cgroup v1 memory.limit_in_bytes" if self.v1 else "cgroup v2 memory.max") + f" = {limit_mb} MB"

    @property
    def prefix(self) -> list[str]:
        return ["sh", "-c", f'echo $$ > {self.path}/cgroup.procs && exec "$@"', "sh"]

    def stats(self) -> dict:
        def read(name: str) -> str:
            try:
                return (self.path / name).read_text().strip()
            except OSError:
                return ""

        if self.v1:
            oom = dict(line.split() for line in read("memory.oom_control").splitlines() if line)
            return {"usage_mb": int(read("memory.usage_in_bytes") or 0) / 2**20,
                    "peak_mb": int(read("memory.max_usage_in_bytes") or 0) / 2**20,
                    "limit_hits": int(read("memory.failcnt") or 0), "oom_kill": int(oom.get("oom_kill", 0))}
        events = dict(line.split() for line in read("memory.events").splitlines() if line)
        return {"usage_mb": int(read("memory.current") or 0) / 2**20,
                "peak_mb": int(read("memory.peak") or 0) / 2**20 if read("memory.peak") else None,
                "limit_hits": int(events.get("max", 0)), "oom_kill": int(events.get("oom_kill", 0))}

    def remove(self) -> None:
        try:
            self.path.rmdir()
        except OSError:
            pass


def insert_synthetic_people(database_url: str, n: int, data_dir: Path, seed: int = 1) -> dict:
    """Migrate + seed a database, then insert n users with one random unit-norm template each (configured model)."""
    import numpy as np
    from sqlalchemy import func, insert, select

    import server.models  # noqa: F401
    from seeds import run_all
    from server.config import Settings
    from server.database import Database
    from server.faces.loader import get_engine
    from server.faces.models import FaceTemplate
    from server.migrate import migrate_at_startup as migrate
    from server.startup import ensure_directories
    from server.users.models import User

    settings = Settings(database_url=database_url, data_dir=data_dir, models_dir=default_models_dir(),
                        admin_password=ADMIN_PASSWORD, jwt_secret=JWT_SECRET, scheduler_enabled=False)
    ensure_directories(settings)
    db = Database(database_url)
    migrate(db, settings)
    with db.session() as s:
        run_all(s, settings)
    engine = get_engine(settings)
    rng = np.random.default_rng(seed)
    with db.session() as s:
        start = (s.scalar(select(func.max(User.id))) or 0) + 1
        for lo in range(0, n, 2000):
            ids = range(start + lo, start + min(n, lo + 2000))
            s.execute(insert(User), [{"id": i, "employee_code": f"SYN{i:06d}", "full_name": f"Synthetic {i}",
                                      "role": "employee"} for i in ids])
            emb = rng.standard_normal((len(ids), engine.dim)).astype(np.float32)
            emb /= np.linalg.norm(emb, axis=1, keepdims=True)
            s.execute(insert(FaceTemplate), [{"user_id": i, "model_id": engine.model_id, "dim": engine.dim,
                                              "embedding": e.tobytes(), "quality": {"synthetic": True}}
                                             for i, e in zip(ids, emb)])
    db.dispose()
    return {"model_id": engine.model_id, "dim": engine.dim, "inserted": n}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--enrolled", type=int, default=10000)
    p.add_argument("--limit-mb", type=int, default=512)
    p.add_argument("--checks", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--frames", type=int, default=1, choices=(1, 2, 3), help="frames per check (the page sends 3)")
    p.add_argument("--faces", type=Path, default=default_faces())
    p.add_argument("--database-url", help="an empty database to use (default: a fresh SQLite file)")
    p.add_argument("--enroll-size", type=int, default=0,
                   help="shrink the real enrollment photos to this long side first (0 = as they are)")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra server environment, e.g. MALLOC_ARENA_MAX=2 (repeatable)")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("needs root to create a memory cgroup")
    data = Path(tempfile.mkdtemp(prefix="memlimit-"))
    url = a.database_url or f"sqlite:///{data / 'faceclock.db'}"
    synthetic = insert_synthetic_people(url, a.enrolled, data)
    cg = MemoryCgroup(a.limit_mb, f"faceclock-memlimit-{os.getpid()}")
    env = {"DEBOUNCE_SECONDS": "0", **dict(kv.split("=", 1) for kv in a.env)}  # every check writes its punch
    server = LiveServer(data, database_url=url, prefix=cg.prefix, env=env)
    result = {"limit": cg.method, "server_env": env, "synthetic": synthetic}
    try:
        server.start()
        result["after_startup"] = {k: round(v, 1) if isinstance(v, float) else v for k, v in cg.stats().items()}
        api = Api(server.url)
        api.login_admin()
        people = [(name, [as_camera_frame(b, a.enroll_size) for b in photos]) for name, photos in people_in(a.faces)]
        probes = enroll_people(api, people, "mem")
        result["after_enrollment"] = {k: round(v, 1) if isinstance(v, float) else v for k, v in cg.stats().items()}
        key = api.create_device("memory-limit")["api_key"]

        class CgroupRss:
            def mb(self) -> float:
                return server.rss_mb()

        result["soak"] = soak(server.url, key, probes, a.checks, a.concurrency, a.frames, CgroupRss(),
                              min(100, a.checks // 2),
                              not a.json)
        result["gallery"] = api.status().get("gallery")
    except Exception as exc:  # the server died (OOM) or refused: reported below with the cgroup's counters
        result["error"] = f"{exc.__class__.__name__}: {exc}"
        result["server_log_tail"] = server.log_tail(15)
    finally:
        alive = server.proc is not None and server.proc.poll() is None
        stats = cg.stats()
        server.stop()
        cg.remove()
    result["cgroup"] = {k: round(v, 1) if isinstance(v, float) else v for k, v in stats.items()}
    result["server_alive_at_end"] = alive
    soak_ok = result.get("soak", {}).get("errors", 1) == 0
    result["passed"] = alive and soak_ok and stats["oom_kill"] == 0 and "error" not in result
    if a.json:
        print(json.dumps(result, indent=2))
    else:
        s = result.get("soak", {})
        if "error" in result:
            print("ERROR:", result["error"])
        print(f"{result['limit']}; {a.enrolled} synthetic people + real probes; {s.get('checks')} checks, "
              f"errors {s.get('errors')}, p50 {s.get('latency_ms', {}).get('p50')} ms; cgroup peak "
              f"{result['cgroup'].get('peak_mb')} MB, limit hits {result['cgroup']['limit_hits']}, oom_kill "
              f"{result['cgroup']['oom_kill']}; {'PASS' if result['passed'] else 'FAIL'}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
