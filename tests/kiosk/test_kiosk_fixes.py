"""The kiosk page fixes of issue 15, in a real headless Chromium with a fake camera:

1. a key revoked while an employee stands there: the attempt is kept as "not recorded", the employee is told to
   call an administrator (no set-up form), the administrator enters a new key and the kept attempt is sent with
   its capture time;
2. a landscape 1024x768 tablet shows the camera, the hint and the button without scrolling, and a long message
   ("No face found — look at the camera") is set on at most two balanced lines;
3. the kiosk in Spanish from the browser's language: words from the Spanish catalog, a 24-hour clock, and a
   language switch that sticks across reloads.
Screenshots go to test-artifacts/kiosk/.
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from tests.fixtures.browser import body_attr, enter_key, js, person, stored_punches, text_of, wait

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NO_FACE = ROOT / "tests" / "fixtures" / "faces" / "noface" / "skimage_brick.png"


def _button_only(driver, url: str, key: str) -> None:
    driver.get(url + "/kiosk?auto=0")
    enter_key(driver, key)
    wait(driver, lambda d: d.execute_script("return document.getElementById('video').readyState") >= 2, 30,
         "camera frames")


def _press(driver) -> None:
    from selenium.webdriver.common.by import By

    wait(driver, lambda d: d.find_element(By.ID, "check-button").is_enabled(), 20, "the button")
    driver.find_element(By.ID, "check-button").click()


def _visible(driver, element_id: str) -> bool:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id).is_displayed()


def test_a_revoked_key_keeps_the_attempt_and_asks_for_an_administrator(live, api, browser_factory, artifacts):
    enroll, camera = person()
    user = api.create_user(f"K{uuid.uuid4().hex[:6].upper()}", "Margaret Hamilton")
    api.enroll(user["id"], [p.read_bytes() for p in enroll])
    device = api.create_device("Front door", site="HQ")
    driver = browser_factory(camera)
    _button_only(driver, live.url, device["api_key"])

    api.revoke_device(device["id"])  # while the employee stands in front of the kiosk
    _press(driver)
    wait(driver, lambda d: body_attr(d, "locked") == "1" and body_attr(d, "failed") == "1", 30,
         "the kiosk locked with the attempt kept")
    driver.save_screenshot(str(artifacts / "7-revoked-key-locked.png"))
    assert _visible(driver, "locked") and not _visible(driver, "setup")  # no set-up form for the employee
    assert "call an administrator" in text_of(driver, "locked")
    assert "1 not recorded" in text_of(driver, "failed")
    [kept] = js(driver, "window.faceclockKiosk.failed()")
    assert kept["reason"] == "invalid_device_key"
    assert stored_punches(live) == []

    # the administrator re-enters a (new) key: the kept attempt is sent, dated when it was taken
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "admin-key").click()
    assert _visible(driver, "setup")
    assert "not accepted any more" in text_of(driver, "key-error")
    new_key = api.create_device("Front door (new key)", site="HQ")["api_key"]
    driver.find_element(By.ID, "key-input").send_keys(new_key)
    driver.find_element(By.ID, "key-submit").click()
    wait(driver, lambda d: body_attr(d, "failed") == "0" and body_attr(d, "queued") == "0"
         and len(stored_punches(live)) == 1, 60, "the kept attempt sent with the new key")
    [punch] = stored_punches(live)
    assert punch.user_id == user["id"] and punch.request_id == kept["request_id"]
    captured = datetime.fromisoformat(kept["captured_at"].replace("Z", "+00:00"))
    assert abs((punch.at.replace(tzinfo=captured.tzinfo) - captured).total_seconds()) < 0.01
    assert body_attr(driver, "locked") == "0" and _visible(driver, "kiosk")


LINES = """(() => {
  const el = document.getElementById(arguments[0]);
  const r = document.createRange(); r.selectNodeContents(el);
  const rows = {};
  for (const b of r.getClientRects()) { const k = Math.round(b.top); rows[k] = (rows[k] || 0) + b.width; }
  return {widths: Object.values(rows), overflow: el.scrollWidth > el.clientWidth + 1};
})()"""
LAYOUT = """(() => {
  const box = id => document.getElementById(id).getBoundingClientRect();
  return {inner: innerHeight, scroll: document.scrollingElement.scrollHeight, stage: box('stage').height,
          stageBottom: box('stage').bottom, hintBottom: box('hint').bottom, button: box('check-button').bottom};
})()"""


def test_a_landscape_tablet_shows_everything_without_scrolling(live, api, browser_factory, artifacts):
    key = api.create_device("Tablet", site="HQ")["api_key"]
    driver = browser_factory(NO_FACE)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1024, "height": 768, "deviceScaleFactor": 1, "mobile": False})
    _button_only(driver, live.url, key)
    layout = driver.execute_script("return " + LAYOUT)
    assert layout["inner"] == 768, layout
    assert layout["scroll"] <= layout["inner"], f"the page scrolls: {layout}"
    assert layout["button"] <= layout["inner"] and layout["hintBottom"] <= layout["inner"], layout
    assert layout["stage"] >= 400, f"the camera should stay large: {layout}"

    _press(driver)  # the brick wall has no face: the long "No face found" message
    wait(driver, lambda d: text_of(d, "result-name").startswith("No face found"), 30, "the no-face message")
    driver.save_screenshot(str(artifacts / "8-landscape-1024x768-no-face.png"))
    for element in ("result-name", "hint"):
        lines = driver.execute_script("return " + LINES, element)
        assert 1 <= len(lines["widths"]) <= 2 and not lines["overflow"], (element, lines)
        if len(lines["widths"]) == 2:  # balanced: no lone word on a line of its own
            assert min(lines["widths"]) >= 0.4 * max(lines["widths"]), (element, lines)
    assert driver.execute_script("return " + LAYOUT)["scroll"] <= 768


def test_the_kiosk_speaks_spanish_from_the_browser_language(live, api, browser_factory, artifacts):
    from selenium.webdriver.common.by import By

    enroll, camera = person()
    user = api.create_user(f"K{uuid.uuid4().hex[:6].upper()}", "Rosalind Franklin")
    api.enroll(user["id"], [p.read_bytes() for p in enroll])
    key = api.create_device("Entrada", site="HQ")["api_key"]
    driver = browser_factory(camera, lang="es-ES")
    driver.get(live.url + "/kiosk")
    wait(driver, lambda d: body_attr(d, "state") == "setup", 20, "the key form")
    assert driver.execute_script("return document.documentElement.lang") == "es"
    assert text_of(driver, "setup").startswith("Configurar este quiosco")
    assert driver.find_element(By.ID, "key-input").get_attribute("placeholder") == "clave del dispositivo"
    driver.save_screenshot(str(artifacts / "9-es-device-key.png"))
    driver.find_element(By.ID, "key-input").send_keys(key)
    driver.find_element(By.ID, "key-submit").click()
    wait(driver, lambda d: text_of(d, "result-name") == "Rosalind Franklin", 60, "the name on screen")
    assert text_of(driver, "result-kind").startswith(("ENTRADA", "SALIDA"))
    assert re.fullmatch(r"\d{2}:\d{2}", text_of(driver, "result-time")), text_of(driver, "result-time")  # 24-hour
    assert re.fullmatch(r"\d{2}:\d{2}:\d{2}", text_of(driver, "clock")), text_of(driver, "clock")
    driver.save_screenshot(str(artifacts / "10-es-recognized.png"))
    assert len(stored_punches(live)) == 1

    # the switch sticks: English after a reload, although the browser still prefers Spanish
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, "lang")).select_by_value("en")
    wait(driver, lambda d: text_of(d, "check-button") == "Check in / out", 10, "English words")
    driver.get(live.url + "/kiosk?auto=0")
    wait(driver, lambda d: body_attr(d, "state") in ("ready", "busy"), 30, "the kiosk after a reload")
    assert text_of(driver, "check-button") == "Check in / out"
    assert driver.execute_script("return document.documentElement.lang") == "en"
