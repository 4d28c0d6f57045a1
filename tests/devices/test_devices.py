"""Kiosk devices: key shown once and stored as SHA-256, revocation at once, X-Device-Key checks, role limits."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from server.devices.models import Device
from tests.fixtures.api import admin_headers, error_code, user_headers


@pytest.fixture
def admin(client):
    return admin_headers(client)


def _create(client, admin, name="Front door", site="north"):
    r = client.post("/api/v1/devices", json={"name": name, "site": site}, headers=admin)
    assert r.status_code == 201, r.text
    return r.json()


def test_key_is_shown_once_and_stored_hashed(client, app, admin):
    created = _create(client, admin)
    key = created["api_key"]
    assert len(key) > 40 and created["name"] == "Front door" and created["site"] == "north"
    listed = client.get("/api/v1/devices", headers=admin).json()
    assert len(listed) == 1 and "api_key" not in listed[0]
    assert key[:10] == listed[0]["key_prefix"]
    with app.state.db.session() as s:
        row = s.scalar(select(Device))
        assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert key not in (row.key_hash, row.key_prefix)


def _decode_qr(svg: str) -> str:
    """The text of segno's SVG QR code: its path (rows of horizontal runs) drawn as pixels, read by OpenCV."""
    import re

    import cv2
    import numpy as np

    d = re.search(r'<path[^>]* d="([^"]+)"', svg).group(1)
    size = int(re.search(r'width="(\d+)"', svg).group(1)) // 4  # scale=4
    grid = np.zeros((size, size), np.uint8)
    x = y = 0.0
    for cmd, args in re.findall(r"([MmHhVv])([^MmHhVv]*)", d):
        nums = [float(n) for n in args.replace(",", " ").split()]
        if cmd in "Mm":
            x, y = (nums[0], nums[1]) if cmd == "M" else (x + nums[0], y + nums[1])
        elif cmd in "hH":
            end = x + nums[0] if cmd == "h" else nums[0]
            grid[int(y - 0.5), int(x):int(end)] = 1
            x = end
    img = np.kron(1 - grid, np.ones((8, 8), np.uint8)) * 255
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(np.pad(img, 32, constant_values=255))
    return text


def test_the_new_key_comes_with_a_kiosk_address_and_its_qr_code(client, admin):
    created = _create(client, admin)
    key = created["api_key"]
    assert created["kiosk_url"] == f"http://testserver/kiosk#key={key}"  # the address the admin reached the API at
    svg = created["qr_svg"]
    assert svg.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in svg and "<script" not in svg
    assert _decode_qr(svg) == created["kiosk_url"]
    listed = client.get("/api/v1/devices", headers=admin).json()
    assert "kiosk_url" not in listed[0] and "qr_svg" not in listed[0]  # the key exists in clear only once


def test_device_key_authenticates_and_updates_last_seen(client, admin):
    created = _create(client, admin)
    r = client.get("/api/v1/devices/me", headers={"X-Device-Key": created["api_key"]})
    assert r.status_code == 200
    assert r.json()["id"] == created["id"]
    assert r.json()["last_seen_at"] is not None


@pytest.mark.parametrize("headers", [{}, {"X-Device-Key": "fck_unknown"}, {"X-Device-Key": ""}])
def test_missing_or_unknown_key_is_401(client, headers):
    r = client.get("/api/v1/devices/me", headers=headers)
    assert r.status_code == 401
    assert error_code(r) == "invalid_device_key"


def test_revoked_key_stops_working_at_once(client, admin):
    created = _create(client, admin)
    key = {"X-Device-Key": created["api_key"]}
    assert client.get("/api/v1/devices/me", headers=key).status_code == 200
    assert client.delete(f"/api/v1/devices/{created['id']}", headers=admin).status_code == 204
    r = client.get("/api/v1/devices/me", headers=key)
    assert r.status_code == 401
    assert error_code(r) == "invalid_device_key"
    assert client.get("/api/v1/devices", headers=admin).json()[0]["revoked_at"] is not None
    assert client.get("/api/v1/devices", params={"include_revoked": False}, headers=admin).json() == []
    assert client.delete("/api/v1/devices/999", headers=admin).status_code == 404


def test_device_changes_are_audited(client, admin):
    created = _create(client, admin)
    client.delete(f"/api/v1/devices/{created['id']}", headers=admin)
    entries = client.get("/api/v1/audit", params={"entity": "device"}, headers=admin).json()["items"]
    assert [e["action"] for e in entries] == ["devices.revoke", "devices.create"]
    assert created["api_key"] not in str(entries)


