"""The pages' languages (server/web): one catalog per language, the same keys and placeholders in each, every key
a page uses present, and every error code the API can answer with in plain words in every language."""
from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "server" / "web" / "static"
PAGES = [ROOT / "server" / "kiosk" / "static", ROOT / "server" / "console" / "static", WEB]
LANGS = ("en", "es")
KEY = re.compile(r"""["']((?:kiosk|console|common|error)\.[A-Za-z0-9_.]*)["']""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def catalog(lang: str) -> dict:
    return json.loads((WEB / f"{lang}.json").read_text(encoding="utf-8"))


def _texts(value) -> list[str]:
    return list(value.values()) if isinstance(value, dict) else [value]


def _page_sources() -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for folder in PAGES if folder.is_dir()
            for p in sorted(folder.iterdir()) if p.suffix in (".js", ".html")}


def _used() -> tuple[set[str], set[str]]:
    """(keys the pages name, prefixes they build keys from, e.g. "kiosk.status.")."""
    found = {k for text in _page_sources().values() for k in KEY.findall(text)}
    return {k for k in found if not k.endswith(".")}, {k for k in found if k.endswith(".")}


def api_error_codes() -> set[str]:
    """Every `code` the API can put in {"error": {...}}: each AppError class, the HTTP statuses' codes and the three
    the error mapping writes itself."""
    from server import errors
    from server.main import create_app  # noqa: F401  (the app's modules)

    for module in ("auth", "users", "devices", "faces", "shifts", "attendance", "reports", "kiosk", "web", "console"):
        try:
            importlib.import_module(f"server.{module}.router")
        except ModuleNotFoundError:
            pass
    codes, todo = set(), [errors.AppError]
    while todo:
        cls = todo.pop()
        codes.add(cls.code)
        todo.extend(cls.__subclasses__())
    return codes | set(errors._HTTP_CODES.values()) | {"internal_error", "client_disconnected", "http_error"}


def test_the_catalogs_are_served_like_the_pages(client):
    for name in ("i18n.js", "en.json", "es.json"):
        r = client.get(f"/i18n/{name}")
        assert r.status_code == 200, name
        assert "default-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/i18n/en.json").headers["content-type"].startswith("application/json")
    for name in ("fr.json", "../router.py", "..%2Frouter.py", "en.json.bak"):
        r = client.get(f"/i18n/{name}")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", name


def test_every_language_has_the_same_keys_and_placeholders():
    en = catalog("en")
    for lang in LANGS[1:]:
        other = catalog(lang)
        assert sorted(set(en) - set(other)) == [], f"missing in {lang}"
        assert sorted(set(other) - set(en)) == [], f"only in {lang}"
        for key, value in en.items():
            assert isinstance(other[key], type(value)), key
            if isinstance(value, dict):
                assert set(value) >= {"one", "other"} and set(other[key]) >= {"other"}, key
            want = {p for t in _texts(value) for p in PLACEHOLDER.findall(t)}
            got = {p for t in _texts(other[key]) for p in PLACEHOLDER.findall(t)}
            assert got == want, f"{lang} {key}: placeholders {got} != {want}"
            assert all(t.strip() for t in _texts(other[key])), f"{lang} {key} is empty"


def test_every_key_the_pages_use_is_in_every_catalog():
    keys, _ = _used()
    assert len(keys) > 40  # the scan finds the pages' keys
    for lang in LANGS:
        missing = sorted(keys - set(catalog(lang)))
        assert missing == [], f"{lang}: {missing}"


def test_every_catalog_key_is_used_by_a_page():
    keys, prefixes = _used()
    unused = [k for k in catalog("en") if k not in keys and not any(k.startswith(p) for p in prefixes | {"error."})]
    assert unused == []


@pytest.mark.parametrize("lang", LANGS)
def test_every_api_error_code_has_plain_words(lang):
    codes = api_error_codes()
    assert {"no_face", "invalid_device_key", "punch_voided", "consent_required", "validation_error"} <= codes
    missing = sorted(c for c in codes if f"error.{c}" not in catalog(lang))
    assert missing == [], f"{lang}: add error.<code> to server/web/static/{lang}.json for {missing}"


def test_no_page_writes_words_outside_the_catalogs():
    """Text shown to people comes from data-i18n attributes or t(): an HTML element's own text is only a fallback
    equal to the English catalog's (so the page reads right before the catalog arrives)."""
    en = catalog("en")
    for path, text in _page_sources().items():
        if path.suffix != ".html":
            continue
        for key, inner in re.findall(r'data-i18n="([^"]+)"[^>]*>([^<]*)<', text):
            assert inner.strip() in ("", en.get(key, "")), f"{path.name}: {key} shows {inner!r}"
