#!/usr/bin/env python3
"""Soak: many kiosk checks with real photos against a live server; RSS growth, errors, latency.

    python scripts/soak_kiosk.py --start --checks 10000 [--concurrency 4] [--frames 3] [--json]
    python scripts/soak_kiosk.py --url http://127.0.0.1:8000 --admin-password ... --pid PID

People: one per folder of --faces (default ../shared/faces/small/deepface, else tests/fixtures/faces); each is
enrolled with all but one photo, and every photo of theirs is a probe. Each check is a fresh request_id. Probes are
sent as a kiosk camera would: at most --probe-size pixels on the long side (640), JPEG; with --frames 2 or 3, one
check carries that many frames of the SAME photo, each shifted by a few pixels and re-encoded, like the kiosk page's
2-3 frames taken 120 ms apart (default 1 frame).

Punches: with --start the server runs with DEBOUNCE_SECONDS=0, so every recognized check writes a new punch (and its
work-day update) instead of returning the first punch of the minute; against --url, start the server with
DEBOUNCE_SECONDS=0 yourself (the JSON counts `recognized_duplicate` answers, which should then be 0).

RSS (from the PID with psutil, or GET /status) is sampled before the first check ("start"), after --warmup checks
("after_warmup": lazy initialisation and the first allocations of every thread are not growth) and every
--sample-every checks. Reported: growth from the warm-up baseline to the end, growth from the start sample, and the
maximum sampled RSS. Passes when no check fails (only 200 recognized/unknown or a named 422 quality code are answers;
5xx and dropped connections are errors), and both the final RSS and the maximum sampled RSS are within
--max-growth-mb (20) of the warm-up baseline (growth from the start is reported, and checked too when
--max-growth-from-start-mb is given).
"""
from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_server import ADMIN_PASSWORD, ROOT, Api, LiveServer  # noqa: E402

IMAGE_EXT = {".jpg", ".jpeg", ".png", ".webp"}


def default_faces() -> Path:
    shared = ROOT.parent / "shared" / "faces" / "small" / "deepface"
    return shared if shared.is_dir() else ROOT / "tests" / "fixtures" / "faces"


def people_in(folder: Path) -> list[tuple[str, list[bytes]]]:
    out = []
    for d in sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in ("noface", "multi")):
        photos = [p.read_bytes() for p in sorted(d.iterdir()) if p.suffix.lower() in IMAGE_EXT]
        if len(photos) >= 2:
            out.append((d.name, photos))
    return out


def as_camera_frame(photo: bytes, long_side: int) -> bytes:
    """The photo as a kiosk camera would send it: at most long_side pixels, JPEG (0 = unchanged)."""
    if not long_side:
        return photo
    import io

    from PIL import Image, ImageOps

    img = ImageOps.exif_transpose(Image.open(io.BytesIO(photo))).convert("RGB")
    img.thumbnail((long_side, long_side))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def enroll_people(api: Api, people, tag: str, probe_size: int = 640) -> list[bytes]:
    """Enroll everyone (all photos but the last, as they are); return the probes (every photo, as camera frames)."""
    probes = []
    for i, (name, photos) in enumerate(people):
        user = api.create_user(f"SOAK-{tag}-{i}", name.replace("_", " "))
        r = api.http.post(f"/api/v1/users/{user['id']}/faces", headers=api._auth(), data={"consent": "true"},
                          files=[("images", (f"{k}.jpg", b, "image/jpeg")) for k, b in enumerate(photos[:-1][:5])])
        if r.status_code == 201:
            probes.extend(as_camera_frame(b, probe_size) for b in photos)
        else:
            print(f"  not enrolled {name}: {r.status_code} {r.text[:120]}", file=sys.stderr)
    return probes


def camera_frames(probe: bytes, n: int) -> list[bytes]:
    """n frames of one scene as a camera gives them: the probe, then copies shifted by 2-3 pixels, re-encoded."""
    if n <= 1:
        return [probe]
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(probe)).convert("RGB")
    w, h = img.size
    out = [probe]
    for k in range(1, n):
        dx, dy = 2 * k, k + 1
        frame = img.crop((dx, dy, w, h)).resize((w, h))
        buf = io.BytesIO()
        frame.save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


