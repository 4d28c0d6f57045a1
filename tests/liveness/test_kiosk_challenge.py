"""The head-turn challenge at the kiosk, end to end: real HTTP, real database, the real face engine and real photos
(tests/fixtures/faces/liveness: LFW photos of one person frontal and turned, and another person turned)."""
from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from PIL import Image, ImageOps
from sqlalchemy import func, select

from server.attendance.models import KioskRequest, Punch
from server.faces.models import FaceAttempt
from server.liveness import rule
from server.liveness.models import Challenge
from tests.fixtures.world import error_code, make_world
from tests.fixtures import FIXTURES

PHOTOS = FIXTURES / "faces" / "liveness"
FRONTAL = (PHOTOS / "Paul_Bremer_0016.jpg").read_bytes()
TURNED_RIGHT = (PHOTOS / "Paul_Bremer_0006.jpg").read_bytes()  # turned to his own right (yaw -0.30 from FRONTAL)
ENROLL = [PHOTOS / "Paul_Bremer_0007.jpg", PHOTOS / "Paul_Bremer_0009.jpg"]
STRANGER_TURNED_LEFT = (PHOTOS / "John_Snow_0009.jpg").read_bytes()


@pytest.fixture
def settings(settings_factory, db_url):
    return settings_factory(db_url, liveness="challenge")


def mirrored(data: bytes) -> bytes:
    """The same photo mirrored: a head turned the other way."""
    buf = io.BytesIO()
    ImageOps.mirror(Image.open(io.BytesIO(data)).convert("RGB")).save(buf, "JPEG", quality=95)
    return buf.getvalue()


def turned(action: str) -> bytes:
    return TURNED_RIGHT if action == "turn_right" else mirrored(TURNED_RIGHT)


def stranger_turned(action: str) -> bytes:
    return STRANGER_TURNED_LEFT if action == "turn_left" else mirrored(STRANGER_TURNED_LEFT)


def shifted_copy(data: bytes, dx: int = 9, quality: int = 70) -> bytes:
    img = Image.open(io.BytesIO(data)).convert("RGB")
    moved = Image.new("RGB", img.size, (128, 128, 128))
    moved.paste(img.resize((int(img.width * 1.05), int(img.height * 1.05))), (dx - 6, -6))
    buf = io.BytesIO()
    moved.point(lambda v: min(255, int(v * 1.15))).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture
def world(clock, client):  # the clock first: the app starts at START, not at the real date
    from server.faces import service as faces

    w = make_world(client)
    w.paul = w.employee("PAUL")
    st = client.app.state
    samples = faces.embed_for_enrollment(st.faces, [p.read_bytes() for p in ENROLL])
    with st.db.session() as s:
        faces.store_templates(s, w.paul["id"], samples, settings=st.settings)
    return w


def challenge(world, key=None) -> dict:
    r = world.client.post("/api/v1/kiosk/challenge", headers={"X-Device-Key": key or world.device_key})
    assert r.status_code == 201, r.text
    return r.json()


def answer(world, challenge_id, frames, request_id=None, key=None, **data):
    files = [("images", (f"f{i}.jpg", f, "image/jpeg")) for i, f in enumerate(frames)]
    form = {"request_id": request_id or str(uuid.uuid4()), **data}
    if challenge_id is not None:
        form["challenge_id"] = challenge_id
    return world.client.post("/api/v1/kiosk/check", data=form, files=files,
                             headers={"X-Device-Key": key or world.device_key})


def count(world, model) -> int:
    with world.client.app.state.db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def last_attempt(world) -> FaceAttempt:
    with world.client.app.state.db.session() as s:
        row = s.scalars(select(FaceAttempt).where(FaceAttempt.purpose == "kiosk")
                        .order_by(FaceAttempt.id.desc())).first()
        s.expunge(row)
        return row


def test_a_challenge_is_random_expiring_and_shown_in_the_device(world):
    c = challenge(world)
    assert set(c) == {"challenge_id", "action", "expires_in"} and c["expires_in"] == 15
    assert c["action"] in ("turn_left", "turn_right")
    assert {challenge(world)["action"] for _ in range(24)} == {"turn_left", "turn_right"}
    me = world.client.get("/api/v1/devices/me", headers={"X-Device-Key": world.device_key}).json()
    assert me["liveness"] == "challenge" and me["liveness_override"] is None


def test_frontal_then_turned_as_asked_punches(world):
    c = challenge(world)
    r = answer(world, c["challenge_id"], [FRONTAL, turned(c["action"])])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["decision"] == "recognized" and body["user"]["id"] == world.paul["id"]
    assert body["punch"]["liveness"] == "challenge"
    record = last_attempt(world)
    assert record.decision == "recognized" and record.liveness["reason"] == "live"
    assert record.liveness["action"] == c["action"] and len(record.liveness["frames"]) == 1
    frame = record.liveness["frames"][0]
    assert abs(frame["yaw_change"]) >= rule.MIN_TURN + 0.05 and frame["planar"] < rule.MAX_PLANAR - 0.1
    assert frame["identity"] > rule.MIN_IDENTITY + 0.1
    # the same request again: the stored answer; the same challenge with a new request: used
    again = answer(world, c["challenge_id"], [FRONTAL, turned(c["action"])], request_id=body["request_id"])
    assert again.json() == body and again.headers["Idempotent-Replayed"] == "true"
    used = answer(world, c["challenge_id"], [FRONTAL, turned(c["action"])])
    assert used.status_code == 409 and error_code(used) == "challenge_used"
    assert count(world, Punch) == 1


