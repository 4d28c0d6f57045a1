#!/usr/bin/env python3
"""HR import benchmark: people per minute through POST /api/v1/faces/batch, and what the import does to a kiosk
checking at a steady rate on the same server — in one run.

    .venv/bin/python scripts/bench_import.py --json                       # SQLite, batch threads 1 then 2
    .venv/bin/python scripts/bench_import.py --batch-threads 1 --database-url postgresql+psycopg://...  --json

For each value of --batch-threads (ENROLL_BATCH_THREADS: the inference slots a batch may hold; the server's default
is FACE_THREADS - 1) a fresh server is started the way the other benches start it (scripts/live_server.py: uvicorn
with the app factory, its own data directory, DEBOUNCE_SECONDS=0 so every recognized kiosk check writes a punch; a
fresh SQLite file, or a fresh PostgreSQL database made next to --database-url's and dropped after). Then:

1. set-up: one kiosk person (deepface_id03 of ../shared/faces: img50 enrolled, img51 the probe) and a kiosk device;
   one user per other person of the photo set (POST /api/v1/users): every identity of labels.csv (LFW and deepface,
   up to 5 photos each per round; more in later rounds), and each unlabelled photo (no face, several faces) as a
   person of its own, so refusals are part of the import;
2. baseline: the kiosk alone for --baseline-seconds at --kiosk-rate checks/s (one frame per check, its own HTTP
   connection), latency from before the request is sent to the answer read;
3. import: the people in batches of --batch-people, one request after the other (one HR client), while the kiosk
   goes on at the same rate; then the kiosk alone again for --after-seconds.

Reported: people enrolled per minute and photos per minute of the import (wall time of all batches), refusals by
code, and the kiosk's median/P95 before, during and after, with the ratio during/before. The load average is
reported too: on a machine shared with other work, compare the ratios of one run, not the absolute figures.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_server import ROOT, Api, LiveServer, scratch_database  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

KIOSK_IDENTITY, KIOSK_ENROLL, KIOSK_PROBE = "deepface_id03", "img50.jpg", "img51.jpg"
PER_PERSON = 5


def default_faces() -> Path:
    return ROOT.parent / "shared" / "faces"


def import_people(faces: Path) -> list[tuple[str, list[Path]]]:
    """(employee code, photos) for every identity but the kiosk's, then one person per unlabelled photo."""
    groups: dict[str, list[Path]] = {}
    loose: list[Path] = []
    with open(faces / "labels.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            path = faces / row["path"]
            if row["identity"] == KIOSK_IDENTITY:
                continue
            if row["identity"]:
                groups.setdefault(row["identity"], []).append(path)
            else:
                loose.append(path)
    people = [(f"IMP-{i:04d}", sorted(v)) for i, (_, v) in enumerate(sorted(groups.items()))]
    people += [(f"IMP-X{i:02d}", [p]) for i, p in enumerate(sorted(loose))]
    return people


def batches(people: list[tuple[str, list[Path]]], size: int) -> list[list[tuple[str, list[Path]]]]:
    """Rounds of at most PER_PERSON photos per person (one entry per person per batch), packed `size` people each."""
    out, rnd = [], 0
    while True:
        entries = [(code, photos[rnd * PER_PERSON:(rnd + 1) * PER_PERSON]) for code, photos in people
                   if len(photos) > rnd * PER_PERSON]
        if not entries:
            return out
        out += [entries[i:i + size] for i in range(0, len(entries), size)]
        rnd += 1


def post_batch(api: Api, entries: list[tuple[str, list[Path]]]) -> dict:
    manifest, files = [], []
    for code, photos in entries:
        names = [f"{code}-{p.name}" for p in photos]
        manifest.append({"employee_code": code, "photos": names})
        files += [("photos", (n, p.read_bytes(), "image/jpeg")) for n, p in zip(names, photos)]
    r = api.http.post("/api/v1/faces/batch", data={"manifest": json.dumps({"people": manifest}), "consent": "true"},
                      files=files, headers=api._auth(), timeout=600)
    if r.status_code != 200:
        raise AssertionError(f"batch → {r.status_code}: {r.text[:500]}")
    return r.json()


class Kiosk(threading.Thread):
    """One kiosk at a steady rate: a check every 1/rate s (or at once when the last one took longer)."""

    def __init__(self, url: str, key: str, probe: bytes, rate: float):
        super().__init__(daemon=True)
        self.api, self.key, self.probe, self.period = Api(url), key, probe, 1.0 / rate
        self.samples: list[tuple[float, float, int]] = []  # (sent at, latency ms, status)
        self.stop_event = threading.Event()

    def run(self) -> None:
        nxt = time.perf_counter()
        while not self.stop_event.is_set():
            t0 = time.perf_counter()
            try:
                r = self.api.kiosk_check(self.key, self.probe, request_id=str(uuid.uuid4()))
                r.json()
                status = r.status_code
            except Exception:  # noqa: BLE001 - a dropped connection is an error, counted
                status = 0
            self.samples.append((t0, (time.perf_counter() - t0) * 1000, status))
            nxt = max(nxt + self.period, time.perf_counter())
            self.stop_event.wait(max(0.0, nxt - time.perf_counter()))

    def window(self, start: float, end: float) -> dict:
        got = [(ms, st) for t, ms, st in self.samples if start <= t < end]
        lat = sorted(ms for ms, _ in got)
        errors = sum(1 for _, st in got if st == 0 or st >= 500)
        if not lat:
            return {"checks": 0}
        p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
        return {"checks": len(lat), "errors": errors, "recognized_200": sum(1 for _, st in got if st == 200),
                "median_ms": round(statistics.median(lat), 1), "p95_ms": round(p95, 1),
                "max_ms": round(lat[-1], 1)}


@contextmanager
def fresh_database(base_url: str | None, tag: str):
    """None: the server's own SQLite file. A PostgreSQL URL: a new database beside it, dropped on exit."""
    if not base_url:
        yield None
        return
    with scratch_database(base_url, f"{make_url(base_url).database}_import_{tag}_{os.getpid()}") as url:
        yield url


def run_one(a, threads: int, people, log) -> dict:
    faces = a.faces
    work = Path(tempfile.mkdtemp(prefix=f"bench-import-{threads}-"))
    with fresh_database(a.database_url, str(threads)) as db_url:
        env = {"DEBOUNCE_SECONDS": "0", "ENROLL_BATCH_THREADS": str(threads),
               "ENROLL_BATCH_MAX_PEOPLE": str(max(a.batch_people, 1))}
        with LiveServer(work, database_url=db_url, env=env) as srv:
            api = Api(srv.url, timeout=600)
            api.login_admin()
            kiosk_user = api.create_user("KIOSK-1", "Kiosk Person")
            api.enroll(kiosk_user["id"], [(faces / "small" / "deepface" / KIOSK_IDENTITY / KIOSK_ENROLL).read_bytes()])
            key = api.create_device("bench import kiosk")["api_key"]
            t0 = time.perf_counter()
            for code, _ in people:
                api.create_user(code, f"Import {code}")
            users_seconds = time.perf_counter() - t0
            log(f"[threads={threads}] {len(people)} users created in {users_seconds:.1f} s; kiosk baseline")
            probe = (faces / "small" / "deepface" / KIOSK_IDENTITY / KIOSK_PROBE).read_bytes()
            kiosk = Kiosk(srv.url, key, probe, a.kiosk_rate)
            kiosk.start()
            time.sleep(a.warmup_seconds)
            base_start = time.perf_counter()
            time.sleep(a.baseline_seconds)
            imp_start = time.perf_counter()
            plan = batches(people, a.batch_people)
            counts = {"enrolled": 0, "already_enrolled": 0, "refused": 0}
            refused: dict[str, int] = {}
            photos = 0
            enrolled_people: set[str] = set()
            server_seconds = 0.0
            versions = []
            for i, entries in enumerate(plan):
                out = post_batch(api, entries)
                photos += sum(len(p) for _, p in entries)
                server_seconds += out["seconds"]
                versions.append(out["gallery_version"])
                for k in counts:
                    counts[k] += out[k]
                for code, n in out["refused_by_code"].items():
                    refused[code] = refused.get(code, 0) + n
                enrolled_people.update(p["employee_code"] for p in out["people"] if p["status"] == "enrolled")
                log(f"  batch {i + 1}/{len(plan)}: {out['enrolled']} enrolled, {out['refused']} refused, "
                    f"{out['seconds']:.1f} s")
            imp_end = time.perf_counter()
            time.sleep(a.after_seconds)
            after_end = time.perf_counter()
            kiosk.stop_event.set()
            kiosk.join(30)
            wall = imp_end - imp_start
            before, during, after = (kiosk.window(base_start, imp_start), kiosk.window(imp_start, imp_end),
                                     kiosk.window(imp_end, after_end))
            status = api.status()
            return {
                "batch_threads": threads,
                "import": {"people": len(people), "batches": len(plan), "photos": photos,
                           "people_enrolled": len(enrolled_people), "entries": counts, "refused_by_code": refused,
                           "seconds": round(wall, 2), "server_seconds": round(server_seconds, 2),
                           "people_per_minute": round(len(enrolled_people) / wall * 60, 1),
                           "photos_per_minute": round(photos / wall * 60, 1),
                           "version_bumps": len([v for v in versions if v is not None]),
                           "users_created_seconds": round(users_seconds, 2)},
                "kiosk": {"rate_per_s": a.kiosk_rate, "before": before, "during": during, "after": after,
                          "p95_ratio_during_vs_before": round(during["p95_ms"] / before["p95_ms"], 2)
                          if before.get("p95_ms") and during.get("p95_ms") else None,
                          "median_ratio_during_vs_before": round(during["median_ms"] / before["median_ms"], 2)
                          if before.get("median_ms") and during.get("median_ms") else None},
                "server": {"gallery_templates": (status.get("gallery") or {}).get("templates")},
            }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--faces", type=Path, default=default_faces())
    p.add_argument("--batch-threads", default="1,2", help="ENROLL_BATCH_THREADS values, one server each")
    p.add_argument("--batch-people", type=int, default=50)
    p.add_argument("--kiosk-rate", type=float, default=4.0, help="kiosk checks per second")
    p.add_argument("--warmup-seconds", type=float, default=3.0)
    p.add_argument("--baseline-seconds", type=float, default=20.0)
    p.add_argument("--after-seconds", type=float, default=10.0)
    p.add_argument("--limit-people", type=int, default=None, help="import only the first N people (quick runs)")
    p.add_argument("--database-url", help="PostgreSQL server to make fresh databases on (default: SQLite files)")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    if not (a.faces / "labels.csv").exists():
        p.error(f"{a.faces}/labels.csv not found (the shared photo set, see ../shared/faces/SOURCE.md)")
    people = import_people(a.faces)[:a.limit_people]

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    load_before = os.getloadavg()
    runs = [run_one(a, int(t), people, log) for t in a.batch_threads.split(",") if t.strip()]
    out = {"cpu_count": os.cpu_count(), "database": "postgresql" if a.database_url else "sqlite",
           "load_average_before": [round(x, 2) for x in load_before],
           "load_average_after": [round(x, 2) for x in os.getloadavg()],
           "photos_in_set": sum(len(ph) for _, ph in people), "runs": runs}
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        for r in runs:
            k, i = r["kiosk"], r["import"]
            print(f"batch threads {r['batch_threads']}: {i['people_enrolled']} people in {i['seconds']} s = "
                  f"{i['people_per_minute']} people/min ({i['photos_per_minute']} photos/min); kiosk P95 "
                  f"{k['before'].get('p95_ms')} -> {k['during'].get('p95_ms')} ms (x{k['p95_ratio_during_vs_before']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
