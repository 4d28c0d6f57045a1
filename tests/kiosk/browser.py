"""Helpers of the browser tests (kiosk and console): one person's photos, the stored punches, polling the page."""
from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
FACES = [ROOT / "tests" / "fixtures" / "faces", ROOT.parent / "shared" / "faces" / "small" / "deepface"]
IMAGE_EXT = {".jpg", ".jpeg", ".png", ".webp"}


def person() -> tuple[list[Path], Path]:
    """(enrollment photos, camera photo) of one person: a folder of ≥ 2 photos; the camera shows a different one."""
    for base in FACES:
        if not base.is_dir():
            continue
        for folder in sorted(p for p in base.rglob("*") if p.is_dir() and p.name not in ("noface", "multi")):
            photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXT)
            if len(photos) >= 2:
                return photos[:-1][:3], photos[-1]
    pytest.skip("no folder with two photos of one person under tests/fixtures/faces")


def stored_punches(live) -> list:
    import server.models  # noqa: F401  (all tables, so foreign keys resolve)
    from server.attendance.models import Punch
    from server.database import Database

    db = Database(live.database_url)
    try:
        with db.session() as s:
            return list(s.scalars(select(Punch).order_by(Punch.id)).all())
    finally:
        db.dispose()


def setup(api, name: str):
    enroll, camera = person()
    user = api.create_user(f"K{uuid.uuid4().hex[:6].upper()}", name)
    api.enroll(user["id"], [p.read_bytes() for p in enroll])
    key = api.create_device("Front door", site="HQ")["api_key"]
    return user, key, camera


def wait(driver, predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate(driver)
        except Exception:
            value = None
        if value:
            return value
        time.sleep(0.2)
    logs = [e["message"] for e in driver.get_log("browser")][-15:]
    try:
        shown = driver.execute_script(
            "const s = document.getElementById('status');"
            "return [s && !s.hidden ? s.innerText : '', (document.querySelector('dialog[open]') ||"
            " document.getElementById('hint') || document.querySelector('main:not([hidden])') || document.body)"
            ".innerText.slice(0, 400)].join(' | ')")
    except Exception:
        shown = None
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; on screen: {shown!r}; browser log: {logs}")


def body_attr(driver, name: str) -> str | None:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "body").get_attribute(f"data-{name}")


def js(driver, expression: str):
    """The value of a JavaScript expression (a Promise is awaited)."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"Promise.resolve({expression}).then(done, e => done({{error: String(e)}}));")


def text_of(driver, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id).text


def enter_key(driver, key: str) -> None:
    from selenium.webdriver.common.by import By

    wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "setup", 20,
         "the key form")
    driver.find_element(By.ID, "key-input").send_keys(key)
    driver.find_element(By.ID, "key-submit").click()
    wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state") in ("ready", "busy"), 30,
         "the camera to start")