@pytest.mark.parametrize("case", ["still", "shifted_copies", "wrong_way", "other_person"])
def test_attacks_are_refused_with_their_reason_and_no_punch(world, case):
    c = challenge(world)
    wrong = "turn_left" if c["action"] == "turn_right" else "turn_right"
    frames, reason = {
        "still": ([FRONTAL, FRONTAL], "same_frames"),
        "shifted_copies": ([FRONTAL, shifted_copy(FRONTAL), shifted_copy(FRONTAL, dx=-7, quality=50)], "same_frames"),
        "wrong_way": ([FRONTAL, turned(wrong)], "wrong_direction"),
        "other_person": ([FRONTAL, stranger_turned(c["action"])], "identity_changed"),
    }[case]
    rid = str(uuid.uuid4())
    r = answer(world, c["challenge_id"], frames, request_id=rid)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "liveness_failed" and err["reason"] == reason and err["action"] == c["action"]
    assert count(world, Punch) == 0
    record = last_attempt(world)
    assert record.decision == f"liveness:{reason}" and record.liveness["reason"] == reason
    again = answer(world, c["challenge_id"], frames, request_id=rid)  # the refusal is that request's stored answer
    assert again.status_code == 422 and again.json() == r.json() and again.headers["Idempotent-Replayed"] == "true"


def test_a_challenge_device_refuses_checks_without_a_valid_challenge(world, clock):
    r = answer(world, None, [FRONTAL])
    assert r.status_code == 422 and error_code(r) == "liveness_required"
    r = answer(world, str(uuid.uuid4()), [FRONTAL, turned("turn_right")])  # not issued
    assert error_code(r) == "liveness_required"
    c = challenge(world)
    r = answer(world, c["challenge_id"], [FRONTAL])  # one frame cannot show a turn
    assert r.status_code == 422 and error_code(r) == "liveness_required" and r.json()["error"]["frames"] == 1
    other = world.client.post("/api/v1/devices", json={"name": "Back door"}, headers=world.admin).json()["api_key"]
    r = answer(world, c["challenge_id"], [FRONTAL, turned(c["action"])], key=other)  # bound to the first kiosk
    assert error_code(r) == "liveness_required"
    clock.advance(seconds=16)
    r = answer(world, c["challenge_id"], [FRONTAL, turned(c["action"])])
    assert r.status_code == 410 and error_code(r) == "challenge_expired"
    rid = str(uuid.uuid4())
    first = answer(world, c["challenge_id"], [FRONTAL, turned(c["action"])], request_id=rid)
    assert answer(world, c["challenge_id"], [FRONTAL], request_id=rid).json() == first.json()  # stored answer
    assert count(world, Punch) == 0 and count(world, KioskRequest) == 6


def test_an_offline_attempt_is_verified_on_replay_and_marked(world, clock):
    captured = (clock.t - timedelta(minutes=20)).isoformat()
    r = answer(world, None, [FRONTAL, turned("turn_left")], offline_action="turn_left", captured_at=captured)
    assert r.status_code == 200, r.text
    assert r.json()["punch"]["liveness"] == "offline"
    punches = world.client.get("/api/v1/attendance/punches", headers=world.admin).json()["items"]
    assert [p["liveness"] for p in punches] == ["offline"]
    r = answer(world, None, [FRONTAL, FRONTAL], offline_action="turn_right", captured_at=captured)
    assert r.status_code == 422 and r.json()["error"]["reason"] == "same_frames"
    r = answer(world, None, [FRONTAL, turned("turn_left")], offline_action="turn_left")  # not a replay
    assert error_code(r) == "liveness_required"
    assert count(world, Punch) == 1


def test_per_device_liveness_setting(client, settings_factory, db_url, clock):
    from tests.fixtures.api import admin_headers

    world = make_world(client)
    me = client.get("/api/v1/devices/me", headers={"X-Device-Key": world.device_key}).json()
    device_id = me["id"]
    r = client.patch(f"/api/v1/devices/{device_id}", json={"liveness": "off"}, headers=admin_headers(client))
    assert r.status_code == 200 and r.json()["liveness"] == "off" and r.json()["liveness_override"] == "off"
    r = answer(world, None, [FRONTAL])
    assert r.status_code == 200 and r.json()["decision"] == "unknown"  # nobody enrolled; no challenge needed
    r = client.patch(f"/api/v1/devices/{device_id}", json={"liveness": None}, headers=admin_headers(client))
    assert r.json()["liveness"] == "challenge" and r.json()["liveness_override"] is None
    assert client.patch(f"/api/v1/devices/{device_id}", json={"liveness": "maybe"},
                        headers=admin_headers(client)).status_code == 422
    assert client.patch("/api/v1/devices/999999", json={"liveness": "off"},
                        headers=admin_headers(client)).status_code == 404
    with client.app.state.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Challenge)) == 0


def test_expired_challenges_are_purged_a_day_later(world, clock):
    from server.liveness.jobs import purge_challenges

    challenge(world)
    st = world.client.app.state
    assert purge_challenges(st.db, st.settings, now=clock.t + timedelta(hours=23))["challenges"] == 0
    assert purge_challenges(st.db, st.settings, now=clock.t + timedelta(days=1, seconds=16))["challenges"] == 1
    assert count(world, Challenge) == 0
