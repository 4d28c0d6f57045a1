"""The kiosk page's head-turn challenge in a real headless Chromium with a fake camera (LIVENESS=challenge).

1. Chromium's own fake camera plays a video made from a still photo of an enrolled person: the page fetches a
   challenge, shows the arrow and the words, captures ~1.5 s of frames, and the server refuses them (the frames are
   one still picture): the page says so plainly and no punch is stored.
2. A camera whose frames go from a frontal photo of that person to a turned photo of them in the asked direction
   once the arrow is on screen (a canvas stream standing in for the camera, as a person reacting to the arrow):
   accepted, the person's name on screen, one punch marked liveness "challenge".
Screenshots go to test-artifacts/kiosk/.
"""
from __future__ import annotations

import uuid

import pytest

from tests.fixtures.browser import body_attr, enter_key, stored_punches, text_of, wait
from tests.fixtures.camera import ENROLL, FRONTAL, turning_camera

pytestmark = pytest.mark.browser

CHALLENGE = [{"LIVENESS": "challenge"}]


def _setup(api):
    user = api.create_user(f"L{uuid.uuid4().hex[:6].upper()}", "Paul Bremer")
    api.enroll(user["id"], [p.read_bytes() for p in ENROLL])
    return user, api.create_device("Front door", site="HQ")["api_key"]


def _check_now(driver, key):
    from selenium.webdriver.common.by import By

    enter_key(driver, key)
    wait(driver, lambda d: body_attr(d, "liveness") == "challenge", 20, "the device's liveness mode")
    wait(driver, lambda d: d.execute_script("return document.getElementById('video').readyState") >= 2, 20,
         "the camera")
    driver.find_element(By.ID, "check-button").click()
    wait(driver, lambda d: body_attr(d, "challenge") in ("turn_left", "turn_right"), 20, "the challenge arrow")
    arrow, words = text_of(driver, "challenge-arrow"), text_of(driver, "challenge-words")
    asked = body_attr(driver, "challenge")
    assert arrow == {"turn_left": "\u2190", "turn_right": "\u2192"}[asked]
    assert words == {"turn_left": "Turn your head slightly to the left",
                     "turn_right": "Turn your head slightly to the right"}[asked]
    return asked


@pytest.mark.parametrize("live_env", CHALLENGE)
def test_a_video_of_a_still_photo_is_refused(live, api, browser_factory, artifacts, live_env):
    user, key = _setup(api)
    driver = browser_factory(FRONTAL)  # Chromium's fake camera: a video made of the still photo
    driver.get(live.url + "/kiosk?auto=0")
    _check_now(driver, key)
    driver.save_screenshot(str(artifacts / "liveness-1-arrow.png"))
    refused = {"Please turn your head — a photo cannot check in", "Please turn your head as the arrow shows"}
    wait(driver, lambda d: text_of(d, "result-name") in refused, 60, "the refusal on screen")
    driver.save_screenshot(str(artifacts / "liveness-2-still-photo-refused.png"))
    assert stored_punches(live) == []


@pytest.mark.parametrize("live_env", CHALLENGE)
def test_a_turn_in_the_asked_direction_is_accepted(live, api, browser_factory, artifacts, live_env):
    user, key = _setup(api)
    driver = browser_factory(FRONTAL, init_script=turning_camera())
    driver.get(live.url + "/kiosk?auto=0")
    _check_now(driver, key)
    wait(driver, lambda d: text_of(d, "result-name") == "Paul Bremer", 60, "the name on screen")
    driver.save_screenshot(str(artifacts / "liveness-3-turn-accepted.png"))
    punches = stored_punches(live)
    assert [(p.user_id, p.liveness) for p in punches] == [(user["id"], "challenge")]


@pytest.mark.parametrize("live_env", CHALLENGE)
def test_offline_the_page_draws_the_action_and_the_replay_is_verified_and_marked(live, api, browser_factory,
                                                                                  artifacts, live_env):
    """The server is gone: the page draws the action itself, shows it, queues the frames with offline_action; back
    online, the replay is checked like a challenge and the punch is marked liveness "offline" (never a silent skip).
    Then a still photo offline: queued the same way, refused on replay, shown in the "not recorded" list."""
    user, key = _setup(api)
    driver = browser_factory(FRONTAL, init_script=turning_camera())
    driver.get(live.url + "/kiosk?auto=0")
    enter_key(driver, key)
    wait(driver, lambda d: body_attr(d, "liveness") == "challenge", 20, "the device's liveness mode")
    wait(driver, lambda d: d.execute_script("return document.getElementById('video').readyState") >= 2, 20,
         "the camera")

    live.stop()  # the server is gone: no challenge can be fetched
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "check-button").click()
    asked = wait(driver, lambda d: body_attr(d, "challenge"), 20, "the locally drawn arrow")
    assert asked in ("turn_left", "turn_right")
    assert text_of(driver, "challenge-arrow") == {"turn_left": "\u2190", "turn_right": "\u2192"}[asked]
    wait(driver, lambda d: body_attr(d, "queued") == "1", 30, "the attempt queued")
    waiting = driver.execute_script("return window.faceclockKiosk.waiting()")
    assert [w.get("offline_action") for w in waiting] == [asked], waiting
    assert not any(w.get("challenge_id") for w in waiting)
    driver.save_screenshot(str(artifacts / "liveness-4-offline-queued.png"))

    live.start()
    wait(driver, lambda d: body_attr(d, "queued") == "0", 60, "the queue to drain")
    punches = stored_punches(live)
    assert [(p.user_id, p.liveness) for p in punches] == [(user["id"], "offline")]
    assert body_attr(driver, "failed") == "0"


@pytest.mark.parametrize("live_env", CHALLENGE)
def test_offline_a_still_photo_is_queued_then_refused_on_replay(live, api, browser_factory, artifacts, live_env):
    user, key = _setup(api)
    driver = browser_factory(FRONTAL)  # a still photo
    driver.get(live.url + "/kiosk?auto=0")
    enter_key(driver, key)
    wait(driver, lambda d: body_attr(d, "liveness") == "challenge", 20, "the device's liveness mode")
    wait(driver, lambda d: d.execute_script("return document.getElementById('video').readyState") >= 2, 20,
         "the camera")
    live.stop()
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "check-button").click()
    wait(driver, lambda d: body_attr(d, "queued") == "1", 30, "the attempt queued")
    live.start()
    wait(driver, lambda d: body_attr(d, "failed") == "1", 60, "the replay refused and set aside")
    driver.save_screenshot(str(artifacts / "liveness-5-offline-photo-not-recorded.png"))
    assert body_attr(driver, "queued") == "0"
    assert stored_punches(live) == []
