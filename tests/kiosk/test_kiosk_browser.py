"""The kiosk page in a real headless Chromium with a fake camera showing a real photo.

1. enroll the person, open /kiosk on a live server, enter the device key: their name appears on screen;
2. cut the server, take a punch (queued in the browser), restore the server: the queue drains and exactly one punch is
   stored (a repeat of the same request_id does not add another).
Screenshots go to test-artifacts/kiosk/.
"""
from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
FACES = [ROOT / "tests" / "fixtures" / "faces", ROOT.parent / "shared" / "faces" / "small" / "deepface"]
IMAGE_EXT = {".jpg", ".jpeg", ".png", ".webp"}


def _person() -> tuple[list[Path], Path]:
    """(enrollment photos, camera photo) of one person: a folder of ≥ 2 photos; the camera shows a different one."""
    for base in FACES:
        if not base.is_dir():
            continue
        for folder in sorted(p for p in base.rglob("*") if p.is_dir() and p.name not in ("noface", "multi")):
            photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXT)
            if len(photos) >= 2:
                return photos[:-1][:3], photos[-1]
    pytest.skip("no folder with two photos of one person under tests/fixtures/faces")


def _punches(live) -> list:
    import server.models  # noqa: F401  (all tables, so foreign keys resolve)
    from server.attendance.models import Punch
    from server.database import Database

    db = Database(live.database_url)
    try:
        with db.session() as s:
            return list(s.scalars(select(Punch).order_by(Punch.id)).all())
    finally:
        db.dispose()


def _setup(api, name: str):
    enroll, camera = _person()
    user = api.create_user(f"K{uuid.uuid4().hex[:6].upper()}", name)
    api.enroll(user["id"], [p.read_bytes() for p in enroll])
    key = api.create_device("Front door", site="HQ")["api_key"]
    return user, key, camera


def _wait(driver, predicate, timeout: float, what: str):
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
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; hint={_text(driver, 'hint')!r}; "
                         f"browser log: {logs}")


def _text(driver, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id).text


def _enter_key(driver, key: str) -> None:
    from selenium.webdriver.common.by import By

    _wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "setup", 20,
          "the key form")
    driver.find_element(By.ID, "key-input").send_keys(key)
    driver.find_element(By.ID, "key-submit").click()
    _wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state") in ("ready", "busy"), 30,
          "the camera to start")


def test_kiosk_recognizes_the_enrolled_person(live, api, browser_factory, artifacts):
    user, key, camera = _setup(api, "Grace Hopper")
    driver = browser_factory(camera)
    driver.get(live.url + "/kiosk")
    driver.save_screenshot(str(artifacts / "1-device-key.png"))
    _enter_key(driver, key)
    # no click: the page captures by itself once the (fake) camera shows a steady face
    _wait(driver, lambda d: _text(d, "result-name") == "Grace Hopper", 60, "the name on screen")
    driver.save_screenshot(str(artifacts / "2-recognized.png"))
    assert _text(driver, "result-kind").startswith(("IN", "OUT"))
    assert _text(driver, "result-time")
    punches = _punches(live)
    assert len(punches) == 1 and punches[0].user_id == user["id"] and punches[0].kind == "in"


def test_offline_punch_is_queued_and_replayed_once(live, api, browser_factory, artifacts):
    from selenium.webdriver.common.by import By

    user, key, camera = _setup(api, "Alan Turing")
    driver = browser_factory(camera)
    driver.get(live.url + "/kiosk?auto=0")  # button only, so the one punch is the one taken offline
    _enter_key(driver, key)
    _wait(driver, lambda d: d.execute_script("return document.getElementById('video').readyState") >= 2, 30,
          "camera frames")

    live.stop()  # the server is gone
    driver.find_element(By.ID, "check-button").click()
    _wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-queued") == "1", 30,
          "the attempt to be queued")
    assert "1" in _text(driver, "queue")
    driver.save_screenshot(str(artifacts / "3-offline-queued.png"))
    assert _punches(live) == []

    live.start()  # same port, same database: the page replays the queue by itself
    _wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-queued") == "0", 60,
          "the queue to drain")
    _wait(driver, lambda d: _text(d, "result-name") == "Alan Turing", 10, "the replayed answer on screen")
    driver.save_screenshot(str(artifacts / "4-replayed.png"))
    punches = _punches(live)
    assert len(punches) == 1, punches
    punch = punches[0]
    assert punch.user_id == user["id"] and punch.request_id

    # the same request_id again (a replay whose first answer was lost) returns the same punch, adds none
    r = api.kiosk_check(key, camera.read_bytes(), request_id=punch.request_id)
    assert r.status_code == 200, r.text
    assert r.json()["punch"]["id"] == punch.id
    assert len(_punches(live)) == 1
