#!/usr/bin/env python3
"""Kiosk check benchmark: end-to-end latency (median, P95) and throughput of POST /api/v1/kiosk/check against a
live server, with N enrolled people and C concurrent kiosks.

    ./run.sh &                                   # the server, as in production (DATA_DIR=./data by default)
    .venv/bin/python scripts/bench_kiosk.py --url http://127.0.0.1:8000 --enrolled 1000 --concurrency 10 --json
    .venv/bin/python scripts/bench_kiosk.py --enrolled 10000 --concurrency 1,8,32 --json

How it works
* People: `--real` identities from the shared photo set (`../shared/faces`: LFW and deepface photos; one photo is
  enrolled, the others are the probes sent by the kiosks) plus synthetic people up to `--enrolled`, whose templates
  are random unit vectors of the server's model and dimension, inserted straight into the server's database
  (DATABASE_URL, or the SQLite file under DATA_DIR, as the server resolves it). Real people's templates are made by
  the same engine code the server uses (server.faces.service.embed_for_enrollment) and inserted the same way. The
  gallery version is bumped so the running server reloads its in-memory gallery. Bench rows are named BENCH-*; they
  are reused by the next run, and `--cleanup` deletes them (users, templates, punches, kiosks) at the end.
* Kiosks: C devices (keys made directly in the database), one thread each with its own HTTP connection. Every
  request is a fresh request_id with one real probe photo; the clock starts before the request is sent and stops when
  the JSON answer is read. Latency is over all answers (recognized, unknown, 422); errors are counted apart.
* Output: JSON with, per concurrency level, requests, latency ms (min/median/mean/p95/p99/max), throughput (answers
  per second of wall time) and the decisions (recognized right / wrong, unknown, refused).

Synthetic templates are nearly orthogonal to real faces, so they cost the 1:N product its full size but rarely
compete with the real person in the margin rule: the accuracy figures here are not an evaluation (see
scripts/evaluate_faces.py for that).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REAL_PREFIX = "BENCH-R-"
SYNTH_PREFIX = "BENCH-S-"
DEVICE_PREFIX = "bench-kiosk-"


@dataclass
class Person:
    identity: str
    enroll: Path
    probes: list[Path]
    user_id: int | None = None


@dataclass
class Level:
    concurrency: int
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    wall: float = 0.0


def log(quiet: bool, *args) -> None:
    if not quiet:
        print(*args, file=sys.stderr, flush=True)


def real_people(faces_dir: Path, wanted: int) -> list[Person]:
    """Identities with at least two single-face photos: the first is enrolled, the rest are probes."""
    groups: dict[str, list[Path]] = {}
    with open(faces_dir / "labels.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            ident, n_faces = row["identity"], row.get("n_faces") or ""
            if not ident or n_faces not in ("", "1"):
                continue
            groups.setdefault(ident, []).append(faces_dir / row["path"])
    people = [Person(k, sorted(v)[0], sorted(v)[1:]) for k, v in sorted(groups.items()) if len(v) >= 2]
    return people[:wanted]


def _settings(args):
    from server.config import Settings

    overrides = {}
    if args.database_url:
        overrides["database_url"] = args.database_url
    if args.data_dir:
        overrides["data_dir"] = Path(args.data_dir)
    return Settings(**overrides)


def prepare(args, quiet: bool) -> tuple[list[Person], list[str], dict]:
    """Enrolls the real people and the synthetic ones (reusing earlier bench rows), makes C kiosk keys."""
    import numpy as np
    from sqlalchemy import func, insert, select

    from server.database import Database
    from server.devices.service import create_device
    from server.faces import service as faces
    from server.faces.gallery import bump_version
    from server.faces.loader import get_engine
    from server.faces.models import FaceTemplate
    from server.users.models import User

    settings = _settings(args)
    db = Database(settings.effective_database_url)
    engine = get_engine(settings)
    people = real_people(Path(args.faces_dir), args.real)
    log(quiet, f"engine {engine.model_id} (dim {engine.dim}); database {db.dialect}; {len(people)} real identities")
    usable: list[Person] = []
    with db.session() as s:
        existing = {code: uid for code, uid in s.execute(
            select(User.employee_code, User.id).where(User.employee_code.like("BENCH-%")))}
        enrolled_real = set(s.scalars(select(FaceTemplate.user_id).where(FaceTemplate.model_id == engine.model_id)))
        for i, p in enumerate(people):
            code = f"{REAL_PREFIX}{i:04d}"
            uid = existing.get(code)
            if uid is not None and uid in enrolled_real:
                p.user_id = uid
                usable.append(p)
                continue
            try:
                samples = faces.embed_for_enrollment([p.enroll.read_bytes()], engine=engine, settings=settings)
            except Exception as exc:  # noqa: BLE001  a photo the quality gate refuses: skip that person
                log(quiet, f"  skip {p.identity}: {getattr(exc, 'code', exc)}")
                continue
            if uid is None:
                user = User(employee_code=code, full_name=f"Bench {p.identity}", role="employee")
                s.add(user)
                s.flush()
                uid = user.id
            faces.store_templates(s, uid, samples, settings=settings.model_copy(update={"keep_enrollment_images": False}))
            p.user_id = uid
            usable.append(p)
        s.flush()
        want_synth = max(0, args.enrolled - len(usable))
        have_synth = s.scalar(select(func.count()).select_from(User).where(
            User.employee_code.like(f"{SYNTH_PREFIX}%"))) or 0
        if have_synth < want_synth:
            rng = np.random.default_rng(have_synth)
            codes = [f"{SYNTH_PREFIX}{i:06d}" for i in range(have_synth, want_synth)]
            s.execute(insert(User), [{"employee_code": c, "full_name": f"Synthetic {c[-6:]}", "role": "employee"}
                                     for c in codes])
            ids = dict(s.execute(select(User.employee_code, User.id).where(User.employee_code.in_(codes))).all())
            vecs = rng.standard_normal((len(codes), engine.dim)).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            s.execute(insert(FaceTemplate), [
                {"user_id": ids[c], "model_id": engine.model_id, "dim": engine.dim, "embedding": v.tobytes(),
                 "quality": {"synthetic": True}} for c, v in zip(codes, vecs)])
        elif have_synth > want_synth:
            log(quiet, f"  note: {have_synth} synthetic people already in the database (more than needed); "
                       f"run with --cleanup to start again")
        bump_version(s)
        keys = []
        for i in range(max(args.levels)):
            _, key = create_device(s, name=f"{DEVICE_PREFIX}{i}", site=None, actor_user_id=None)
            keys.append(key)
        templates = s.scalar(select(func.count()).select_from(FaceTemplate).where(
            FaceTemplate.model_id == engine.model_id)) or 0
        people_count = s.scalar(select(func.count(func.distinct(FaceTemplate.user_id))).where(
            FaceTemplate.model_id == engine.model_id)) or 0
    db.dispose()
    info = {"model_id": engine.model_id, "dim": engine.dim, "database": db.dialect, "templates": templates,
            "enrolled_people": people_count, "real_people": len(usable)}
    return usable, keys, info


def cleanup(args, quiet: bool) -> dict:
    from sqlalchemy import delete, select

    from server.database import Database
    from server.devices.models import Device
    from server.faces.gallery import bump_version
    from server.users.models import User

    db = Database(_settings(args).effective_database_url)
    with db.session() as s:
        ids = list(s.scalars(select(User.id).where(User.employee_code.like("BENCH-%"))))
        for i in range(0, len(ids), 1000):
            s.execute(delete(User).where(User.id.in_(ids[i:i + 1000])))
        devices = s.execute(delete(Device).where(Device.name.like(f"{DEVICE_PREFIX}%"))).rowcount
        bump_version(s)
    db.dispose()
    log(quiet, f"cleanup: {len(ids)} bench users and {devices} bench kiosks deleted")
    return {"users": len(ids), "devices": devices}


def wait_ready(url: str, timeout: float) -> dict:
    import httpx

    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            r = httpx.get(f"{url}/ready", timeout=5)
            if r.status_code == 200:
                return r.json()
            last = r.text
        except httpx.HTTPError as exc:
            last = str(exc)
        time.sleep(1)
    raise SystemExit(f"server at {url} not ready after {timeout}s: {last}")


def run_level(url: str, keys: list[str], people: list[Person], concurrency: int, total: int) -> Level:
    import httpx

    probes = [(p.user_id, path, path.read_bytes()) for p in people for path in p.probes]
    level = Level(concurrency)
    lock = threading.Lock()
    counter = iter(range(total))
    start_gate = threading.Barrier(concurrency + 1)

    def worker(k: int) -> None:
        with httpx.Client(base_url=url, timeout=60, headers={"X-Device-Key": keys[k]}) as client:
            start_gate.wait()
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                expected, path, data = probes[(n * 7 + k) % len(probes)]
                files = {"image": (path.name, data, "image/jpeg")}
                t0 = time.perf_counter()
                try:
                    r = client.post("/api/v1/kiosk/check", data={"request_id": str(uuid.uuid4())}, files=files)
                    body = r.json()
                except (httpx.HTTPError, ValueError) as exc:
                    with lock:
                        level.errors[type(exc).__name__] += 1
                    continue
                ms = (time.perf_counter() - t0) * 1000
                if r.status_code == 200 and body.get("decision") == "recognized":
                    outcome = "recognized_right" if body["user"]["id"] == expected else "recognized_wrong"
                elif r.status_code == 200:
                    outcome = "unknown"
                elif r.status_code == 422:
                    outcome = "refused:" + body.get("error", {}).get("code", "?")
                else:
                    with lock:
                        level.errors[f"http_{r.status_code}:{body.get('error', {}).get('code', '?')}"] += 1
                    continue
                with lock:
                    level.latencies.append(ms)
                    level.outcomes[outcome] += 1

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(concurrency)]
    for t in threads:
        t.start()
    start_gate.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    level.wall = time.perf_counter() - t0
    return level


def summarize(level: Level) -> dict:
    lat = sorted(level.latencies)

    def pct(q: float) -> float | None:
        if not lat:
            return None
        return round(lat[min(len(lat) - 1, max(0, int(round(q * len(lat) + 0.5)) - 1))], 1)

    return {
        "concurrency": level.concurrency,
        "requests": len(lat) + sum(level.errors.values()),
        "answered": len(lat),
        "latency_ms": {"min": round(lat[0], 1) if lat else None, "median": round(statistics.median(lat), 1) if lat
                       else None, "mean": round(statistics.fmean(lat), 1) if lat else None, "p95": pct(0.95),
                       "p99": pct(0.99), "max": round(lat[-1], 1) if lat else None},
        "throughput_rps": round(len(lat) / level.wall, 2) if level.wall else None,
        "wall_seconds": round(level.wall, 2),
        "outcomes": dict(sorted(level.outcomes.items())),
        "errors": dict(level.errors),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default=os.environ.get("BENCH_URL", "http://127.0.0.1:8000"), help="live server")
    ap.add_argument("--enrolled", type=int, default=1000, help="people in the gallery (real + synthetic)")
    ap.add_argument("--concurrency", default="10", help="concurrent kiosks, a comma list (e.g. 1,8,32)")
    ap.add_argument("--requests", type=int, default=0,
                    help="requests per level (default: max(100, 20 x concurrency))")
    ap.add_argument("--real", type=int, default=60, help="real identities to enroll from --faces-dir")
    ap.add_argument("--faces-dir", default=str(ROOT.parent / "shared" / "faces"))
    ap.add_argument("--database-url", default=None, help="the server's database (default: as the server resolves it)")
    ap.add_argument("--data-dir", default=None, help="the server's DATA_DIR (default: as the server resolves it)")
    ap.add_argument("--warmup", type=int, default=10, help="unmeasured requests before the first level")
    ap.add_argument("--ready-timeout", type=float, default=120)
    ap.add_argument("--cleanup", action="store_true", help="delete the bench people and kiosks at the end")
    ap.add_argument("--json", action="store_true", help="print only the JSON result on stdout")
    args = ap.parse_args(argv)
    args.levels = [int(x) for x in str(args.concurrency).split(",") if x.strip()]
    quiet = args.json
    url = args.url.rstrip("/")

    wait_ready(url, args.ready_timeout)
    t0 = time.perf_counter()
    people, keys, info = prepare(args, quiet)
    if not people:
        raise SystemExit("no usable real probe photos: check --faces-dir")
    log(quiet, f"prepared in {time.perf_counter() - t0:.1f}s: {info}")
    time.sleep(2.5)  # the server notices the gallery version within GALLERY_POLL_SECONDS
    if args.warmup:
        run_level(url, keys, people, 1, args.warmup)
    levels = []
    for c in args.levels:
        total = args.requests or max(100, 20 * c)
        log(quiet, f"concurrency {c}: {total} requests ...")
        result = summarize(run_level(url, keys, people, c, total))
        log(quiet, f"  median {result['latency_ms']['median']} ms, p95 {result['latency_ms']['p95']} ms, "
                   f"{result['throughput_rps']} req/s, outcomes {result['outcomes']}, errors {result['errors']}")
        levels.append(result)
    try:
        import httpx

        status = httpx.get(f"{url}/status", timeout=10).json()
        server = {"version": status.get("version"), "face_model": status.get("face_model"),
                  "models": status.get("models"), "gallery": status.get("gallery"),
                  "database": status.get("database")}
    except Exception as exc:  # noqa: BLE001
        server = {"error": str(exc)}
    out = {"url": url, "enrolled": args.enrolled, "enrolled_people": info["enrolled_people"],
           "gallery_templates": info["templates"],
           "real_identities": info["real_people"], "probe_photos": sum(len(p.probes) for p in people),
           "model_id": info["model_id"], "database": info["database"], "server": server,
           "client": {"python": platform.python_version(), "cpus": os.cpu_count()}, "levels": levels}
    if args.cleanup:
        out["cleanup"] = cleanup(args, quiet)
    print(json.dumps(out, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
