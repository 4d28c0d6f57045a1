"""The kiosk check end to end with the real face engine and real photos (tests/fixtures/faces)."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from server.faces.models import FaceAttempt
from tests.fixtures.world import error_code, make_world
from tests.fixtures import FIXTURES

FACES = FIXTURES / "faces"


def _enroll(client, user_id: int, *paths) -> None:
    from server.faces import service as faces

    images = [(FACES / p).read_bytes() for p in paths]
    st = client.app.state
    samples = faces.embed_for_enrollment(st.faces, images)
    with st.db.session() as s:
        faces.store_templates(s, user_id, samples, settings=st.settings)


def _check(world, path, request_id=None):
    return world.client.post("/api/v1/kiosk/check", data={"request_id": request_id or str(uuid.uuid4())},
                             files={"image": (path, (FACES / path).read_bytes(), "image/jpeg")},
                             headers={"X-Device-Key": world.device_key})


def test_recognized_unknown_and_refused(client, clock):
    world = make_world(client)
    alice = world.employee("ALICE")
    bob = world.employee("BOB")
    _enroll(client, alice["id"], "deepface_id01/img11.jpg")
    _enroll(client, bob["id"], "deepface_id03/img50.jpg")

    r = _check(world, "deepface_id01/img5.jpg")
    assert r.status_code == 200, r.text
    assert r.json()["decision"] == "recognized" and r.json()["user"]["id"] == alice["id"]
    assert r.json()["punch"]["kind"] == "in"

    r = _check(world, "deepface_id05/img16.jpg")  # a person nobody enrolled
    assert r.status_code == 200 and r.json() == {"decision": "unknown", "request_id": r.json()["request_id"]}

    r = _check(world, "noface/skimage_rocket.jpg")
    assert r.status_code == 422 and error_code(r) == "no_face"

    with client.app.state.db.session() as s:
        decisions = [a.decision for a in s.scalars(select(FaceAttempt).where(FaceAttempt.purpose == "kiosk")
                                                   .order_by(FaceAttempt.id))]
    assert decisions == ["recognized", "unknown", "rejected:no_face"]


def test_multi_frame_must_agree(client, clock):
    world = make_world(client)
    alice = world.employee("ALICE")
    bob = world.employee("BOB")
    _enroll(client, alice["id"], "deepface_id01/img11.jpg")
    _enroll(client, bob["id"], "deepface_id03/img50.jpg")
    files = [("images", ("a.jpg", (FACES / "deepface_id01/img5.jpg").read_bytes(), "image/jpeg")),
             ("images", ("b.jpg", (FACES / "deepface_id03/img51.jpg").read_bytes(), "image/jpeg"))]
    r = client.post("/api/v1/kiosk/check", data={"request_id": str(uuid.uuid4())}, files=files,
                    headers={"X-Device-Key": world.device_key})
    assert r.status_code == 200 and r.json()["decision"] == "unknown"
    same = [("images", ("a.jpg", (FACES / "deepface_id01/img5.jpg").read_bytes(), "image/jpeg"))] * 2
    r = client.post("/api/v1/kiosk/check", data={"request_id": str(uuid.uuid4())}, files=same,
                    headers={"X-Device-Key": world.device_key})
    assert r.json()["decision"] == "recognized" and r.json()["user"]["id"] == alice["id"]
