"""Driving the console in Chromium: sign in, move between pages, fill dialogs."""
from __future__ import annotations

import time
from pathlib import Path

from tests.fixtures.browser import body_attr, wait

ROOT = Path(__file__).resolve().parents[2]
FACES = ROOT / "tests" / "fixtures" / "faces"
NO_FACE = FACES / "noface" / "skimage_brick.png"
ANN = [FACES / "deepface_id05" / n for n in ("img16.jpg", "img17.jpg", "img61.jpg")]  # 2 to enroll, 1 for the kiosk
BEN = FACES / "deepface_id03" / "img50.jpg"  # the console browser's fake webcam


def by_css(driver, css: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, css)


def all_css(driver, css: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, css)


def click(driver, css: str, timeout: float = 15) -> None:
    el = wait(driver, lambda d: (lambda e: e if e.is_displayed() and e.is_enabled() else None)(by_css(d, css)), timeout,
              f"{css} to be clickable")
    el.click()


def type_in(driver, css: str, text: str) -> None:
    el = wait(driver, lambda d: (lambda e: e if e.is_displayed() else None)(by_css(d, css)), 15, f"{css} to show")
    el.clear()
    el.send_keys(text)


def set_value(driver, css: str, value: str) -> None:
    """Date and time inputs: their typed form depends on the locale, so the value is set as the page would get it."""
    driver.execute_script("const e = document.querySelector(arguments[0]); e.value = arguments[1];"
                          "e.dispatchEvent(new Event('input', {bubbles: true}));"
                          "e.dispatchEvent(new Event('change', {bubbles: true}));", css, value)


def page_is(driver, name: str, timeout: float = 20) -> None:
    wait(driver, lambda d: body_attr(d, "page") == name, timeout, f"the {name} page")


def go(driver, route: str, page: str) -> None:
    driver.execute_script("location.hash = arguments[0]", route)
    page_is(driver, page)


def text(driver, css: str) -> str:
    return by_css(driver, css).text


def sign_in(driver, url: str, username: str, password: str) -> None:
    driver.get(url + "/admin")
    page_is(driver, "signin")
    type_in(driver, "#username", username)
    type_in(driver, "#password", password)
    click(driver, "#signin-submit")
    wait(driver, lambda d: body_attr(d, "page") not in (None, "signin"), 20, "signed in")


def submit_dialog(driver, closes: bool = True) -> None:
    click(driver, "dialog[open] button[type=submit]")
    if closes:
        wait(driver, lambda d: not all_css(d, "dialog[open]"), 20, "the dialog to close (an error in it?)")


def shot(driver, folder: Path, name: str) -> None:
    time.sleep(0.3)  # let the last answer paint
    driver.save_screenshot(str(folder / f"{name}.png"))


UNLABELLED = """return [...document.querySelectorAll('input, select, textarea, button')].filter(e => {
  if (e.type === 'hidden' || !e.offsetParent) return false;
  const named = (e.labels && e.labels.length) || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby')
                || (e.tagName === 'BUTTON' && e.textContent.trim());
  return !named;
}).map(e => e.outerHTML.slice(0, 120));"""


def assert_accessible(driver) -> None:
    """Every visible control has a name (a label, aria-label or its text), and the page does not scroll sideways."""
    assert driver.execute_script(UNLABELLED) == []
    assert driver.execute_script("return document.scrollingElement.scrollWidth <= innerWidth + 1"), "scrolls sideways"
