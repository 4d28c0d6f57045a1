"""The kiosk page is served by the API (no CDN, no build step) and its key check answers."""
from __future__ import annotations

import re


def _device_key(app) -> str:
    from server.devices.service import create_device

    with app.state.db.session() as s:
        _, key = create_device(s, name="Front door", site="HQ", actor_user_id=None)
    return key


def test_kiosk_page_and_assets_are_served_locally(client):
    page = client.get("/kiosk")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    html = page.text
    refs = [r for r in re.findall(r'(?:src|href)="([^"]+)"', html) if not r.startswith(("#", "data:"))]
    assert refs, "the page loads its script and style sheet"
    for ref in refs:
        assert ref.startswith(("/kiosk/", "/i18n/")), f"{ref} must be served by the API itself (no CDN)"
        r = client.get(ref)
        assert r.status_code == 200, ref
    js = "".join(client.get(f"/kiosk/static/{n}").text for n in ("kiosk.js", "kiosk-store.js", "kiosk-steady.js"))
    assert client.get("/kiosk/static/kiosk.js").headers["content-type"].startswith("text/javascript")
    for needle in ("/api/v1/kiosk/check", "/api/v1/devices/me", "request_id", "captured_at", "getUserMedia",
                   "indexedDB", "randomUUID", "X-Device-Key", "FaceDetector"):
        assert needle in js


def test_only_known_static_files(client):
    for name in ("../router.py", "..%2Frouter.py", "index.html.bak", "nope.js"):
        r = client.get(f"/kiosk/static/{name}")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"


def test_the_key_check_the_page_uses(client, app):
    r = client.get("/api/v1/devices/me")
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_device_key"
    r = client.get("/api/v1/devices/me", headers={"X-Device-Key": "fck_wrong"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_device_key"
    key = _device_key(app)
    r = client.get("/api/v1/devices/me", headers={"X-Device-Key": key})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "Front door" and body["site"] == "HQ"


def test_the_key_check_refuses_a_revoked_key(client, app):
    from server.devices.service import list_devices, revoke_device

    key = _device_key(app)
    with app.state.db.session() as s:
        revoke_device(s, list_devices(s)[0].id, actor_user_id=None)
    r = client.get("/api/v1/devices/me", headers={"X-Device-Key": key})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_device_key"
