"""FACE_MODEL change with real photos: enroll under SFace, restart under dlib — the admin is told who must re-enroll,
kept photos are re-embedded (on demand and, with KEEP_ENROLLMENT_IMAGES, automatically at startup)."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.faces import model_change
from server.faces.models import FaceTemplate
from tests.fixtures.api import admin_headers, create_user
from tests.fixtures.photos import PEOPLE, photo

SFACE, DLIB = "sface-2021dec", "dlib-resnet-v1"


@pytest.fixture(autouse=True)
def _fresh_singletons():
    """These tests switch FACE_MODEL (each app loads the engine of its settings); no re-embedding outlives a test."""
    yield
    model_change.stop_background_reembed()


def _app(settings_factory, db_url, data_dir: Path, **overrides):
    from server.main import create_app

    return create_app(settings_factory(db_url, data_dir=data_dir, **overrides))


def _enroll(client, headers, user_id: int, rels: list[str]):
    files = [("images", (Path(r).name, photo(r), "image/jpeg")) for r in rels]
    r = client.post(f"/api/v1/users/{user_id}/faces", files=files, data={"consent": "true"}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def _identify(client, headers, rel: str) -> dict:
    r = client.post("/api/v1/faces/identify", headers=headers, files={"image": ("p.jpg", photo(rel), "image/jpeg")})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def enrolled_under_sface(settings_factory, db_url, tmp_path):
    """ann: enrolled with KEEP_ENROLLMENT_IMAGES=true (photos kept); bob: enrolled without (nothing kept)."""
    data_dir = tmp_path / "data"
    with TestClient(_app(settings_factory, db_url, data_dir, keep_enrollment_images=False)) as c:
        admin = admin_headers(c)
        bob = create_user(c, admin, code="BOB")
        _enroll(c, admin, bob["id"], PEOPLE["id03"][:1])
    with TestClient(_app(settings_factory, db_url, data_dir, keep_enrollment_images=True)) as c:
        admin = admin_headers(c)
        ann = create_user(c, admin, code="ANN")
        out = _enroll(c, admin, ann["id"], PEOPLE["id05"][:2])
        assert {t["model_id"] for t in out["templates"]} == {SFACE}
    return {"ann": ann["id"], "bob": bob["id"], "data_dir": data_dir}


def test_after_a_model_change_the_admin_is_told_who_must_reenroll_and_can_reembed(
        enrolled_under_sface, settings_factory, db_url, caplog):
    ann, bob = enrolled_under_sface["ann"], enrolled_under_sface["bob"]
    caplog.set_level(logging.WARNING, logger="faceclock.faces.model_change")
    app = _app(settings_factory, db_url, enrolled_under_sface["data_dir"], face_model="dlib",
               keep_enrollment_images=False)
    with TestClient(app) as c:
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any(f"face model {DLIB}: 2 users (2 active)" in w and "must re-enroll" in w for w in warnings), warnings
        assert app.state.faces.gallery.reenrollment["count"] == 2
        admin = admin_headers(c)
        r = c.get("/api/v1/faces/reenrollment", headers=admin)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["model_id"] == DLIB and body["count"] == 2 and body["with_kept_images"] == 1
        users = {u["user_id"]: u for u in body["users"]}
        assert users[ann]["model_ids"] == [SFACE] and users[ann]["kept_images"] == 2 and users[ann]["can_reembed"]
        assert users[bob]["kept_images"] == 0 and not users[bob]["can_reembed"]
        assert users[ann]["employee_code"] == "ANN" and users[ann]["is_active"] is True

        assert _identify(c, admin, PEOPLE["id05"][2])["decision"] == "unknown"  # no dlib template yet
        r = c.post("/api/v1/faces/reembed", headers=admin)
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["model_id"] == DLIB and out["users_reembedded"] == 1 and out["templates_created"] == 2
        assert out["failed"] == [] and out["remaining"] == 0 and out["users_to_reenroll"] == [bob]
        got = _identify(c, admin, PEOPLE["id05"][2])  # Ann's third photo, never enrolled: recognized under dlib
        assert got["decision"] == "recognized" and got["user_id"] == ann and got["model_id"] == DLIB

        again = c.post("/api/v1/faces/reembed", headers=admin).json()
        assert again["users_reembedded"] == 0 and again["users_to_reenroll"] == [bob]
        listed = c.get("/api/v1/faces/reenrollment", headers=admin).json()
        assert [u["user_id"] for u in listed["users"]] == [bob]
    with app.state.db.session() as s:
        rows = s.execute(select(FaceTemplate.model_id, FaceTemplate.image_path)
                         .where(FaceTemplate.user_id == ann)).all()
    assert sorted(m for m, _ in rows) == [DLIB, DLIB, SFACE, SFACE]
    assert all(p and Path(p).is_file() for _, p in rows)  # the new templates point at the same kept photos


def test_with_kept_images_startup_reembeds_in_the_background(enrolled_under_sface, settings_factory, db_url, caplog):
    ann, bob = enrolled_under_sface["ann"], enrolled_under_sface["bob"]
    caplog.set_level(logging.INFO, logger="faceclock.faces.model_change")
    app = _app(settings_factory, db_url, enrolled_under_sface["data_dir"], face_model="dlib",
               keep_enrollment_images=True)
    with TestClient(app) as c:
        assert c.get("/ready").status_code == 200  # ready without waiting for the re-embedding
        assert model_change.wait_background_reembed(timeout=120)
        assert model_change.last_run["users_reembedded"] == 1, model_change.last_run
        assert model_change.last_run["users_to_reenroll"] == [bob]
        admin = admin_headers(c)
        got = _identify(c, admin, PEOPLE["id05"][2])
        assert got["decision"] == "recognized" and got["user_id"] == ann
        assert c.get("/api/v1/faces/reenrollment", headers=admin).json()["count"] == 1
    messages = [r.getMessage() for r in caplog.records]
    assert any("re-embedding them in the background now" in m for m in messages), messages
    assert any("must still re-enroll" in m for m in messages), messages


def test_a_missing_kept_photo_is_reported_not_fatal(enrolled_under_sface, settings_factory, db_url):
    ann = enrolled_under_sface["ann"]
    app = _app(settings_factory, db_url, enrolled_under_sface["data_dir"], face_model="dlib")
    with TestClient(app) as c:
        with app.state.db.session() as s:
            first = s.scalars(select(FaceTemplate).where(FaceTemplate.user_id == ann)
                              .order_by(FaceTemplate.id)).first()
            Path(first.image_path).unlink()
        admin = admin_headers(c)
        out = c.post("/api/v1/faces/reembed", headers=admin).json()
    assert out["users_reembedded"] == 1 and out["templates_created"] == 1
    assert [(f["user_id"], f["template_id"], f["code"]) for f in out["failed"]] == [(ann, first.id, "image_missing")]


def test_reembed_runs_in_one_process_at_a_time(enrolled_under_sface, settings_factory, db_url):
    app = _app(settings_factory, db_url, enrolled_under_sface["data_dir"], face_model="dlib")
    with TestClient(app) as c:
        admin = admin_headers(c)
        with app.state.db.session() as s, model_change._lock(s, app.state.settings) as mine:
            assert mine  # as if another worker were re-embedding
            r = c.post("/api/v1/faces/reembed", headers=admin)
        assert r.status_code == 409 and r.json()["error"]["code"] == "reembed_running"
        assert c.post("/api/v1/faces/reembed", headers=admin).json()["users_reembedded"] == 1


def test_model_change_endpoints_are_admin_only(client):
    assert client.get("/api/v1/faces/reenrollment").status_code == 401
    admin = admin_headers(client)
    employee = create_user(client, admin, code="EMP")
    from tests.fixtures.api import PASSWORD, bearer, login

    h = bearer(login(client, employee["employee_code"], PASSWORD)["access_token"])
    assert client.get("/api/v1/faces/reenrollment", headers=h).status_code == 403
    assert client.post("/api/v1/faces/reembed", headers=h).status_code == 403
    empty = client.get("/api/v1/faces/reenrollment", headers=admin).json()
    assert empty == {"model_id": SFACE, "count": 0, "active": 0, "with_kept_images": 0, "users": []}
