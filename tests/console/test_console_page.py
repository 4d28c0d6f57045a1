"""The console is served by the API like the kiosk page: static files from a fixed list, no CDN, no inline script,
the pages' security headers; / leads to it."""
from __future__ import annotations

import re


def test_the_console_and_its_files_are_served_locally(client):
    page = client.get("/admin")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    html = page.text
    assert "<script>" not in html and not re.search(r"\son[a-z]+=", html)  # no inline script or event handler
    refs = [r for r in re.findall(r'(?:src|href)="([^"]+)"', html) if not r.startswith(("#", "data:"))]
    assert len(refs) >= 10
    for ref in refs:
        assert ref.startswith(("/admin/static/", "/i18n/")), f"{ref} must be served by the API itself (no CDN)"
        r = client.get(ref)
        assert r.status_code == 200, ref
        assert "default-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/admin/static/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/admin/static/console.css").headers["content-type"].startswith("text/css")


def test_only_known_console_files(client):
    for name in ("../router.py", "..%2Frouter.py", "index.html", "app.js.bak", "nope.js"):
        r = client.get(f"/admin/static/{name}")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", name


def test_the_root_leads_to_the_console(client):
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/admin"


def test_the_console_uses_only_the_public_api(client):
    """No second backend: every path the scripts call is an /api/v1 route of the app (or /i18n, /kiosk)."""
    from server.console.router import SCRIPTS

    paths = set(client.get("/openapi.json").json()["paths"])
    text = "".join(client.get(f"/admin/static/{n}").text for n in SCRIPTS)
    called = set(re.findall(r'"(/api/v1/[a-z0-9/_\-.]*)', text))
    assert len(called) >= 15
    for path in called:
        base = path.rstrip("/")
        assert any(p == base or p.startswith(base + "/") or re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", p), base + "/x")
                   or re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", p), base) for p in paths), path
