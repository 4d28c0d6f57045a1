"""constraints.txt pins what run.sh (so CI) and the Docker image install (issue 16, item 9): it covers every
dependency installed here, direct or transitive, at the installed version; `python scripts/constraints.py update`
regenerates it; run.sh still installs (and says how to fix it) when a new dependency does not fit the pins."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tomllib

import pytest

from tests.fixtures import ROOT
from tests.system.test_run_sh import REAL_PYTHON

SCRIPT = ROOT / "scripts" / "constraints.py"


@pytest.fixture
def constraints():
    spec = importlib.util.spec_from_file_location("faceclock_constraints", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_constraints_pin_every_installed_dependency(constraints):
    problems = constraints.check()
    assert problems == [], ("constraints.txt does not match what is installed; run "
                            "`python scripts/constraints.py update` and commit it:\n" + "\n".join(problems))
    pins = constraints.read_pins()
    for name in ("fastapi", "numpy", "opencv-contrib-python-headless", "pytest", "starlette", "setuptools"):
        assert name in pins, name


def test_the_check_names_what_is_missing_or_different(constraints, tmp_path, monkeypatch):
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    edited = [x for x in lines if not x.lower().startswith(("numpy==", "starlette=="))]  # starlette: transitive
    edited = [("PyJWT==0.0.1" if x.lower().startswith("pyjwt==") else x) for x in edited]
    fake = tmp_path / "constraints.txt"
    fake.write_text("\n".join(edited) + "\n")
    monkeypatch.setattr(constraints, "CONSTRAINTS", fake)
    problems = "\n".join(constraints.check())
    assert "numpy " in problems and "installed as a dependency but not pinned" in problems
    assert "starlette " in problems
    assert "pyjwt: pinned 0.0.1, but pyproject.toml asks for >=2.8" in problems
    assert "pyjwt: installed " in problems


def test_requirements_are_pyprojects_and_need_only_the_standard_library():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    p = subprocess.run([sys.executable, "-I", "-S", str(SCRIPT), "requirements"], capture_output=True, text=True,
                       timeout=60)  # -S: no site-packages, as in the image before anything is installed
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == project["dependencies"]
    p = subprocess.run([sys.executable, "-I", "-S", str(SCRIPT), "requirements", "--extra", "test"],
                       capture_output=True, text=True, timeout=60)
    assert p.stdout.splitlines() == project["dependencies"] + project["optional-dependencies"]["test"]


@pytest.mark.skipif(not REAL_PYTHON.exists(), reason="needs the project's .venv (./run.sh creates it)")
def test_run_sh_installs_without_the_pins_when_they_do_not_fit(tmp_path, models_dir):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    log = tmp_path / "calls.log"
    python = venv / "bin" / "python"
    python.write_text(f"""#!/bin/sh
echo "$*" >> {log}
case "$*" in
  *"-c constraints.txt"*) echo "ResolutionImpossible (a stand-in for a pin that does not fit)" >&2; exit 1 ;;
  "-m pip"*) exit 0 ;;
esac
exec {REAL_PYTHON} "$@"
""")
    python.chmod(0o755)
    env = {**os.environ, "VENV": str(venv), "DATA_DIR": str(tmp_path / "data"), "MODELS_DIR": str(models_dir)}
    p = subprocess.run(["bash", str(ROOT / "run.sh"), "test", "--version"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "constraints.txt does not fit pyproject.toml; installing without it" in p.stderr
    assert "python scripts/constraints.py update" in p.stderr
    installs = [c for c in log.read_text().splitlines() if c.startswith("-m pip install") and "--upgrade" not in c]
    assert installs[-2:] == ["-m pip install --quiet -c constraints.txt -e .[test]",
                             "-m pip install --quiet -e .[test]"]
