#!/usr/bin/env python3
"""PostgreSQL stopped for 10 s during kiosk load: 503 database_unavailable meanwhile, recovery without a restart,
and every punch answered 200 stored exactly once.

    python scripts/db_outage.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres [--down 10] [--json]

What it does: creates a fresh database on that cluster, starts a server of this checkout on it (DEBOUNCE_SECONDS=0 so
every recognized check is a new punch), enrolls real people and runs --kiosks simulated kiosks. Each kiosk works like
the kiosk page: a fresh request_id per attempt; when the answer is a 5xx or no answer, it keeps the attempt and sends
it again (same request_id, captured_at of the first try) until it gets a real answer, in order. After --before
seconds the cluster is stopped (`pg_ctlcluster --skip-systemctl-redirect VERSION main stop`), started again
--down seconds later, the load goes on for --after seconds, then the kiosks drain what they kept.

Pass (every one of these; `checks` in the JSON names each):
* the outage was seen: at least one `503 database_unavailable` among the requests sent between the moment `stop`
  returned and the moment `start` was called, and no other answer in that window (a request that completes during
  the outage with anything else, or nothing sent at all, fails the run);
* recovery by itself: a 200 within --recover-within seconds (10) of the cluster's restart, from the same server
  process (same PID, never restarted);
* every request_id answered 200 recognized has exactly one punch row, with the punch id it was answered with; no
  punch row without such an answer (no orphans); attempts that were retried are stored at their captured_at;
* every attempt got a real answer by the end (nothing left in a kiosk's queue), and at least one punch was made.
A run that raises (server does not start, nobody enrolled, ...) fails with the error in the JSON. --no-stop is a
rehearsal of everything else: the three outage checks are reported as null (skipped), never as passed.
The database is dropped at the end (--keep to keep it).

This stops the whole PostgreSQL cluster: everything else using it sees the outage too. Never run it from the test suite.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, UTC
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from live_server import ADMIN_PASSWORD, Api, LiveServer, scratch_database  # noqa: E402
from soak_kiosk import default_faces, enroll_people, people_in  # noqa: E402


def pg_cluster(action: str) -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action], check=True)


class Kiosk(threading.Thread):
    """Sends attempts in order; keeps and re-sends (same request_id) anything not really answered."""

    def __init__(self, url: str, key: str, probes: list[bytes], clock, stop: threading.Event, log: list, lock):
        super().__init__(daemon=True)
        import httpx

        self.http = httpx.Client(base_url=url, timeout=30)
        self.key, self.probes, self.clock, self.stop_new, self.log, self.lock = key, probes, clock, stop, log, lock
        self.pending: list[dict] = []
        self.drain_until = None

    def run(self) -> None:
        n = 0
        while True:
            if not self.pending:
                if self.stop_new.is_set():
                    return
                self.pending.append({"request_id": str(uuid.uuid4()), "probe": self.probes[n % len(self.probes)],
                                     "captured_at": datetime.now(UTC).isoformat(), "tries": 0})
                n += 1
            item = self.pending[0]
            if self.drain_until and time.monotonic() > self.drain_until:
                return
            item["tries"] += 1
            data = {"request_id": item["request_id"]}
            if item["tries"] > 1:
                data["captured_at"] = item["captured_at"]
            t = self.clock()
            try:
                r = self.http.post("/api/v1/kiosk/check", headers={"X-Device-Key": self.key}, data=data,
                                   files=[("image", ("f.jpg", item["probe"], "image/jpeg"))])
                status = r.status_code
                body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
            except Exception as exc:
                status, body = 0, {"error": {"code": exc.__class__.__name__}}
            with self.lock:
                self.log.append({"t": t, "request_id": item["request_id"], "status": status, "body": body,
                                 "captured_at": item["captured_at"]})
            if status == 0 or status >= 500:
                time.sleep(0.5)
                continue
            self.pending.pop(0)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pg-url", required=True, help="a PostgreSQL URL of the cluster (its database is not touched)")
    p.add_argument("--down", type=float, default=10.0, help="seconds the cluster stays stopped")
    p.add_argument("--before", type=float, default=5.0, help="seconds of load before the stop")
    p.add_argument("--after", type=float, default=15.0, help="seconds of load after the restart")
    p.add_argument("--recover-within", type=float, default=10.0,
                   help="a 200 must come within this many seconds of the cluster's restart")
    p.add_argument("--kiosks", type=int, default=4)
    p.add_argument("--faces", type=Path, default=default_faces())
    p.add_argument("--no-stop", action="store_true",
                   help="rehearsal: everything but stopping the cluster (the outage checks are reported as skipped)")
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)

    from sqlalchemy.engine import make_url

    base = make_url(a.pg_url)
    result: dict = {"rehearsal": a.no_stop}
    # the database is dropped after the finally below has started the cluster again
    with scratch_database(a.pg_url, f"faceclock_outage_{int(time.time())}", keep=a.keep, report=result) as url:
        server = LiveServer(Path(tempfile.mkdtemp(prefix="db-outage-")), database_url=url,
                            env={"DEBOUNCE_SECONDS": "0", "DB_CONNECT_TIMEOUT": "2",
                                 "LOCKOUT_MAX_PER_CLIENT": "1000000"})
        t0 = time.monotonic()
        clock = lambda: round(time.monotonic() - t0, 2)  # noqa: E731  (t0 is reset when the load starts)
        log, lock, stop_new = [], threading.Lock(), threading.Event()
        events: dict[str, float] = {}
        stopped = False
        try:
            server.start()
            pid = server.pid
            api = Api(server.url)
            api.login_admin(password=ADMIN_PASSWORD)
            probes = enroll_people(api, people_in(a.faces), uuid.uuid4().hex[:6])
            if not probes:
                raise RuntimeError(f"nobody could be enrolled from {a.faces}")
            key = api.create_device("outage")["api_key"]
            kiosks = [Kiosk(server.url, key, probes[i::a.kiosks] or probes, clock, stop_new, log, lock)
                      for i in range(a.kiosks)]
            t0 = time.monotonic()
            for k in kiosks:
                k.start()
            time.sleep(a.before)
            events["db_stopped"] = clock()
            if not a.no_stop:
                stopped = True
                pg_cluster("stop")
            events["db_stop_returned"] = clock()
            time.sleep(a.down)
            events["db_starting"] = clock()
            if not a.no_stop:
                pg_cluster("start")
                stopped = False
            events["db_started"] = clock()
            time.sleep(a.after)
            stop_new.set()
            for k in kiosks:
                k.drain_until = time.monotonic() + 60
            for k in kiosks:
                k.join(90)
            events["end"] = clock()
            result.update(analyse(log, events, url, kiosks))
            result["server_pid_unchanged"] = (server.proc is not None and server.proc.poll() is None
                                              and server.pid == pid)
        except Exception as exc:  # noqa: BLE001  reported, and the run fails
            result["error"] = f"{exc.__class__.__name__}: {exc}"
            result["server_log_tail"] = server.log_tail(20)
        finally:
            stop_new.set()
            if stopped or (not a.no_stop and not _pg_up(base)):
                pg_cluster("start")
            server.stop()
    result["checks"] = checks(result, a.recover_within)
    result["passed"] = "error" not in result and all(v is not False for v in result["checks"].values())
    print(json.dumps(result, indent=2) if a.json else summary_line(result))
    return 0 if result["passed"] else 1


def checks(r: dict, recover_within: float) -> dict:
    """Each requirement as True / False (None = not applicable: the outage checks of a --no-stop rehearsal)."""
    if "error" in r:
        return {"ran": False}
    outage = None if r["rehearsal"] else {
        # the outage was really seen: at least one 503 database_unavailable, and nothing else, while it lasted
        "saw_503_database_unavailable": r["outage_503_database_unavailable"] >= 1,
        "only_503_database_unavailable_while_down": r["outage_answers_other_than_503"] == 0,
        # recovery by itself: a 200 soon after the cluster's restart, from the same server process
        "recovered_within_limit": r["first_200_after_db_start_s"] is not None
        and r["first_200_after_db_start_s"] <= recover_within,
    }
    return {
        **(outage or {"saw_503_database_unavailable": None, "only_503_database_unavailable_while_down": None,
                      "recovered_within_limit": None}),
        "server_not_restarted": r["server_pid_unchanged"],
        "punches_answered": r["answered_200_recognized"] > 0,
        "every_200_stored_exactly_once_with_its_id": r["punches_not_exactly_once"] == 0,
        "no_orphan_punches": r["punches_without_a_200"] == 0 and r["punch_rows"] == r["answered_200_recognized"],
        "retried_punches_at_capture_time": r["retried_punches_not_at_capture_time"] == 0,
        "nothing_left_unanswered": r["unanswered"] == 0,
    }


def _pg_up(url) -> bool:
    cmd = ["pg_isready", "-q", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)]
    return subprocess.run(cmd).returncode == 0


def analyse(log: list, events: dict, url: str, kiosks) -> dict:
    from sqlalchemy import create_engine, text

    down_from, up_at = events["db_stop_returned"], events["db_started"]
    # requests sent while the cluster was surely down: after `stop` returned, before `start` was called
    during = [e for e in log if down_from <= e["t"] <= events["db_starting"]]
    outage = Counter(f"{e['status']} {(e['body'].get('error') or {}).get('code', e['body'].get('decision'))}"
                     for e in during)
    first_ok_after = next((e["t"] for e in log if e["t"] >= up_at and e["status"] == 200), None)
    answered = {e["request_id"]: e for e in log if 0 < e["status"] < 500}
    recognized = {rid: e["body"]["punch"] for rid, e in answered.items()
                  if e["status"] == 200 and e["body"].get("decision") == "recognized"}
    engine = create_engine(url)
    with engine.connect() as c:
        rows = c.execute(text("SELECT id, request_id, at FROM punches")).all()
    engine.dispose()
    per_request = Counter(r.request_id for r in rows)
    by_request = {r.request_id: r for r in rows}
    mismatched = [rid for rid, punch in recognized.items()
                  if per_request.get(rid) != 1 or by_request[rid].id != punch["id"]]
    orphans = [r.id for r in rows if r.request_id is None or r.request_id not in recognized]
    tries = Counter(e["request_id"] for e in log)
    first_try = {}
    for e in log:
        first_try.setdefault(e["request_id"], e)
    # an attempt retried after a failed try is stored at the time it was captured (its captured_at), not later
    late = [rid for rid in recognized if tries[rid] > 1 and rid in by_request
            and abs((_utc(by_request[rid].at) - datetime.fromisoformat(first_try[rid]["captured_at"])).total_seconds())
            > 5]
    return {
        "events_s": events, "requests_sent": len(log), "distinct_attempts": len(tries),
        "attempts_retried": sum(1 for n in tries.values() if n > 1),
        "answers_while_down": dict(outage.most_common()),
        "outage_503_database_unavailable": outage.get("503 database_unavailable", 0),
        "outage_answers_other_than_503": sum(n for k, n in outage.items() if k != "503 database_unavailable"),
        "first_200_after_db_start_s": None if first_ok_after is None else round(first_ok_after - up_at, 2),
        "answered_200_recognized": len(recognized), "punch_rows": len(rows),
        "punches_not_exactly_once": len(mismatched), "punches_without_a_200": len(orphans),
        "retried_punches_not_at_capture_time": len(late),
        "unanswered": sum(len(k.pending) for k in kiosks),
        "statuses": dict(Counter(e["status"] for e in log)),
    }


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def summary_line(r: dict) -> str:
    if "error" in r:
        return f"ERROR {r['error']}; FAIL"
    failed = [k for k, v in r["checks"].items() if v is False]
    mode = "REHEARSAL (cluster not stopped; outage checks skipped) " if r["rehearsal"] else ""
    return (f"{mode}db down {r['events_s']['db_stop_returned']}–{r['events_s']['db_started']} s: answers meanwhile "
            f"{r['answers_while_down']}; first 200 {r['first_200_after_db_start_s']} s after the restart; "
            f"{r['answered_200_recognized']} punches answered 200, {r['punch_rows']} rows; "
            f"{'PASS' if r['passed'] else 'FAIL ' + ', '.join(failed)}")


if __name__ == "__main__":
    sys.exit(main())