class RssProbe:
    def __init__(self, api: Api, pid: int | None):
        import psutil

        self.api, self.proc = api, psutil.Process(pid) if pid else None

    def mb(self) -> float:
        if self.proc is not None:
            return self.proc.memory_info().rss / 2**20
        return float(self.api.status()["rss_mb"])


def soak(url: str, key: str, probes: list[bytes], checks: int, concurrency: int, frames: int, rss: RssProbe,
         warmup: int, progress: bool, sample_every: int = 100) -> dict:
    import httpx

    lock = threading.Lock()
    statuses, answers, errors, latencies = Counter(), Counter(), [], []
    counter = itertools.count()
    local = threading.local()
    baseline, samples = {}, []
    frame_sets = [camera_frames(p, frames) for p in probes]
    start_mb = rss.mb()
    samples.append((0, round(start_mb, 1)))

    def client() -> httpx.Client:
        if not hasattr(local, "c"):
            local.c = httpx.Client(base_url=url, timeout=60)
        return local.c

    def one(i: int) -> None:
        imgs = frame_sets[i % len(frame_sets)]
        files = [("images", (f"f{k}.jpg", b, "image/jpeg")) for k, b in enumerate(imgs)]
        t0 = time.perf_counter()
        try:
            r = client().post("/api/v1/kiosk/check", headers={"X-Device-Key": key}, files=files,
                              data={"request_id": str(uuid.uuid4())})
        except Exception as exc:
            with lock:
                errors.append(f"{exc.__class__.__name__}: {exc}")
            return
        dt = time.perf_counter() - t0
        body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        answer = body.get("decision") or (body.get("error") or {}).get("code") or "?"
        if answer == "recognized" and body.get("duplicate"):
            answer = "recognized_duplicate"
        with lock:
            statuses[r.status_code] += 1
            answers[answer] += 1
            latencies.append(dt)
            if not (r.status_code == 200 or (r.status_code == 422 and answer != "validation_error")):
                errors.append(f"{r.status_code} {r.text[:150]}")

    def worker() -> None:
        while True:
            i = next(counter)
            if i >= checks:
                return
            if i == warmup:
                with lock:
                    baseline.setdefault("mb", rss.mb())
            one(i)
            if (i + 1) % sample_every == 0:
                mb = rss.mb()
                with lock:
                    samples.append((i + 1, round(mb, 1)))
                if progress and (i + 1) % max(sample_every, 500) == 0:
                    print(f"  {i + 1}/{checks} checks, rss {mb:.1f} MB, errors {len(errors)}", file=sys.stderr)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for f in [pool.submit(worker) for _ in range(concurrency)]:
            f.result()
    seconds = time.perf_counter() - t0
    final = rss.mb()
    samples.append((checks, round(final, 1)))
    samples.sort()
    lat = sorted(latencies)
    q = (lambda p: round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 1)) if lat else (lambda p: None)
    base = baseline.get("mb", start_mb)  # fewer checks than --warmup: the start sample is the baseline
    peak = max(s[1] for s in samples)
    return {
        "checks": checks, "concurrency": concurrency, "frames_per_check": frames, "probes": len(probes),
        "seconds": round(seconds, 1), "checks_per_second": round(checks / seconds, 1),
        "latency_ms": {"p50": q(0.5), "p95": q(0.95), "p99": q(0.99),
                       "mean": round(statistics.fmean(lat) * 1000, 1) if lat else None},
        "statuses": dict(statuses), "answers": dict(answers.most_common()), "errors": len(errors),
        "error_examples": errors[:10],
        "rss_mb": {"start": round(start_mb, 1), "after_warmup": round(base, 1), "warmup_checks": min(warmup, checks),
                   "final": round(final, 1), "max_sampled": round(peak, 1),
                   "growth": round(final - base, 1), "max_growth": round(peak - base, 1),
                   "growth_from_start": round(final - start_mb, 1),
                   "max_growth_from_start": round(peak - start_mb, 1),
                   "sample_every": sample_every, "samples": samples},
    }


