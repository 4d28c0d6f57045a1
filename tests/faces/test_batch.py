"""Batch enrollment (POST /api/v1/faces/batch) with real photos, the real engine and a real database: per-person
results, each person all or nothing, one commit and one gallery version bump per batch, limits, roles, retries."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.audit.models import AuditEntry
from server.faces.sync import read_version
from server.faces.models import FaceAttempt, FaceTemplate
from server.users.models import User
from tests.fixtures.people import ANN, BOB, CAT, face_login, no_face, photos, two_faces
from tests.fixtures.api import admin_headers, create_user, error_code, user_headers
from tests.fixtures.concurrency import peak_inside

URL = "/api/v1/faces/batch"


@pytest.fixture
def admin(client):
    return admin_headers(client)


def post_batch(client, headers, people: list[tuple[dict, list[bytes]]], *, consent: bool = True, extra_files=(),
               manifest: str | None = None, **form):
    """people: (who, photos) with who = {"employee_code": ...} or {"user_id": ...}; photos named p<i>_<j>.jpg."""
    entries, files = [], []
    for i, (who, images) in enumerate(people):
        names = [f"p{i}_{j}.jpg" for j in range(len(images))]
        entries.append({**who, "photos": names})
        files += [("photos", (n, data, "image/jpeg")) for n, data in zip(names, images)]
    files += list(extra_files)
    data = {"manifest": manifest if manifest is not None else json.dumps({"people": entries}),
            "consent": "true" if consent else "false", **{k: str(v).lower() for k, v in form.items()}}
    return client.post(URL, files=files, data=data, headers=headers)


def _count(app, model, **where) -> int:
    with app.state.db.session() as s:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return s.scalar(q)


def _version(app) -> int:
    with app.state.db.session() as s:
        return read_version(s)


def test_a_batch_enrolls_the_good_and_refuses_the_rest_person_by_person(client, app, admin):
    ann, bob, cat = (create_user(client, admin, code=c) for c in ("ANN", "BOB", "CAT"))
    wall = create_user(client, admin, code="WALL")
    before = _version(app)
    r = post_batch(client, admin, [
        ({"employee_code": "ANN"}, photos(ANN, 0, 1)),
        ({"employee_code": "WALL"}, [no_face()]),
        ({"employee_code": "NOBODY"}, photos(CAT, 0)),
        ({"user_id": bob["id"]}, photos(BOB, 0)),
        ({"employee_code": "CAT"}, photos(CAT, 0) + [two_faces()]),  # one bad photo: CAT is refused whole
    ])
    assert r.status_code == 200, r.text
    out = r.json()
    got = [(p["index"], p["status"], p["code"]) for p in out["people"]]
    assert got == [(0, "enrolled", None), (1, "refused", "no_face"), (2, "refused", "unknown_user"),
                   (3, "enrolled", None), (4, "refused", "multiple_faces")]
    assert (out["enrolled"], out["refused"], out["already_enrolled"]) == (2, 3, 0)
    assert out["refused_by_code"] == {"no_face": 1, "unknown_user": 1, "multiple_faces": 1}
    assert out["people"][4]["failures"] == [{"index": 1, "photo": "p4_1.jpg", "code": "multiple_faces",
                                             "message": out["people"][4]["failures"][0]["message"]}]
    assert len(out["people"][0]["templates"]) == 2 and len(out["people"][3]["templates"]) == 1
    # committed: templates, consent, audit; the refused people have nothing but their decision records
    assert _count(app, FaceTemplate, user_id=ann["id"]) == 2 and _count(app, FaceTemplate, user_id=bob["id"]) == 1
    assert _count(app, FaceTemplate, user_id=cat["id"]) == 0 and _count(app, FaceTemplate, user_id=wall["id"]) == 0
    with app.state.db.session() as s:
        assert s.get(User, cat["id"]).consent_at is None and s.get(User, ann["id"]).consent_at is not None
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "faces.enroll")) == 2
        decisions = sorted(s.scalars(select(FaceAttempt.decision).where(FaceAttempt.purpose == "enroll")))
    assert decisions == ["enrolled", "enrolled", "rejected:multiple_faces", "rejected:no_face"]
    # one version bump for the whole batch, and the answer says which
    assert _version(app) == before + 1 == out["gallery_version"]
    # usable at once (this process's gallery learned them on commit)
    login = face_login(client, photos(ANN, 2)[0])
    assert login.status_code == 200, login.text
    assert login.json()["user"]["id"] == ann["id"]


def test_the_version_moves_once_per_batch_not_per_person(client, app, admin):
    for code in ("ANN", "BOB", "CAT"):
        create_user(client, admin, code=code)
    before = _version(app)
    r = post_batch(client, admin, [({"employee_code": "ANN"}, photos(ANN, 0)), ({"employee_code": "BOB"},
                                                                                 photos(BOB, 0, 1)),
                                   ({"employee_code": "CAT"}, photos(CAT, 0))])
    assert r.status_code == 200 and r.json()["enrolled"] == 3
    assert _version(app) == before + 1
    # a batch that enrolls nobody does not move it
    r = post_batch(client, admin, [({"employee_code": "ANN"}, [no_face()])])
    assert r.json()["refused"] == 1 and r.json()["gallery_version"] is None
    assert _version(app) == before + 1


def test_sending_the_same_batch_again_stores_nothing_twice(client, app, admin):
    create_user(client, admin, code="ANN")
    create_user(client, admin, code="BOB")
    batch = [({"employee_code": "ANN"}, photos(ANN, 0, 1)), ({"employee_code": "BOB"}, photos(BOB, 0))]
    assert post_batch(client, admin, batch).json()["enrolled"] == 2
    version = _version(app)
    again = post_batch(client, admin, batch).json()
    assert [p["status"] for p in again["people"]] == ["already_enrolled", "already_enrolled"]
    assert again["people"][0]["skipped_photos"] == [0, 1]
    assert _count(app, FaceTemplate) == 3 and _version(app) == version
    # one new photo beside the stored ones: only it is stored
    more = post_batch(client, admin, [({"employee_code": "ANN"}, photos(ANN, 0, 2))]).json()
    assert more["people"][0]["status"] == "enrolled" and more["people"][0]["skipped_photos"] == [0]
    assert len(more["people"][0]["templates"]) == 1 and _count(app, FaceTemplate) == 4


def test_duplicates_are_refused_in_the_gallery_and_within_the_batch(client, app, admin):
    ann = create_user(client, admin, code="ANN")
    for code in ("ANN2", "BOB", "BOB2"):
        create_user(client, admin, code=code)
    assert post_batch(client, admin, [({"employee_code": "ANN"}, photos(ANN, 0))]).json()["enrolled"] == 1
    out = post_batch(client, admin, [
        ({"employee_code": "ANN2"}, photos(ANN, 1)),  # already enrolled as ANN
        ({"employee_code": "BOB"}, photos(BOB, 0)),
        ({"employee_code": "BOB2"}, photos(BOB, 1)),  # BOB, enrolled just above in this very batch
    ]).json()
    assert [(p["status"], p["code"]) for p in out["people"]] == [("refused", "duplicate_face"), ("enrolled", None),
                                                                  ("refused", "duplicate_face")]
    assert out["people"][0]["details"]["user_id"] == ann["id"]
    assert out["people"][2]["details"]["user_id"] == out["people"][1]["user_id"]
    assert out["people"][2]["details"]["image_index"] == 0


def test_a_failure_mid_batch_writes_nothing_at_all(settings_factory, db_url):
    """A kept photo that cannot be written for the 2nd of 3 people (its folder's name is taken by a file): a real
    failure in the middle of the writes. The whole batch is rolled back: no template, no consent, no audit entry, no
    version bump, no kept photo left of the 1st person. Once the disk is fixed, the same batch goes through."""
    from server.main import create_app

    settings = settings_factory(db_url, keep_enrollment_images=True)
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as c:
        admin = admin_headers(c)
        users = [create_user(c, admin, code=code) for code in ("ANN", "BOB", "CAT")]
        blocker = Path(settings.images_dir) / "enrollment" / str(users[1]["id"])
        blocker.parent.mkdir(parents=True, exist_ok=True)
        blocker.write_text("not a folder")
        before = _version(app)
        batch = [({"employee_code": "ANN"}, photos(ANN, 0, 1)), ({"employee_code": "BOB"}, photos(BOB, 0)),
                 ({"employee_code": "CAT"}, photos(CAT, 0))]
        r = post_batch(c, admin, batch)
        assert r.status_code == 500 and error_code(r) == "internal_error"
        assert _count(app, FaceTemplate) == 0 and _version(app) == before
        assert _count(app, AuditEntry, action="faces.enroll") == 0
        with app.state.db.session() as s:
            assert s.scalar(select(func.count()).select_from(User).where(User.consent_at.is_not(None))) == 0
        kept = [p for p in Path(settings.images_dir).rglob("*") if p.is_file() and p != blocker]
        assert kept == []
        blocker.unlink()
        r = post_batch(c, admin, batch)
        assert r.status_code == 200 and r.json()["enrolled"] == 3
        assert _count(app, FaceTemplate) == 4 and _version(app) == before + 1
        assert len([p for p in Path(settings.images_dir).rglob("*") if p.is_file()]) == 4


def test_limits_people_body_and_photos(settings_factory, db_url):
    from server.main import create_app

    settings = settings_factory(db_url, enroll_batch_max_people=2, enroll_batch_max_bytes=400_000,
                                upload_max_bytes=150_000)
    app = create_app(settings)
    with TestClient(app) as c:
        admin = admin_headers(c)
        for code in ("ANN", "BOB", "CAT"):
            create_user(c, admin, code=code)
        small = photos(BOB, 0)[0]
        assert len(small) < 150_000, len(small)
        three = [({"employee_code": code}, [small]) for code in ("ANN", "BOB", "CAT")]
        r = post_batch(c, admin, three)
        assert r.status_code == 413 and error_code(r) == "batch_too_large"
        assert r.json()["error"]["max_people"] == 2
        r = c.post(URL, files=[("photos", ("a.jpg", b"x" * 500_000, "image/jpeg"))],
                   data={"manifest": "{}", "consent": "true"}, headers=admin)
        assert r.status_code == 413 and error_code(r) == "image_too_large"  # the body limit, before any parsing
        # one photo over UPLOAD_MAX_BYTES refuses its person only
        big = b"\xff\xd8" + b"0" * 200_000
        r = post_batch(c, admin, [({"employee_code": "ANN"}, [big]), ({"employee_code": "BOB"}, [small])])
        assert r.status_code == 200, r.text
        assert [(p["status"], p["code"]) for p in r.json()["people"]] == [("refused", "image_too_large"),
                                                                          ("enrolled", None)]
        assert _count(app, FaceTemplate) == 1


def test_malformed_manifests_are_422_and_write_nothing(client, app, admin):
    create_user(client, admin, code="ANN")
    good = [({"employee_code": "ANN"}, photos(ANN, 0))]
    cases = {
        "not json": "{people",
        "nobody": json.dumps({"people": []}),
        "both ids": json.dumps({"people": [{"employee_code": "ANN", "user_id": 1, "photos": ["p0_0.jpg"]}]}),
        "six photos": json.dumps({"people": [{"employee_code": "ANN", "photos": [f"p0_{j}.jpg" for j in range(6)]}]}),
        "missing photo": json.dumps({"people": [{"employee_code": "ANN", "photos": ["nope.jpg"]}]}),
        "unknown field": json.dumps({"people": [{"employee_code": "ANN", "photos": ["p0_0.jpg"], "x": 1}]}),
    }
    for what, manifest in cases.items():
        r = post_batch(client, admin, good, manifest=manifest)
        assert r.status_code == 422, (what, r.text)
        assert error_code(r) == "invalid_manifest", (what, r.text)
    # a photo sent but named by nobody, and the same person twice
    r = post_batch(client, admin, good, extra_files=[("photos", ("stray.jpg", photos(BOB, 0)[0], "image/jpeg"))])
    assert r.status_code == 422 and error_code(r) == "invalid_manifest" and r.json()["error"]["photos"] == ["stray.jpg"]
    r = post_batch(client, admin, good + [({"employee_code": "ANN"}, photos(ANN, 1))])
    assert r.status_code == 422 and error_code(r) == "invalid_manifest"
    r = post_batch(client, admin, good, consent=False)
    assert r.status_code == 422 and error_code(r) == "consent_required"
    assert _count(app, FaceTemplate) == 0 and _count(app, FaceAttempt) == 0


def test_roles_admin_manager_of_its_site_employee_never(client, app, admin):
    manager, mh = user_headers(client, admin, code="MGR", role="manager", site="north")
    _, eh = user_headers(client, admin, code="EMP", site="north")
    create_user(client, admin, code="N1", site="north")
    create_user(client, admin, code="S1", site="south")
    batch = [({"employee_code": "N1"}, photos(ANN, 0)), ({"employee_code": "S1"}, photos(BOB, 0))]
    r = post_batch(client, eh, batch)
    assert r.status_code == 403 and error_code(r) == "forbidden"
    assert post_batch(client, {}, batch).status_code == 401
    r = post_batch(client, mh, batch)
    assert r.status_code == 200, r.text
    assert [(p["status"], p["code"]) for p in r.json()["people"]] == [("enrolled", None), ("refused", "forbidden")]
    r = post_batch(client, mh, [({"employee_code": "S1"}, photos(BOB, 0))], allow_duplicate=True)
    assert r.status_code == 403  # allow_duplicate is for admins
    r = post_batch(client, admin, [({"employee_code": "S1"}, photos(BOB, 0))])
    assert r.json()["enrolled"] == 1
    assert _count(app, FaceTemplate) == 2


def test_a_deactivated_user_is_refused(client, app, admin):
    ann = create_user(client, admin, code="ANN")
    assert client.patch(f"/api/v1/users/{ann['id']}", json={"is_active": False}, headers=admin).status_code == 200
    r = post_batch(client, admin, [({"employee_code": "ANN"}, photos(ANN, 0))])
    assert r.json()["people"][0]["code"] == "user_deactivated" and _count(app, FaceTemplate) == 0


def test_the_batch_lane_leaves_kiosks_a_slot_and_goes_after_them():
    """The priority rule of server/faces/slots.py, with real threads: the batch lane never holds more than
    batch_max slots, and a waiting interactive photo gets the next free slot before any waiting batch photo."""
    import threading
    import time

    from server.faces.slots import InferenceSlots

    lane = InferenceSlots(2, 1)
    order = []
    lane.acquire(batch=True)
    lane.acquire()  # both slots busy: one batch, one interactive
    waiters = [threading.Thread(target=lambda: (lane.acquire(batch=True), order.append("batch"),
                                                lane.release(batch=True)))]
    waiters[0].start()
    time.sleep(0.05)
    waiters.append(threading.Thread(target=lambda: (lane.acquire(), order.append("kiosk"), time.sleep(0.05),
                                                    lane.release())))
    waiters[1].start()
    time.sleep(0.05)
    lane.release(batch=True)  # a slot frees: the kiosk, which came later, gets it; the batch waits
    time.sleep(0.02)
    assert order == ["kiosk"]
    lane.release()
    for t in waiters:
        t.join(2)
    assert order == ["kiosk", "batch"] and lane.peak_batch == 1
    # while a kiosk photo is being analysed no batch photo starts, even with a slot free
    both = InferenceSlots(2, 2)
    both.acquire()
    started = threading.Event()
    t = threading.Thread(target=lambda: (both.acquire(batch=True), started.set(), both.release(batch=True)))
    t.start()
    assert not started.wait(0.1)
    both.release()
    assert started.wait(2)
    t.join(2)
    # two slots for the batch when asked, never more
    wide = InferenceSlots(3, 2)
    assert peak_inside(lambda: wide.slot(batch=True), hold=0.03) == 2 and wide.stats()["busy"] == 0
