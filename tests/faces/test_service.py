"""The face service end to end with the real engine, real photos and a real database; the admin endpoints over HTTP."""
from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from server.errors import AppError, ModelMismatch
from server.faces import model_change, service
from server.faces.models import FaceAttempt, FaceTemplate
from tests.fixtures.photos import PEOPLE, add_template, make_users, photo, sample


def test_analyze_gives_a_unit_embedding_and_quality(svc):
    s = sample("deepface_id01/img5.jpg", svc)
    assert s.model_id == "sface-2021dec" and s.embedding.shape == (128,)
    assert abs(float(np.linalg.norm(s.embedding)) - 1) < 1e-5 and s.quality["score"] > 0


def test_analyze_rejections_carry_codes(svc):
    with pytest.raises(AppError) as exc:
        sample("noface/skimage_rocket.jpg", svc)
    assert exc.value.code == "no_face"
    with pytest.raises(AppError) as exc:
        service.analyze(svc, b"x" * (svc.settings.upload_max_bytes + 1), "login")
    assert exc.value.code == "image_too_large" and exc.value.status_code == 413


def test_verify_same_and_different(svc):
    same = service.verify(svc, photo("deepface_id10/img46.jpg"), photo("deepface_id10/img44.jpg"))
    diff = service.verify(svc, photo("deepface_id10/img46.jpg"), photo("deepface_id01/img5.jpg"))
    assert same["same"] is True and same["similarity"] >= same["threshold"]
    assert diff["same"] is False and diff["model_id"] == "sface-2021dec"


def enroll_all(db, svc) -> dict[str, int]:
    """First photo of each person enrolled for a new user. Returns person -> user id."""
    with db.session() as s:
        ids = make_users(s, len(PEOPLE))
        who = dict(zip(PEOPLE, ids))
        for person, uid in who.items():
            service.store_templates(s, uid, [sample(PEOPLE[person][0], svc)], settings=svc.settings)
    return who


def test_enrolled_templates_reach_the_gallery_after_commit(db, svc):
    who = enroll_all(db, svc)
    assert svc.gallery.size("sface-2021dec") == len(PEOPLE)
    with db.session() as s:
        assert s.scalar(select(FaceTemplate.model_id).limit(1)) == "sface-2021dec"
        uid = make_users(s, 1)[0]
        service.store_templates(s, uid, [sample("deepface_id03/img50.jpg", svc)], settings=svc.settings)
        s.rollback()  # never committed: the gallery must not see it
    assert svc.gallery.size("sface-2021dec") == len(PEOPLE)
    assert who


def test_one_to_many_recognizes_enrolled_people_and_not_strangers(db, svc):
    who = enroll_all(db, svc)
    for person, paths in PEOPLE.items():
        probe = sample(paths[1], svc, "kiosk")
        with db.session() as s:
            d = service.match_one_to_many(svc, [probe], session=s)
        assert d.recognized and d.user_id == who[person], (person, d)
    with db.session() as s:  # remove id10 from the gallery: their photo must now be "unknown"
        service.erase_user_templates(s, who["id10"])
    with db.session() as s:
        d = service.match_one_to_many(svc, [sample(PEOPLE["id10"][1], svc, "kiosk")], session=s)
    assert not d.recognized and d.reason == "below_threshold"


def test_one_to_many_frames_must_agree(db, svc):
    who = enroll_all(db, svc)
    a, b = sample(PEOPLE["id01"][1], svc, "kiosk"), sample(PEOPLE["id03"][1], svc, "kiosk")
    with db.session() as s:
        assert service.match_one_to_many(svc, [a, a], session=s).user_id == who["id01"]
        d = service.match_one_to_many(svc, [a, b], session=s)
    assert not d.recognized and d.reason == "frames_disagree"


def test_one_to_one(db, svc):
    who = enroll_all(db, svc)
    with db.session() as s:
        ok = service.match_one_to_one(svc, s, who["id05"], [sample(PEOPLE["id05"][1], svc, "login")])
        bad = service.match_one_to_one(svc, s, who["id05"], [sample(PEOPLE["id01"][1], svc, "login")])
        uid = make_users(s, 1)[0]
        none = service.match_one_to_one(svc, s, uid, [sample(PEOPLE["id01"][1], svc, "login")])
        add_template(s, uid, np.ones(128, np.float32) / np.sqrt(128), model_id="dlib-resnet-v1")
        with pytest.raises(ModelMismatch):
            service.match_one_to_one(svc, s, uid, [sample(PEOPLE["id01"][1], svc, "login")])
        assert model_change.users_needing_reenrollment(s, "sface-2021dec") == [uid]
    assert ok.matched and ok.reason == "matched" and ok.score >= ok.threshold
    assert not bad.matched and bad.reason == "below_threshold"
    assert not none.matched and none.reason == "no_templates"