def verdict(result: dict, max_growth_mb: float, max_growth_from_start_mb: float | None = None) -> list[str]:
    """Why the soak failed (empty = passed)."""
    r, why = result["rss_mb"], []
    if result["errors"]:
        why.append(f"{result['errors']} checks failed")
    if r["growth"] > max_growth_mb:
        why.append(f"RSS grew {r['growth']} MB after the warm-up (limit {max_growth_mb})")
    if r["max_growth"] > max_growth_mb:
        why.append(f"max sampled RSS {r['max_sampled']} MB is {r['max_growth']} MB above the warm-up baseline")
    if max_growth_from_start_mb is not None and r["max_growth_from_start"] > max_growth_from_start_mb:
        why.append(f"RSS rose {r['max_growth_from_start']} MB from the start (limit {max_growth_from_start_mb})")
    return why


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url")
    p.add_argument("--start", action="store_true", help="start a server of this checkout (fresh SQLite, temp dir)")
    p.add_argument("--database-url", help="with --start: use this database instead of a fresh SQLite file")
    p.add_argument("--pid", type=int)
    p.add_argument("--admin-email", default="admin@example.com")
    p.add_argument("--admin-password")
    p.add_argument("--faces", type=Path, default=default_faces())
    p.add_argument("--checks", type=int, default=10000)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--frames", type=int, default=1, choices=(1, 2, 3))
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--probe-size", type=int, default=640, help="probe long side in pixels, like a kiosk camera "
                                                               "frame (0 = the photos as they are)")
    p.add_argument("--max-growth-mb", type=float, default=20.0,
                   help="limit for final and max sampled RSS over the warm-up baseline")
    p.add_argument("--max-growth-from-start-mb", type=float, default=None,
                   help="also limit the growth from the start sample (default: reported only)")
    p.add_argument("--sample-every", type=int, default=100, help="RSS sample every N checks")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    server = None
    if a.start:
        server = LiveServer(Path(tempfile.mkdtemp(prefix="soak-")), database_url=a.database_url,
                            env={"DEBOUNCE_SECONDS": "0"}).start()
        a.url, a.pid, a.admin_password = server.url, server.pid, a.admin_password or ADMIN_PASSWORD
    if not a.url or not a.admin_password:
        p.error("give --start, or --url with --admin-password")
    try:
        api = Api(a.url)
        api.login_admin(a.admin_email, a.admin_password)
        tag = uuid.uuid4().hex[:6]
        probes = enroll_people(api, people_in(a.faces), tag, a.probe_size)
        if not probes:
            raise SystemExit(f"nobody could be enrolled from {a.faces}")
        key = api.create_device(f"soak-{tag}")["api_key"]
        result = soak(a.url, key, probes, a.checks, a.concurrency, a.frames, RssProbe(api, a.pid), a.warmup,
                      not a.json, a.sample_every)
        result["gallery"] = (api.status().get("gallery") or {})
    finally:
        if server:
            server.stop()
    result["server_debounce_seconds"] = "0 (--start)" if server else "as the server at --url is configured"
    result["fail_reasons"] = verdict(result, a.max_growth_mb, a.max_growth_from_start_mb)
    result["passed"] = not result["fail_reasons"]
    if a.json:
        print(json.dumps(result, indent=2))
    else:
        r = result
        print(f"{r['checks']} checks in {r['seconds']} s ({r['checks_per_second']}/s, concurrency {r['concurrency']}); "
              f"latency p50 {r['latency_ms']['p50']} ms p95 {r['latency_ms']['p95']} ms; answers {r['answers']}; "
              f"errors {r['errors']}; RSS start {r['rss_mb']['start']}, after warm-up {r['rss_mb']['after_warmup']}, "
              f"max {r['rss_mb']['max_sampled']}, final {r['rss_mb']['final']} MB (growth {r['rss_mb']['growth']} MB "
              f"after warm-up, {r['rss_mb']['growth_from_start']} MB from start); "
              f"{'PASS' if r['passed'] else 'FAIL: ' + '; '.join(r['fail_reasons'])}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