def test_kiosk_key_cannot_reach_admin_endpoints(client, admin):
    key = {"X-Device-Key": _create(client, admin)["api_key"]}
    for method, path in (("get", "/api/v1/devices"), ("post", "/api/v1/devices"), ("get", "/api/v1/users"),
                         ("get", "/api/v1/users/me"), ("get", "/api/v1/audit"), ("get", "/api/v1/face-attempts"),
                         ("delete", "/api/v1/devices/1"), ("post", "/api/v1/users")):
        r = client.request(method, path, headers=key, json={"name": "x"})
        assert r.status_code == 403, (method, path)
        assert error_code(r) == "forbidden"
    # a key that is not (or no longer) valid is just unauthenticated
    r = client.get("/api/v1/users", headers={"X-Device-Key": "fck_forged"})
    assert r.status_code == 401
    assert error_code(r) == "not_authenticated"


def _photo() -> bytes:
    from tests.fixtures.people import ANN, photos

    return photos(ANN, 0)[0]


# Admin endpoints of other domains, each with a well-formed request (so only the caller's rights can refuse it).
_ADMIN_ENDPOINTS = [
    ("post", "/api/v1/faces/verify", {"files": [("image1", ("a.jpg", "PHOTO")), ("image2", ("b.jpg", "PHOTO"))]}),
    ("post", "/api/v1/faces/identify", {"files": [("image", ("a.jpg", "PHOTO"))], "data": {"top_k": "3"}}),
    ("get", "/api/v1/faces/reenrollment", {}),
    ("post", "/api/v1/faces/reembed", {}),
    ("get", "/api/v1/face-attempts", {"params": {"purpose": "kiosk"}}),
    ("get", "/api/v1/audit", {}),
    ("get", "/api/v1/devices", {"params": {"include_revoked": "true"}}),
    ("post", "/api/v1/devices", {"json": {"name": "Back door", "site": "north"}}),
    ("delete", "/api/v1/devices/{own_id}", {}),
    ("post", "/api/v1/users/{own_id}/faces", {"files": [("images", ("a.jpg", "PHOTO"))], "data": {"consent": "true"}}),
    ("delete", "/api/v1/users/1/faces", {}),
]


def _request_kwargs(spec: dict, photo: bytes) -> dict:
    out = dict(spec)
    if "files" in out:
        out["files"] = [(field, (name, photo, "image/jpeg")) for field, (name, _) in out["files"]]
    return out


@pytest.mark.parametrize("method, path, spec", _ADMIN_ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in _ADMIN_ENDPOINTS])
def test_kiosk_key_on_admin_endpoints_is_403_and_changes_nothing(client, app, admin, method, path, spec):
    from server.faces.models import FaceAttempt

    device = _create(client, admin)
    path = path.format(own_id=device["id"])
    kwargs = _request_kwargs(spec, _photo())
    with app.state.db.session() as s:
        attempts_before = s.query(FaceAttempt).count()
    r = client.request(method, path, headers={"X-Device-Key": device["api_key"]}, **kwargs)
    assert r.status_code == 403, (method, path, r.text)
    assert error_code(r) == "forbidden"
    # without the key the same request is just unauthenticated: the 403 comes from the key being a kiosk's
    assert client.request(method, path, **kwargs).status_code == 401
    # nothing happened: the device is still there and working, no face work was recorded
    assert client.get("/api/v1/devices/me", headers={"X-Device-Key": device["api_key"]}).status_code == 200
    assert len(client.get("/api/v1/devices", headers=admin).json()) == 1
    with app.state.db.session() as s:
        assert s.query(FaceAttempt).count() == attempts_before


def test_user_token_is_not_a_device_key(client, admin):
    r = client.get("/api/v1/devices/me", headers=admin)
    assert r.status_code == 401
    assert error_code(r) == "invalid_device_key"


def test_employee_and_manager_cannot_manage_devices(client, admin):
    _, eh = user_headers(client, admin, code="E1", site="north")
    _, mh = user_headers(client, admin, code="M1", role="manager", site="north")
    for headers in (eh, mh):
        assert client.post("/api/v1/devices", json={"name": "x"}, headers=headers).status_code == 403
        assert client.get("/api/v1/devices", headers=headers).status_code == 403
        assert client.delete("/api/v1/devices/1", headers=headers).status_code == 403
