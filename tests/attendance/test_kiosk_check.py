"""POST /api/v1/kiosk/check: punches, idempotency, debounce, offline captures (fake face identifier)."""
from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, select

from server.attendance.models import KioskRequest, Punch, WorkDay
from tests.fixtures.world import error_code, install_fake_faces, madrid_shift


def _count(client, model, **where):
    with client.app.state.db.session() as s:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return s.scalar(q)


def test_check_in_then_out(world, clock):
    world.new_shift(**madrid_shift())
    ana = world.employee("ANA", "Madrid day")
    clock.set(clock.t.replace(hour=7, minute=58))  # 08:58 Madrid
    r = world.check(ana)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["decision"] == "recognized" and body["duplicate"] is False
    assert body["user"] == {"id": ana["id"], "full_name": ana["full_name"]}
    p = body["punch"]
    assert p["kind"] == "in" and p["status"] == "on_time" and p["work_date"] == "2026-11-25"
    assert p["local_time"].startswith("2026-11-25T08:58:00") and p["local_time"].endswith("+01:00")

    clock.set(clock.t.replace(hour=15, minute=30))  # 16:30 Madrid
    out = world.check(ana).json()["punch"]
    assert out["kind"] == "out" and out["status"] == "on_time"  # the day is open: not judged as early yet
    clock.advance(hours=1)  # 17:30 Madrid: back in and out again → overtime on the last out
    assert world.check(ana).json()["punch"]["kind"] == "in"
    clock.advance(minutes=30)
    last = world.check(ana).json()["punch"]
    assert last["kind"] == "out" and last["status"] == "overtime"
    assert _count(world.client, Punch, user_id=ana["id"]) == 4


def test_late_arrival(world, clock):
    world.new_shift(**madrid_shift())
    bo = world.employee("BO", "Madrid day")
    clock.set(clock.t.replace(hour=8, minute=20))  # 09:20 Madrid
    assert world.check(bo).json()["punch"]["status"] == "late"


def test_same_request_id_returns_the_stored_answer(world, clock):
    ana = world.employee("ANA")
    rid = str(uuid.uuid4())
    first = world.check(ana, request_id=rid)
    clock.advance(minutes=10)  # even past the debounce window, the same request_id is the same answer
    again = world.check(ana, request_id=rid)
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert _count(world.client, Punch) == 1 and _count(world.client, KioskRequest) == 1
    # the same request_id from another kiosk is another request
    other = world.client.post("/api/v1/devices", json={"name": "Back door"}, headers=world.admin).json()["api_key"]
    assert world.check(ana, request_id=rid, key=other).json()["punch"]["kind"] == "out"


def test_debounce_returns_the_first_punch(world, clock):
    ana = world.employee("ANA")
    first = world.check(ana).json()
    clock.advance(seconds=59)
    dup = world.check(ana).json()
    assert dup["duplicate"] is True and dup["punch"] == first["punch"]
    assert _count(world.client, Punch) == 1
    clock.advance(seconds=2)
    assert world.check(ana).json()["punch"]["kind"] == "out"
    assert _count(world.client, Punch) == 2


def test_unknown_face_and_quality_refusals(world, clock):
    r = world.check(b"unknown")
    assert r.status_code == 200 and r.json()["decision"] == "unknown"
    rid = str(uuid.uuid4())
    r = world.check(b"face_blurry", request_id=rid)
    assert r.status_code == 422 and error_code(r) == "face_blurry"
    again = world.check(b"user:1", request_id=rid)  # replay: the stored refusal, no punch
    assert again.status_code == 422 and again.json() == r.json()
    assert world.check(b"no_face").status_code == 422
    assert _count(world.client, Punch) == 0


def test_inactive_user_is_unknown(world, clock):
    ana = world.employee("ANA")
    from server.users.models import User

    with world.client.app.state.db.session() as s:
        s.get(User, ana["id"]).is_active = False
    assert world.check(ana).json()["decision"] == "unknown"


