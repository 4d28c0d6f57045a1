"""The kiosk page in a real headless Chromium with a fake camera showing a real photo.

1. enroll the person, open /kiosk on a live server, enter the device key: their name appears on screen;
2. cut the server, take two punches (queued in the browser: IndexedDB, and the in-memory fallback when the browser
   has no IndexedDB), restore the server: both are replayed in capture order, stored once each, at their capture time;
3. through a fault-injecting proxy: an attempt that always gets a 500 is moved aside after a few tries and the one
   behind it goes on; a 503 database_unavailable (an outage) is retried as long as needed, never moved aside;
4. a replay the server refuses as captured_at_too_old (the browser's clock set 73 h back) is shown as not recorded.
Screenshots go to test-artifacts/kiosk/.
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

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


def _body(driver, name: str) -> str | None:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "body").get_attribute(f"data-{name}")


def _js(driver, expression: str):
    """The value of a JavaScript expression (a Promise is awaited)."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"Promise.resolve({expression}).then(done, e => done({{error: String(e)}}));")


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
    assert _body(driver, "steady") in ("face", "scene")  # FaceDetector when the browser has a working one
    assert _text(driver, "result-kind").startswith(("IN", "OUT"))
    assert _text(driver, "result-time")
    punches = _punches(live)
    assert len(punches) == 1 and punches[0].user_id == user["id"] and punches[0].kind == "in"


NO_INDEXEDDB = "Object.defineProperty(window, 'indexedDB', {value: undefined, configurable: true});"
DEBOUNCE_1S = [{"DEBOUNCE_SECONDS": "1"}]  # two punches 1.5 s apart are two punches (in, out), not a duplicate


def _open_button_only(driver, url: str, key: str) -> None:
    driver.get(url + "/kiosk?auto=0")  # button only: the punches are the ones the test takes
    _enter_key(driver, key)
    _wait(driver, lambda d: d.execute_script("return document.getElementById('video').readyState") >= 2, 30,
          "camera frames")


def _take(driver, queued: int | None = None) -> None:
    """Press the button; with `queued`, wait until that many attempts wait in the browser."""
    from selenium.webdriver.common.by import By

    _wait(driver, lambda d: d.find_element(By.ID, "check-button").is_enabled(), 20, "the button")
    driver.find_element(By.ID, "check-button").click()
    if queued is not None:
        _wait(driver, lambda d: _body(d, "queued") == str(queued), 30, f"{queued} attempt(s) queued")


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


@pytest.mark.parametrize("live_env", DEBOUNCE_1S)
@pytest.mark.parametrize("storage", ["indexeddb", "memory"])
def test_offline_punches_are_queued_and_replayed_in_order_once(live, api, browser_factory, artifacts, storage):
    user, key, camera = _setup(api, "Alan Turing")
    driver = browser_factory(camera, init_script=NO_INDEXEDDB if storage == "memory" else None)
    _open_button_only(driver, live.url, key)
    _wait(driver, lambda d: _body(d, "queue-backend") == storage, 10, f"the {storage} queue")

    live.stop()  # the server is gone
    _take(driver, queued=1)
    time.sleep(1.5)  # more than DEBOUNCE_SECONDS between the two punches
    _take(driver, queued=2)
    queue_text = _text(driver, "queue")
    assert queue_text.startswith("2 waiting to send"), queue_text
    assert ("kept until this page is reloaded" in queue_text) == (storage == "memory")
    waiting = _js(driver, "window.faceclockKiosk.waiting()")
    assert [w["serverErrors"] for w in waiting] == [0, 0], waiting
    driver.save_screenshot(str(artifacts / f"3-offline-queued-{storage}.png"))
    assert _punches(live) == []

    time.sleep(1.0)  # the replay happens well after the capture: the punch must keep the capture time
    live.start()  # same port, same database: the page replays the queue by itself
    _wait(driver, lambda d: _body(d, "queued") == "0", 60, "the queue to drain")
    _wait(driver, lambda d: _text(d, "result-name") == "Alan Turing", 10, "the replayed answer on screen")
    driver.save_screenshot(str(artifacts / f"4-replayed-{storage}.png"))
    assert _body(driver, "failed") == "0"
    punches = _punches(live)
    assert [p.request_id for p in punches] == [w["request_id"] for w in waiting]  # in capture order, once each
    assert [p.kind for p in punches] == ["in", "out"] and {p.user_id for p in punches} == {user["id"]}
    for punch, item in zip(punches, waiting):
        captured = datetime.fromisoformat(item["captured_at"].replace("Z", "+00:00"))
        assert abs((_utc(punch.at) - captured).total_seconds()) < 0.01, (punch.at, captured)
        assert (_utc(punch.created_at) - captured).total_seconds() > 1.5  # stored later, dated at capture

    # the same request_id again (a replay whose first answer was lost) returns the same punch, adds none
    r = api.kiosk_check(key, camera.read_bytes(), request_id=punches[0].request_id)
    assert r.status_code == 200, r.text
    assert r.json()["punch"]["id"] == punches[0].id
    assert len(_punches(live)) == 2


