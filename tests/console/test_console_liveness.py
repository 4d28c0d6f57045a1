"""Console face sign-in with LIVENESS_LOGIN=challenge in headless Chromium with a fake camera: a still photo of an
enrolled person is refused in plain words; a camera whose frames turn the way the on-screen arrow asks signs in."""
from __future__ import annotations

import uuid

import pytest

from tests.console.helpers import click, page_is, text
from tests.fixtures.browser import body_attr, wait
from tests.fixtures.camera import ENROLL, FRONTAL, turning_camera

pytestmark = pytest.mark.browser

LOGIN_CHALLENGE = [{"LIVENESS_LOGIN": "challenge"}]


def _sign_in(driver, url):
    driver.get(url + "/admin")
    page_is(driver, "signin")
    click(driver, "#face-start")
    wait(driver, lambda d: d.execute_script("return document.getElementById('face-video').readyState") >= 2, 30,
         "the camera")
    click(driver, "#face-go")
    asked = wait(driver, lambda d: body_attr(d, "challenge"), 30, "the challenge arrow")
    assert text(driver, "#face-challenge-arrow") == {"turn_left": "\u2190", "turn_right": "\u2192"}[asked]
    assert text(driver, "#face-challenge-words") == {"turn_left": "Turn your head slightly to the left",
                                                     "turn_right": "Turn your head slightly to the right"}[asked]
    return asked


@pytest.mark.parametrize("live_env", LOGIN_CHALLENGE)
def test_face_sign_in_answers_a_head_turn_challenge(live, api, browser_factory, artifacts, live_env):
    user = api.create_user(f"L{uuid.uuid4().hex[:6].upper()}", "Paul Bremer")
    api.enroll(user["id"], [p.read_bytes() for p in ENROLL])

    still = browser_factory(FRONTAL, lang="en-US")  # a still photo of him
    _sign_in(still, live.url)
    refused = {"Please turn your head — a photo cannot check in", "Please turn your head as the arrow shows"}
    wait(still, lambda d: text(d, "#signin-error") in refused, 60, "the refusal in plain words")
    assert body_attr(still, "page") in (None, "signin")

    turning = browser_factory(FRONTAL, init_script=turning_camera(), lang="en-US")
    _sign_in(turning, live.url)
    page_is(turning, "mine", 60)
    assert "Paul Bremer" in text(turning, "#whoami")
    turning.save_screenshot(str(artifacts / "en-20-face-sign-in-head-turn.png"))