def test_find_duplicate_uses_the_one_to_many_point_of_the_gallery(db, svc):
    """The duplicate check searches the whole gallery, so it runs at the 1:N operating point for its size (never below
    the 1:1 point); DUPLICATE_THRESHOLD replaces it."""
    from server.faces.operating import for_gallery
    from server.faces.runtime import FaceRuntime

    who = enroll_all(db, svc)
    eng = svc.engine
    again = sample(PEOPLE["id01"][0], svc)  # the same photo again, for someone else
    with db.session() as s:
        dup = service.find_duplicate(svc, [again], exclude_user_id=None, session=s)
        own = service.find_duplicate(svc, [again], exclude_user_id=who["id01"], session=s)
    g = svc.gallery
    point = for_gallery(eng, g.users(eng.model_id), g.size(eng.model_id))
    assert service.duplicate_threshold(svc) == point.threshold >= eng.threshold
    assert dup is not None and dup.user_id == who["id01"] and dup.score >= point.threshold
    assert own is None
    from server.faces.engine import load_engine

    strict = load_engine(svc.settings.model_copy(update={"duplicate_threshold": 1.001}))  # above any cosine
    strict_rt = FaceRuntime(svc.settings, engine=strict, gallery=svc.gallery)
    assert service.duplicate_threshold(strict_rt) == 1.001
    with db.session() as s:
        assert service.find_duplicate(strict_rt, [again], session=s) is None


def test_record_attempt(db, svc):
    with db.session() as s:
        row = service.record_attempt(s, "login", model_id="sface-2021dec", decision="rejected:no_face", latency_ms=3.5)
        assert row.id
    with db.session() as s:
        got = s.scalars(select(FaceAttempt)).one()
    assert got.decision == "rejected:no_face" and got.purpose == "login"


# ----------------------------------------------------------------------------- HTTP

def _files(**named):
    return {k: (v, photo(v), "image/jpeg") for k, v in named.items()}


def test_admin_verify_and_identify_endpoints(client):
    from tests.fixtures.api import admin_headers

    h = admin_headers(client)
    r = client.post("/api/v1/faces/verify", headers=h,
                    files=_files(image1="deepface_id03/img51.jpg", image2="deepface_id03/img50.jpg"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["same"] is True and body["model_id"] == "sface-2021dec" and 0 < body["threshold"] < 1
    r = client.post("/api/v1/faces/identify", headers=h, files=_files(image="deepface_id01/img5.jpg"),
                    data={"top_k": "3"})
    assert r.status_code == 200, r.text
    assert r.json()["decision"] == "unknown"
    r = client.post("/api/v1/faces/identify", headers=h, files=_files(image="noface/skimage_rocket.jpg"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "no_face"
    r = client.post("/api/v1/faces/verify", headers=h,
                    files={"image1": ("a.gif", b"GIF89a....", "image/gif"), "image2": ("b.jpg", b"", "image/jpeg")})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_image"


def test_face_endpoints_need_an_admin(client):
    r = client.post("/api/v1/faces/verify", files=_files(image1="deepface_id03/img51.jpg",
                                                          image2="deepface_id03/img50.jpg"))
    assert r.status_code == 401


def test_decoding_is_bounded_by_the_inference_slots(svc, monkeypatch):
    """Regression: decode_image ran outside the semaphore, so N concurrent big uploads held N decoded copies."""
    import threading
    import time

    slots = svc.slots
    real_decode, lock, state = service.decode_image, threading.Lock(), {"now": 0, "max": 0, "calls": 0}

    def decode(*args, **kw):
        with lock:
            state["now"] += 1
            state["calls"] += 1
            state["max"] = max(state["max"], state["now"])
        try:
            time.sleep(0.05)  # long enough for every thread to pile up here if nothing bounds them
            return real_decode(*args, **kw)
        finally:
            with lock:
                state["now"] -= 1

    monkeypatch.setattr(service, "decode_image", decode)
    threads = [threading.Thread(target=sample, args=("deepface_id03/img51.jpg", svc)) for _ in range(3 * slots + 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert state["calls"] == len(threads)
    assert 1 <= state["max"] <= slots, state
