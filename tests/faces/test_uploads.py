"""The one upload dependency (server/faces/uploads.py) of the five photo routes and THE table of photo counts
(faces.images.PHOTOS_PER_REQUEST) it shares with the body limit: real app, real HTTP, real photos."""
from __future__ import annotations

import re
import uuid

import pytest

from server.body_limit import ENVELOPE_BYTES, PHOTO_ROUTES, body_limit
from server.faces.images import PHOTOS_PER_REQUEST
from tests.fixtures.api import admin_headers, create_user
from tests.fixtures.photos import photo

JPEG = "deepface_id01/img5.jpg"


@pytest.fixture
def admin(client):
    return admin_headers(client)


def _route(client, admin, purpose: str):
    """(path, headers, form data, name of the several-files field or None, single-file fields) of a purpose."""
    if purpose == "enroll":
        user = create_user(client, admin, code="E1")
        return f"/api/v1/users/{user['id']}/faces", admin, {"consent": "true"}, "images", ()
    if purpose == "kiosk":
        key = client.post("/api/v1/devices", json={"name": "Door"}, headers=admin).json()["api_key"]
        return "/api/v1/kiosk/check", {"X-Device-Key": key}, {"request_id": str(uuid.uuid4())}, "images", ("image",)
    if purpose == "login":
        return "/api/v1/auth/face-login", {}, {}, "images", ("image",)
    if purpose == "verify":
        return "/api/v1/faces/verify", admin, {}, None, ("image1", "image2")
    return "/api/v1/faces/identify", admin, {}, None, ("image",)


def test_the_body_limit_reads_the_same_table():
    per_photo = 1000
    limits = body_limit(per_photo)
    by_path = {"users": "enroll", "kiosk": "kiosk", "auth": "login", "verify": "verify", "identify": "identify"}
    assert len(PHOTO_ROUTES) == len(PHOTOS_PER_REQUEST)
    for method, pattern, photos in PHOTO_ROUTES:
        purpose = next(v for k, v in by_path.items() if k in pattern)
        assert photos == PHOTOS_PER_REQUEST[purpose]
        path = re.sub(r"\[\^/\]\+", "7", pattern)
        assert limits.for_request(method, path) == photos * per_photo + ENVELOPE_BYTES


@pytest.mark.parametrize("purpose", ["enroll", "kiosk", "login"])
def test_one_photo_more_than_the_table_says_is_refused(client, admin, purpose):
    path, headers, data, many, _ = _route(client, admin, purpose)
    most = PHOTOS_PER_REQUEST[purpose]
    files = [(many, (f"{i}.jpg", photo(JPEG), "image/jpeg")) for i in range(most + 1)]
    r = client.post(path, data=data, files=files, headers=headers)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "validation_error" and str(most) in err["message"]


@pytest.mark.parametrize("purpose", ["enroll", "kiosk", "login", "verify", "identify"])
def test_a_photo_over_upload_max_bytes_is_413_with_its_index(client, admin, settings, purpose):
    """Every photo route reads its photos the same way: the one too large is named (0-based), the rest unread."""
    path, headers, data, many, singles = _route(client, admin, purpose)
    big = b"\xff\xd8" + b"x" * settings.upload_max_bytes
    if many is not None:
        files = [(many, ("a.jpg", photo(JPEG), "image/jpeg")), (many, ("b.jpg", big, "image/jpeg"))]
        index = 1
    else:
        files = [(name, (f"{name}.jpg", big if i == len(singles) - 1 else photo(JPEG), "image/jpeg"))
                 for i, name in enumerate(singles)]
        index = len(singles) - 1
    r = client.post(path, data=data, files=files, headers=headers)
    assert r.status_code == 413, r.text
    err = r.json()["error"]
    assert err["code"] == "image_too_large" and err["image_index"] == index


def test_the_routes_declare_the_same_multipart_fields_as_before(client):
    """The dependency declares the fields the routes always had (clients and OpenAPI see no change)."""
    spec = client.get("/openapi.json").json()

    def fields(path: str) -> dict[str, bool]:
        body = spec["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
        if "$ref" in body:
            body = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
        required = set(body.get("required", []))
        return {k: k in required for k in body["properties"]}

    assert {k: v for k, v in fields("/api/v1/users/{user_id}/faces").items() if k == "images"} == {"images": True}
    assert {k: v for k, v in fields("/api/v1/kiosk/check").items() if "image" in k} == {"image": False,
                                                                                          "images": False}
    assert {k: v for k, v in fields("/api/v1/auth/face-login").items() if "image" in k} == {"image": False,
                                                                                              "images": False}
    assert fields("/api/v1/faces/verify") == {"image1": True, "image2": True}
    assert {k: v for k, v in fields("/api/v1/faces/identify").items() if k == "image"} == {"image": True}
