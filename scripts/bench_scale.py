#!/usr/bin/env python3
"""Scale benchmark (issue #14): N people enrolled, R replicas started with ./run.sh on ONE PostgreSQL database.

    createdb -h 127.0.0.1 -U postgres fc_bench_scale
    .venv/bin/python scripts/bench_scale.py --enrolled 100000 --replicas 2 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/fc_bench_scale --json

What it does, in order (stderr tells the steps; --json prints only the result on stdout):
1. Prepares the database: migrations and seeds (as the server's startup does), the real people of --faces-dir
   (identities of ../shared/faces with two or more single-face photos: the first photo is enrolled through the server's
   own embedding code, the others are kiosk probes), then synthetic people up to --enrolled: random unit vectors of the
   server's model inserted straight into the database, exactly as scripts/bench_kiosk.py does (BENCH-S-* rows, reused by
   the next run; shared with bench_kiosk). The real people's punches and work days left by earlier runs are deleted
   (`cleared_attendance`): a kiosk punch reads its person's whole day, so a probe's person with the ~200 punches of each
   earlier run of the day made every check slower (bench_kiosk.clear_attendance).
2. Starts the replicas one after the other with ./run.sh (own PORT and DATA_DIR each, the same DATABASE_URL, WORKERS=1,
   DEBOUNCE_SECONDS=0) and times each one from the spawn to /ready = 200: `ready_seconds`; `rss_mb` is the replica's
   RSS read from its /status at that moment, with its gallery step's time and the gallery's bytes.
3. Visibility: --changes times, an enrollment on replica A (a new user, one real photo, over HTTP) is answered 201;
   from that answer, replica B's /status is read every 10 ms until B's gallery version reaches A's. No request to B
   asks it to sync (its sync thread does, every GALLERY_POLL_SECONDS): `visibility_ms` median / P95 / max.
4. Kiosk during enrollments: one kiosk (one thread, one frame per check, a real probe photo of an enrolled person)
   sends --kiosk-requests sequential checks to B, first with nothing else going on (`kiosk_quiet`), then while a
   steady stream of enrollments goes to A (one every --stream-interval seconds, as in the issue: ~0.5 s): latency
   median / P95 / max, measured from the request's start to the JSON answer read; and the visibility of the stream's
   enrollments made (B's catching up with A is checked once the stream stops: B's /status is not polled while the
   kiosk is measured).
5. 1:N search: the same gallery code the server runs (server/faces/gallery.py), loaded in this process from the same
   database: `search_ms` median / P95 over --searches probes; and the memory the load added to this process (RSS
   before/after, bytes per template against dim x 4).

The machine is whatever runs this: the figures are only comparable within one run (quiet vs during the stream) unless
the machine is otherwise idle. Goals (issue #14, at 100,000 people, 2 replicas, 2 cores): ready <= 4 s, RSS <= 250 MB
per replica, visibility <= 1 s, kiosk P95 during the stream <= 150 ms, search <= 10 ms. Exit status 0 when every goal
holds, else 1 (the JSON says which).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import server  # noqa: E402,F401  (BLAS thread caps before numpy, as in the server)
from bench_kiosk import Bench, log, real_people  # noqa: E402
from live_server import free_port  # noqa: E402

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "bench-scale-password-1"
JWT_SECRET = "bench-scale-secret-long-enough-for-hs256-0123456789"
STREAM_PREFIX = "BENCH-R-STREAM-"  # users the bench enrolls over HTTP (BENCH-*: deleted by bench_kiosk --cleanup)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, int(round(q * (len(s) - 1))))], 2)


def _summary(values_ms: list[float]) -> dict:
    return {"n": len(values_ms), "median": _pct(values_ms, 0.5), "p95": _pct(values_ms, 0.95),
            "max": round(max(values_ms), 2) if values_ms else None}


class Replica:
    """One ./run.sh server process on its own port and DATA_DIR."""

    def __init__(self, name: str, database_url: str, models_dir: Path, env: dict[str, str]):
        self.name, self.port = name, free_port()
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"faceclock-scale-{name}-"))
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATA_DIR", "WORKERS")}
        self.env.update({"PORT": str(self.port), "HOST": "127.0.0.1", "DATA_DIR": str(self.data_dir),
                         "DATABASE_URL": database_url, "MODELS_DIR": str(models_dir), "ADMIN_EMAIL": ADMIN_EMAIL,
                         "ADMIN_PASSWORD": ADMIN_PASSWORD, "JWT_SECRET": JWT_SECRET, "LOG_LEVEL": "WARNING",
                         "SCHEDULER_ENABLED": "false", "DEBOUNCE_SECONDS": "0", "WORKERS": "1", **env})
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir / "server.log"

    def start(self, timeout: float) -> dict:
        import httpx

        t0 = time.perf_counter()
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen([str(ROOT / "run.sh")], cwd=ROOT, env=self.env, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"replica {self.name} exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() - t0 > timeout:
                raise SystemExit(f"replica {self.name} not ready after {timeout}s: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.02)
        ready = time.perf_counter() - t0
        st = self.status()
        steps = st["startup"]
        return {"ready_seconds": round(ready, 2), "rss_mb": st["rss_mb"],
                "gallery_step_seconds": steps.get("gallery", {}).get("seconds"),
                "rss_mb_before_gallery": steps.get("face_engine", {}).get("rss_mb_after"),
                "rss_mb_after_gallery": steps.get("gallery", {}).get("rss_mb_after"),
                "startup_steps_seconds": {k: v.get("seconds") for k, v in steps.items()},
                "gallery_templates": (st.get("gallery") or {}).get("templates"),
                "gallery_bytes": (st.get("gallery") or {}).get("bytes")}

    def status(self) -> dict:
        import httpx

        return httpx.get(self.url + "/status", timeout=10).json()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc = None


class Api:
    """An admin's HTTP client of one replica."""

    def __init__(self, url: str):
        import httpx

        self.http = httpx.Client(base_url=url, timeout=60)
        r = self.http.post("/api/v1/auth/login", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        if r.status_code != 200:
            raise SystemExit(f"admin login on {url} failed ({r.status_code}): run with a fresh database, or reset the "
                             f"admin password to {ADMIN_PASSWORD!r} (ADMIN_PASSWORD=... python -m seeds reset-admin)")
        self.http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    def version(self) -> int | None:
        return (self.http.get("/status").json().get("gallery") or {}).get("version")

    def enroll_new(self, photo: bytes) -> float:
        """A new user enrolled with one photo (allow_duplicate: the stream reuses a few photos); returns the
        perf_counter() time its 201 was read."""
        code = f"{STREAM_PREFIX}{uuid.uuid4().hex[:12]}"
        r = self.http.post("/api/v1/users", json={"employee_code": code, "full_name": f"Stream {code[-12:]}",
                                                  "role": "employee"})
        r.raise_for_status()
        r = self.http.post(f"/api/v1/users/{r.json()['id']}/faces", files=[("images", ("p.jpg", photo, "image/jpeg"))],
                           data={"consent": "true", "allow_duplicate": "true"})
        if r.status_code != 201:
            raise SystemExit(f"enrollment on A failed ({r.status_code}): {r.text[:300]}")
        return time.perf_counter()


def wait_version(replica: Replica, version: int, since: float, timeout: float = 30.0) -> float:
    """ms from `since` until replica's gallery holds `version` (its /status read every 10 ms)."""
    import httpx

    with httpx.Client(base_url=replica.url, timeout=10) as http:
        while True:
            got = (http.get("/status").json().get("gallery") or {}).get("version")
            if got is not None and got >= version:
                return (time.perf_counter() - since) * 1000
            if time.perf_counter() - since > timeout:
                raise SystemExit(f"replica {replica.name} never reached gallery version {version} (has {got})")
            time.sleep(0.01)


def kiosk_run(url: str, key: str, probe: bytes, n: int) -> tuple[list[float], dict]:
    import httpx

    lat, outcomes = [], {}
    with httpx.Client(base_url=url, timeout=60) as http:
        for _ in range(n):
            t0 = time.perf_counter()
            r = http.post("/api/v1/kiosk/check", headers={"X-Device-Key": key},
                          data={"request_id": str(uuid.uuid4())}, files={"image": ("k.jpg", probe, "image/jpeg")})
            body = r.json()
            lat.append((time.perf_counter() - t0) * 1000)
            code = (body.get("error") or {}).get("code")
            what = body.get("decision") if r.status_code == 200 else f"{r.status_code}:{code}"
            outcomes[what] = outcomes.get(what, 0) + 1
    return lat, outcomes


def search_figures(bench: Bench, searches: int) -> dict:
    """The server's gallery code loaded here from the same database: search time and the memory the load added."""
    import numpy as np
    import psutil

    from server.faces.gallery import Gallery

    proc = psutil.Process()
    before = proc.memory_info().rss
    g = Gallery()
    t0 = time.perf_counter()
    with bench.db.session() as s:
        n = g.load(s, bench.engine.model_id, bench.engine.dim)
    load_s = time.perf_counter() - t0
    added = proc.memory_info().rss - before
    rng = np.random.default_rng(7)
    q = rng.standard_normal((searches, bench.engine.dim)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    times = []
    for v in q:
        t0 = time.perf_counter()
        g.search(v, bench.engine.model_id, 5)
        times.append((time.perf_counter() - t0) * 1000)
    g.close()
    dim = bench.engine.dim
    return {"templates": n, "load_seconds": round(load_s, 2), "search_ms": _summary(times),
            "rss_added_mb": round(added / 2**20, 1), "rss_added_bytes_per_template": round(added / max(n, 1)),
            "gallery_bytes_per_template": round(g.nbytes() / max(n, 1)), "embedding_bytes_per_template": dim * 4}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--enrolled", type=int, default=10_000, help="people in the gallery (real + synthetic)")
    ap.add_argument("--replicas", type=int, default=2, help="replicas started with ./run.sh (>= 2)")
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="PostgreSQL database (required)")
    ap.add_argument("--faces-dir", default=str(ROOT.parent / "shared" / "faces"))
    ap.add_argument("--real", type=int, default=20, help="real identities enrolled (probes and the stream's photos)")
    ap.add_argument("--changes", type=int, default=10, help="enrollments on A whose visibility on B is timed")
    ap.add_argument("--kiosk-requests", type=int, default=100, help="kiosk checks per phase (quiet, during stream)")
    ap.add_argument("--stream-interval", type=float, default=0.5, help="seconds between the stream's enrollments")
    ap.add_argument("--searches", type=int, default=200)
    ap.add_argument("--poll-seconds", type=float, default=None, help="GALLERY_POLL_SECONDS of the replicas "
                                                                      "(default: the server's)")
    ap.add_argument("--ready-timeout", type=float, default=300)
    ap.add_argument("--json", action="store_true", help="print only the JSON result on stdout")
    a = ap.parse_args(argv)
    if not a.database_url or not a.database_url.startswith("postgresql"):
        ap.error("--database-url must be a PostgreSQL URL (replicas share one PostgreSQL)")
    if a.replicas < 2:
        ap.error("--replicas must be at least 2")
    quiet = a.json
    from live_server import default_models_dir

    models_dir = default_models_dir()
    env = {"GALLERY_POLL_SECONDS": str(a.poll_seconds)} if a.poll_seconds is not None else {}

    # 1. the database
    t0 = time.perf_counter()
    from seeds import run_all
    from server.migrate import migrate_at_startup
    from server.startup import ensure_directories

    bargs = argparse.Namespace(database_url=a.database_url, data_dir=tempfile.mkdtemp(prefix="faceclock-scale-"))
    os.environ.update({"ADMIN_PASSWORD": ADMIN_PASSWORD, "MODELS_DIR": str(models_dir)})
    bench = Bench(bargs, quiet)
    ensure_directories(bench.settings)
    migrate_at_startup(bench.db, bench.settings)
    with bench.db.session() as s:
        run_all(s, bench.settings)
    people = bench.enroll_real(real_people(Path(a.faces_dir), a.real))
    if len(people) < 2:
        raise SystemExit("fewer than 2 usable real people: check --faces-dir")
    bench.set_synthetic(max(0, a.enrolled - len(people)))
    counts = bench.gallery_counts()
    key = bench.kiosk_keys(1)[0]
    cleared = bench.clear_attendance()  # earlier runs' punches of the probe's person: each check reads its whole day
    log(quiet, f"database ready in {time.perf_counter() - t0:.1f}s: {counts}; cleared {cleared}")
    search = search_figures(bench, a.searches)
    log(quiet, f"search: {search}")

    # 2. the replicas, one after the other
    replicas = [Replica(chr(ord("A") + i), a.database_url, models_dir, env) for i in range(a.replicas)]
    out: dict = {"enrolled": counts, "cleared_attendance": cleared, "replicas": {}, "search": search,
                 "cpus": os.cpu_count(), "dialect": bench.db.dialect, "model_id": bench.engine.model_id,
                 "dim": bench.engine.dim}
    try:
        for r in replicas:
            out["replicas"][r.name] = r.start(a.ready_timeout)
            log(quiet, f"replica {r.name}: {out['replicas'][r.name]}")
        A, B = replicas[0], replicas[1]
        api_a = Api(A.url)
        probe_person = people[0]
        probe = probe_person.probes[0].read_bytes()
        stream_photos = [p.enroll.read_bytes() for p in people[1:]]
        kiosk_run(B.url, key, probe, 5)  # warm-up (unmeasured)

        # 3. visibility of single enrollments
        vis = []
        for i in range(a.changes):
            answered = api_a.enroll_new(stream_photos[i % len(stream_photos)])
            vis.append(wait_version(B, api_a.version(), answered))
            time.sleep(0.2)
        out["visibility_ms"] = _summary(vis)
        log(quiet, f"visibility: {out['visibility_ms']}")

        # 4. the kiosk on B: quiet, then during a stream of enrollments on A
        quiet_lat, quiet_out = kiosk_run(B.url, key, probe, a.kiosk_requests)
        stop, stream_count, stream_errors = threading.Event(), [], []

        def stream() -> None:
            i = 0
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    api_a.enroll_new(stream_photos[i % len(stream_photos)])
                    stream_count.append(1)
                except BaseException as exc:  # noqa: BLE001 - reported in the JSON
                    stream_errors.append(repr(exc)[:200])
                i += 1
                stop.wait(max(0.0, a.stream_interval - (time.perf_counter() - started)))

        streamer = threading.Thread(target=stream, daemon=True)
        streamer.start()
        time.sleep(1.0)
        busy_lat, busy_out = kiosk_run(B.url, key, probe, a.kiosk_requests)
        stop.set()
        streamer.join(30)
        out["kiosk_quiet_ms"] = {**_summary(quiet_lat), "outcomes": quiet_out}
        out["kiosk_during_enrollments_ms"] = {**_summary(busy_lat), "outcomes": busy_out,
                                              "stream_interval_s": a.stream_interval,
                                              "stream_enrollments": len(stream_count),
                                              "b_caught_up_ms": round(wait_version(B, api_a.version(),
                                                                                   time.perf_counter()), 1),
                                              "stream_errors": stream_errors[:5]}
        out["kiosk_p95_ratio_during_vs_quiet"] = (round(_pct(busy_lat, .95) / _pct(quiet_lat, .95), 2)
                                                  if quiet_lat and busy_lat else None)
        log(quiet, f"kiosk quiet {out['kiosk_quiet_ms']}")
        log(quiet, f"kiosk during enrollments {out['kiosk_during_enrollments_ms']}")
        out["replica_status_after"] = {r.name: {"rss_mb": (st := r.status())["rss_mb"],
                                                "gallery": {k: v for k, v in (st.get("gallery") or {}).items()
                                                            if k != "models"}}
                                       for r in replicas}
    finally:
        for r in replicas:
            r.stop()
        bench.close()

    reps = out["replicas"].values()
    out["goals"] = {
        "ready_le_4s": all(r["ready_seconds"] <= 4 for r in reps),
        "rss_le_250mb": all(r["rss_mb"] <= 250 for r in reps),
        "visibility_le_1s": (out["visibility_ms"]["max"] or 0) <= 1000,
        "kiosk_p95_during_enrollments_le_150ms": (out["kiosk_during_enrollments_ms"]["p95"] or 0) <= 150,
        "search_le_10ms": (search["search_ms"]["p95"] or 0) <= 10,
    }
    print(json.dumps(out, indent=2))
    return 0 if all(out["goals"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
