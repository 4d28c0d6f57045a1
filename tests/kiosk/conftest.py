"""Browser-test fixtures: a live uvicorn server of this checkout, an API client, and headless Chromium with a fake
camera fed from a real photo (tests/fixtures/faces)."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
ARTIFACTS = ROOT / "test-artifacts" / "kiosk"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                  "--window-size=1000,900"]


def _binaries() -> tuple[str | None, str | None]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    return browser, shutil.which("chromedriver")


@pytest.fixture(scope="session")
def chromium() -> tuple[str, str]:
    browser, driver = _binaries()
    if not browser or not driver:
        pytest.skip("chromium and chromedriver are not installed (apt-get install chromium chromium-driver; "
                    ".ci/run installs them)")
    pytest.importorskip("selenium", reason="selenium is a test dependency: pip install -e '.[test]'")
    return browser, driver


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def live_env() -> dict[str, str]:
    """Extra server settings; a test overrides it with @pytest.mark.parametrize("live_env", [{...}])."""
    return {}


@pytest.fixture
def live(tmp_path, models_dir, monkeypatch, live_env):
    """A real server (uvicorn subprocess) on a free port with a fresh SQLite database."""
    from live_server import LiveServer

    monkeypatch.setenv("MODELS_DIR", str(models_dir))
    server = LiveServer(tmp_path / "server", env=live_env)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def api(live):
    from live_server import Api

    client = Api(live.url)
    client.login_admin()
    yield client
    client.close()


@pytest.fixture
def browser_factory(chromium, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from tests.kiosk.camera import photo_to_y4m

    drivers = []

    def make(camera_photo: Path, init_script: str | None = None, lang: str | None = None,
             downloads: Path | None = None):
        """A browser whose fake camera shows camera_photo; init_script runs in every page before its own scripts;
        `lang` (e.g. "es-ES") is the browser's language; `downloads` the folder files are downloaded to."""
        y4m = photo_to_y4m(camera_photo, tmp_path / f"camera{len(drivers)}.y4m")
        opts = webdriver.ChromeOptions()
        opts.binary_location = chromium[0]
        for flag in CHROMIUM_FLAGS:
            opts.add_argument(flag)
        opts.add_argument(f"--user-data-dir={tmp_path / f'profile{len(drivers)}'}")
        opts.add_argument(f"--use-file-for-fake-video-capture={y4m}")
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        prefs = {}
        if lang:
            opts.add_argument(f"--lang={lang}")
            prefs["intl.accept_languages"] = f"{lang},{lang.split('-')[0]}"
        if downloads:
            prefs.update({"download.default_directory": str(downloads), "download.prompt_for_download": False})
        if prefs:
            opts.add_experimental_option("prefs", prefs)
        driver = webdriver.Chrome(options=opts, service=Service(chromium[1]))
        driver.set_page_load_timeout(60)
        if init_script:
            driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": init_script})
        if downloads:
            driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        drivers.append(driver)
        return driver

    yield make
    for d in drivers:
        d.quit()