@pytest.mark.parametrize("live_env", DEBOUNCE_1S)
def test_an_attempt_that_always_gets_a_500_does_not_block_the_next(live, api, browser_factory, artifacts):
    from tests.kiosk.fault_proxy import FaultProxy

    poisoned: list[str] = []

    def rule(request_id: str, seen: int):  # the first attempt is answered 500 every time
        if not poisoned:
            poisoned.append(request_id)
        if request_id == poisoned[0]:
            return 500, {"error": {"code": "internal_error", "message": "Internal server error"}}
        return None

    user, key, camera = _setup(api, "Ada Lovelace")
    with FaultProxy(live.url, rule) as proxy:
        driver = browser_factory(camera)
        _open_button_only(driver, proxy.url, key)
        _take(driver, queued=1)
        time.sleep(1.5)
        _take(driver)
        _wait(driver, lambda d: _body(d, "failed") == "1" and _body(d, "queued") == "0", 60,
              "the failing attempt moved aside and the next one sent")
        driver.save_screenshot(str(artifacts / "5-server-error-moved-aside.png"))
        assert proxy.seen[poisoned[0]] == 3  # MAX_SERVER_ERRORS tries, then no more
    assert "1 not recorded" in _text(driver, "failed")
    [moved] = _js(driver, "window.faceclockKiosk.failed()")
    assert moved["request_id"] == poisoned[0] and moved["reason"] == "server_error"
    assert moved["detail"] == "500 internal_error"
    punches = _punches(live)
    assert len(punches) == 1 and punches[0].request_id != poisoned[0] and punches[0].user_id == user["id"]


@pytest.mark.parametrize("live_env", DEBOUNCE_1S)
def test_a_database_outage_is_waited_out_not_moved_aside(live, api, browser_factory, artifacts):
    from tests.kiosk.fault_proxy import FaultProxy

    first: list[str] = []

    def rule(request_id: str, seen: int):  # the first attempt meets a 503 outage 4 times (more than 3), then passes
        if not first:
            first.append(request_id)
        if request_id == first[0] and seen <= 4:
            return 503, {"error": {"code": "database_unavailable", "message": "The database cannot be reached"}}
        return None

    user, key, camera = _setup(api, "Edsger Dijkstra")
    with FaultProxy(live.url, rule) as proxy:
        driver = browser_factory(camera)
        _open_button_only(driver, proxy.url, key)
        _take(driver, queued=1)
        time.sleep(1.5)
        _take(driver, queued=2)
        _wait(driver, lambda d: _body(d, "queued") == "0", 90, "the queue to drain after the outage")
        assert proxy.seen[first[0]] == 5
    assert _body(driver, "failed") == "0"
    punches = _punches(live)
    assert len(punches) == 2 and punches[0].request_id == first[0]  # the order is kept
    assert [p.kind for p in punches] == ["in", "out"]


def test_a_replay_refused_as_too_old_is_shown_as_not_recorded(live, api, browser_factory, artifacts):
    # the kiosk's clock is 73 hours behind (MAX_OFFLINE_HOURS is 72): its offline punch is too old when replayed
    clock_73h_back = """(() => {
      const Real = Date, offset = -73 * 3600 * 1000;
      class Shifted extends Real {
        constructor(...a) { if (a.length) super(...a); else super(Real.now() + offset); }
        static now() { return Real.now() + offset; }
      }
      window.Date = Shifted;
    })();"""
    _, key, camera = _setup(api, "Barbara Liskov")
    driver = browser_factory(camera, init_script=clock_73h_back)
    _open_button_only(driver, live.url, key)
    live.stop()
    _take(driver, queued=1)
    live.start()
    _wait(driver, lambda d: _body(d, "failed") == "1" and _body(d, "queued") == "0", 60,
          "the refused replay moved aside")
    assert _text(driver, "result-name") == "Not recorded"
    assert "too long ago" in _text(driver, "result-time")
    assert "1 not recorded" in _text(driver, "failed")
    driver.save_screenshot(str(artifacts / "6-too-old-not-recorded.png"))
    [moved] = _js(driver, "window.faceclockKiosk.failed()")
    assert moved["reason"] == "captured_at_too_old"
    assert _punches(live) == []