def test_captured_at_window(world, clock, settings):
    ana = world.employee("ANA")
    too_old = (clock.t - timedelta(hours=settings.max_offline_hours, minutes=1)).isoformat()
    r = world.check(ana, captured_at=too_old)
    assert r.status_code == 422 and error_code(r) == "captured_at_too_old"
    future = (clock.t + timedelta(seconds=settings.clock_skew_seconds + 5)).isoformat()
    r = world.check(ana, captured_at=future)
    assert r.status_code == 422 and error_code(r) == "captured_at_in_future"
    r = world.check(ana, captured_at="2026-11-25T07:00:00")  # no offset
    assert r.status_code == 422 and error_code(r) == "invalid_captured_at"
    within_skew = (clock.t + timedelta(seconds=30)).isoformat()
    p = world.check(ana, captured_at=within_skew).json()["punch"]
    assert p["at"] == clock.t.isoformat()  # a punch never lies in the future
    offline = (clock.t - timedelta(hours=5)).isoformat().replace("+00:00", "Z")
    p = world.check(ana, captured_at=offline).json()["punch"]
    assert p["at"] == (clock.t - timedelta(hours=5)).isoformat() and p["kind"] == "in"


def test_request_validation(world, clock):
    r = world.client.post("/api/v1/kiosk/check", data={"request_id": "not-a-uuid"},
                          files={"image": ("f.jpg", b"user:1", "image/jpeg")},
                          headers={"X-Device-Key": world.device_key})
    assert r.status_code == 422
    r = world.client.post("/api/v1/kiosk/check", data={"request_id": str(uuid.uuid4())},
                          headers={"X-Device-Key": world.device_key})
    assert r.status_code == 422
    four = [("images", (f"f{i}.jpg", b"user:1", "image/jpeg")) for i in range(4)]
    r = world.client.post("/api/v1/kiosk/check", data={"request_id": str(uuid.uuid4())}, files=four,
                          headers={"X-Device-Key": world.device_key})
    assert r.status_code == 422
    r = world.check(b"user:1", key="fc_wrong")
    assert r.status_code == 401 and error_code(r) == "invalid_device_key"


def test_overnight_checkout_belongs_to_the_evening(world, clock):
    world.new_shift(**madrid_shift("Madrid night", "22:00", "06:00", break_minutes=30))
    cy = world.employee("CY", "Madrid night")
    clock.set(clock.t.replace(hour=20, minute=55))  # 21:55 Madrid, Wednesday
    assert world.check(cy).json()["punch"]["work_date"] == "2026-11-25"
    clock.set(clock.t.replace(day=26, hour=5, minute=3))  # 06:03 Madrid, Thursday
    p = world.check(cy).json()["punch"]
    assert p["kind"] == "out" and p["work_date"] == "2026-11-25" and p["status"] == "on_time"
    days = world.client.get(f"/api/v1/attendance/days?user_id={cy['id']}&from=2026-11-24&to=2026-11-27",
                            headers=world.admin).json()["items"]
    assert len(days) == 1 and days[0]["worked_minutes"] == 8 * 60 + 8 - 30 and days[0]["status"] == "present"


def test_100_parallel_identical_requests_make_one_punch(world, clock, monkeypatch):
    """Concurrency proof: the UNIQUE(device_id, request_id) constraint, not a read-then-write check. Runs on SQLite
    and, when TEST_DATABASE_URL is set, on PostgreSQL (db_url is parametrised). The face step is slowed down so that
    many requests pass the stored-answer lookup before the first one commits: they must lose on the constraint."""
    from server.attendance import kiosk
    from tests.fixtures.world import fake_identify

    def slow_identify(frames):
        time.sleep(0.2)
        return fake_identify(frames)

    conflicts = []
    real_replay = kiosk._replay_after_conflict

    def spy(*a):
        conflicts.append(1)
        return real_replay(*a)

    install_fake_faces(world.client.app, slow_identify)
    monkeypatch.setattr(kiosk, "_replay_after_conflict", spy)
    ana = world.employee("ANA")
    rid = str(uuid.uuid4())
    with ThreadPoolExecutor(max_workers=32) as pool:
        responses = list(pool.map(lambda _: world.check(ana, request_id=rid), range(100)))
    assert {r.status_code for r in responses} == {200}
    bodies = [r.json() for r in responses]
    assert all(b == bodies[0] for b in bodies)
    assert bodies[0]["duplicate"] is False
    assert _count(world.client, Punch) == 1
    assert _count(world.client, KioskRequest) == 1
    assert _count(world.client, WorkDay) == 1
    assert len(conflicts) >= 10  # most of them really raced on the INSERT


def test_parallel_distinct_requests_of_one_person_are_debounced(world, clock):
    ana = world.employee("ANA")
    with ThreadPoolExecutor(max_workers=16) as pool:
        bodies = [r.json() for r in pool.map(lambda _: world.check(ana), range(20))]
    assert sum(1 for b in bodies if not b["duplicate"]) == 1
    assert len({b["punch"]["id"] for b in bodies}) == 1
    assert _count(world.client, Punch) == 1 and _count(world.client, KioskRequest) == 20
