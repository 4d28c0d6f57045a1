"""Errors that say what to send (issue 16, item 7): a JSON body where a form or multipart body is expected is 415
unsupported_media_type naming the content type and the fields; photo numbers in messages count from 1; a captured_at
with an offset is never told it lacks one."""
from __future__ import annotations

import pytest

from tests.fixtures.people import ANN, enroll, no_face, photos  # noqa: F401
from tests.fixtures.api import admin_headers, create_user, error_code

FORM_ROUTES = [  # (path, content type it takes, a required field it names)
    ("/api/v1/auth/login", "application/x-www-form-urlencoded", "username"),
    ("/api/v1/auth/face-login", "multipart/form-data", "image"),
    ("/api/v1/kiosk/check", "multipart/form-data", "request_id"),
    ("/api/v1/faces/verify", "multipart/form-data", "image1"),
    ("/api/v1/faces/identify", "multipart/form-data", "image"),
]


@pytest.mark.parametrize("path, kind, field", FORM_ROUTES)
def test_json_where_a_form_is_expected_is_415_naming_what_to_send(client, path, kind, field):
    r = client.post(path, json={"username": "admin@example.com", "password": "x", "request_id": "r", "image": "..."})
    assert r.status_code == 415, r.text
    err = r.json()["error"]
    assert err["code"] == "unsupported_media_type"
    assert err["expected_content_type"] == kind and err["received"] == "application/json"
    assert field in err["fields"] and f"takes {kind}" in err["message"] and field in err["message"]


def test_the_415_names_required_fields_and_other_wrong_types(client, settings):
    r = client.post("/api/v1/kiosk/check", json={"request_id": "00000000-0000-0000-0000-000000000000"})
    err = r.json()["error"]
    assert err["required"] == ["request_id"]
    assert "photos go as files in multipart parts, not inside JSON" in err["message"]
    admin = admin_headers(client)
    user = create_user(client, admin, code="E1")
    r = client.post(f"/api/v1/users/{user['id']}/faces", content=b"\xff\xd8 raw jpeg", headers={
        **admin, "content-type": "image/jpeg"})  # the photo as the whole body
    assert r.status_code == 415 and r.json()["error"]["expected_content_type"] == "multipart/form-data"
    assert "images" in r.json()["error"]["fields"]


def test_right_bodies_and_json_routes_are_unaffected(client):
    r = client.post("/api/v1/auth/login", files={"username": (None, "admin@example.com"), "password": (None, "x")})
    assert r.status_code == 401  # a form route takes multipart too
    r = client.post("/api/v1/auth/login")  # no body at all: the fields it misses, not 415
    assert r.status_code == 422 and error_code(r) == "validation_error"
    r = client.post("/api/v1/auth/refresh", data={"refresh_token": "x"})  # a JSON route: FastAPI's own 422
    assert r.status_code == 422


def test_photo_numbers_in_messages_count_from_1(client):
    admin = admin_headers(client)
    ann = create_user(client, admin, code="ANN")
    err = enroll(client, admin, ann["id"], [*photos(ANN, 0), no_face()], expect=422)["error"]
    assert err["code"] == "no_face"
    assert err["message"].startswith("Photo 2 of 2: ")  # the second photo
    assert err["image_index"] == 1  # positions stay 0-based for programs


def test_a_photo_too_large_is_numbered_from_1(settings_factory, db_url):
    from fastapi.testclient import TestClient

    from server.main import create_app

    with TestClient(create_app(settings_factory(db_url, upload_max_bytes=1000))) as c:
        admin = admin_headers(c)
        ann = create_user(c, admin, code="ANN")
        files = [("images", ("small.jpg", b"x" * 10, "image/jpeg")), ("images", ("big.jpg", b"x" * 5000, "image/jpeg"))]
        r = c.post(f"/api/v1/users/{ann['id']}/faces", files=files, data={"consent": "true"}, headers=admin)
        assert r.status_code == 413, r.text
        err = r.json()["error"]
        assert err["message"].startswith("Photo 2 of 2: ") and err["image_index"] == 1


@pytest.mark.parametrize("captured_at, code", [
    ("9999-12-31T23:59:59-14:00", "captured_at_in_future"),  # has an offset; no UTC instant exists that late
    ("0001-01-01T00:00:00+14:00", "captured_at_too_old"),
])
def test_captured_at_beyond_the_calendar_is_not_told_it_lacks_an_offset(world, clock, captured_at, code):
    r = world.check(world.employee("ANA"), captured_at=captured_at)
    assert r.status_code == 422 and error_code(r) == code, r.text
    assert "offset" not in r.json()["error"]["message"]


def test_captured_at_without_an_offset_says_so_and_shows_one(world, clock):
    r = world.check(world.employee("ANA"), captured_at="2026-11-25T07:00:00")
    assert error_code(r) == "invalid_captured_at"
    assert r.json()["error"]["message"] == ("captured_at '2026-11-25T07:00:00' has no UTC offset: add one, e.g. "
                                            "2026-11-25T07:00:00+01:00 or 2026-11-25T07:00:00Z")
    r = world.check(world.employee("BEA"), captured_at="yesterday")
    assert "ISO 8601" in r.json()["error"]["message"]
