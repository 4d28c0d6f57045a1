"""Docker (issue 16, item 9).

The file checks run everywhere: the Dockerfile installs the pinned dependencies in their own layer before any code,
provisions the weights from the provisioning code alone (and that code is enough to run), makes them read-only in
the layer that writes them, has its HEALTHCHECK on /ready; .dockerignore keeps the venv, data and tests out;
compose's database healthcheck goes over TCP.

The image checks build and run the image, and skip with the reason where this machine has no Docker engine or no
copy of the base image (no registry but PyPI, Debian and npm is reachable from the development machines):
`FACECLOCK_DOCKER_PULL=1` lets them pull the base image where a registry is reachable.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.fixtures import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()
LINES = [ln.strip() for ln in re.sub(r"\\\n\s*", " ", DOCKERFILE).splitlines() if ln.strip()
         and not ln.lstrip().startswith("#")]


def _index(prefix: str, contains: str = "") -> int:
    return next(i for i, ln in enumerate(LINES) if ln.startswith(prefix) and contains in ln)


def _copies(upto: int | None = None) -> list[str]:
    out = []
    for ln in LINES[:upto]:
        if ln.startswith("COPY "):
            out += ln.split()[1:-1]
    return out


# ----------------------------------------------------------------------------- files (no Docker needed)

def test_dependencies_are_a_pinned_layer_before_the_code():
    deps = _index("RUN ", "pip install -c constraints.txt -r")
    assert _copies(deps) == ["pyproject.toml", "constraints.txt", "scripts/constraints.py"]  # nothing else yet
    assert deps < _index("COPY server ./server") < _index("RUN pip install --no-deps -c constraints.txt .")
    for source in _copies():
        assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which does not exist"


def test_weights_are_made_read_only_in_the_layer_that_writes_them():
    (run,) = [ln for ln in LINES if "scripts/fetch_models.py" in ln and ln.startswith("RUN ")]
    assert "chmod -R a-w /opt/faceclock/models" in run
    assert not [ln for ln in LINES if "chmod" in ln and ln is not run and "models" in ln]
    assert _index("RUN ", "fetch_models.py") < _index("COPY server ./server")  # code changes keep the weights


def test_the_weights_layer_has_all_the_code_it_runs(tmp_path, models_dir):
    """Only the files the Dockerfile copies before provisioning: they must be enough for scripts/fetch_models.py
    (a module moved elsewhere would break the image build, seen here without Docker)."""
    app = tmp_path / "app"
    for source in _copies(_index("RUN ", "fetch_models.py")):
        (app / source).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / source, app / source)
    code = (f"import sys; sys.path.insert(0, {str(app)!r}); sys.argv = ['fetch_models.py', '--check', '--dir', "
            f"{str(models_dir)!r}]\nimport runpy\ntry:\n    runpy.run_path({str(app / 'scripts/fetch_models.py')!r}, "
            "run_name='__main__')\nexcept SystemExit as e:\n    code = e.code\n"
            "import json\nprint(json.dumps([m.__file__ for n, m in sys.modules.items() if n.split('.')[0] == "
            "'server' and getattr(m, '__file__', None)]))\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "DATA_DIR": str(tmp_path / "data")})
    assert p.returncode == 0, p.stderr
    files = json.loads(p.stdout.strip().splitlines()[-1])
    assert files and all(f.startswith(str(app)) for f in files), files  # none came from the source tree
    assert "sface: ok" in p.stdout


def test_healthcheck_is_ready_and_the_user_is_10001():
    (check,) = [ln for ln in LINES if ln.startswith("HEALTHCHECK")]
    assert "/ready" in check and "/health\"" not in check
    assert "useradd --create-home --uid 10001 faceclock" in DOCKERFILE and "USER faceclock" in LINES


def test_dockerignore_keeps_the_context_small():
    ignored = {ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()
               if ln.strip() and not ln.startswith("#")}
    assert {".venv", "data", ".git", "tests", "**/__pycache__", ".env"} <= ignored
    for source in _copies():
        assert source.split("/")[0] not in ignored, source


def test_compose_database_healthcheck_is_over_tcp():
    compose = (ROOT / "docker-compose.yml").read_text()
    assert 'pg_isready -h 127.0.0.1 -p 5432 -U faceclock -d faceclock' in compose
    assert "FORWARDED_ALLOW_IPS" in compose and "10001" in compose


# ----------------------------------------------------------------------------- the image (a Docker engine)

BASE = next(ln.split()[1] for ln in LINES if ln.startswith("FROM "))


def _docker(*args, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, **kw)


@pytest.fixture(scope="module")
def docker_engine() -> None:
    if shutil.which("docker") is None:
        pytest.skip("Docker check skipped: there is no docker command on this machine")
    info = _docker("info", "--format", "{{.ServerVersion}}")
    if info.returncode != 0:
        said = (info.stderr.strip() or info.stdout.strip()).splitlines()
        pytest.skip(f"Docker check skipped: no Docker engine answers here (`docker info`: {said[-1] if said else '?'})")
    if _docker("image", "inspect", BASE).returncode != 0:
        if os.environ.get("FACECLOCK_DOCKER_PULL") != "1":
            pytest.skip(f"Docker check skipped: the base image {BASE} is not on this machine (`docker pull {BASE}`, "
                        f"or FACECLOCK_DOCKER_PULL=1 to let this check pull it)")
        pulled = _docker("pull", BASE, timeout=600)
        if pulled.returncode != 0:
            pytest.skip(f"Docker check skipped: `docker pull {BASE}` failed: {pulled.stderr.strip()[-300:]}")


def _build(context: Path, tag: str) -> str:
    """Builds and returns the build log (BuildKit plain progress, or the legacy builder's)."""
    buildkit = _docker("buildx", "version").returncode == 0
    args = ["build", "-t", tag, *(["--progress=plain"] if buildkit else []), str(context)]
    env = {**os.environ, "DOCKER_BUILDKIT": "1" if buildkit else "0"}
    p = _docker(*args, timeout=1800, env=env)
    assert p.returncode == 0, (p.stdout + p.stderr)[-5000:]
    return p.stdout + p.stderr


def _step_cached(log: str, command_part: str) -> bool:
    """Whether the build step running `command_part` came from the cache (BuildKit `#N CACHED`, legacy `Using
    cache`)."""
    buildkit = re.search(r"^#(\d+) \[[^\]]+\] RUN [^\n]*" + re.escape(command_part), log, re.M)
    if buildkit:
        return re.search(rf"^#{buildkit.group(1)} CACHED", log, re.M) is not None
    legacy = re.search(r"Step \d+/\d+ : RUN [^\n]*" + re.escape(command_part) + r"[^\n]*\n(.*?)(?=\nStep |\Z)",
                       log, re.S)
    return legacy is not None and "Using cache" in legacy.group(1)


@pytest.mark.docker
@pytest.mark.slow
def test_image_builds_caches_dependencies_and_runs_healthy(docker_engine, tmp_path):
    context = tmp_path / "context"
    shutil.copytree(ROOT, context, ignore=shutil.ignore_patterns(".venv", "data", ".git", "__pycache__", "build",
                                                                 "*.egg-info", ".pytest_cache", "test-artifacts"))
    tag = f"faceclock-check:{os.getpid()}"
    name = f"faceclock-check-{os.getpid()}"
    try:
        t0 = time.monotonic()
        _build(context, tag)
        first_build_s = time.monotonic() - t0
        with open(context / "server" / "main.py", "a") as fh:
            fh.write("\n# a code change\n")
        t0 = time.monotonic()
        log = _build(context, tag + "-b")
        second_build_s = time.monotonic() - t0
        assert _step_cached(log, "constraints.py requirements"), log[-5000:]  # dependencies not reinstalled
        assert _step_cached(log, "scripts/fetch_models.py"), log[-5000:]  # nor the weights downloaded again
        print(f"build: first {first_build_s:.0f} s, after a code change {second_build_s:.0f} s")

        health = json.loads(_docker("image", "inspect", "--format", "{{json .Config.Healthcheck}}", tag).stdout)
        assert any("/ready" in part for part in health["Test"])

        run = _docker("run", "-d", "--name", name, "-p", "127.0.0.1::8000", "--health-interval=2s",
                      "-e", "JWT_SECRET=" + "x" * 40, "-e", "ENVIRONMENT=production", tag)
        assert run.returncode == 0, run.stderr
        deadline, status = time.monotonic() + 180, ""
        while time.monotonic() < deadline and status != "healthy":
            status = _docker("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip()
            time.sleep(1)
        assert status == "healthy", _docker("logs", name).stderr[-3000:]
        port = _docker("port", name, "8000/tcp").stdout.strip().splitlines()[0].rsplit(":", 1)[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=10) as r:
            assert r.status == 200
        assert _docker("exec", name, "id", "-u").stdout.strip() == "10001"
        assert _docker("exec", name, "stat", "-c", "%a", "/data/faceclock.db").stdout.strip() == "600"
        listing = _docker("exec", name, "ls", "-a", "/app").stdout.split()
        assert not {".venv", "tests", "data", ".git"} & set(listing), listing
        logs = _docker("logs", name)
        assert "faceclock ready" in logs.stdout + logs.stderr
        assert "setPreferableTarget" not in logs.stdout + logs.stderr
    finally:
        _docker("rm", "-f", name)
        _docker("rmi", "-f", tag, tag + "-b", timeout=120)


@pytest.mark.docker
def test_compose_file_is_valid(docker_engine):
    if _docker("compose", "version").returncode != 0:
        pytest.skip("Docker check skipped: no `docker compose` plugin on this machine")
    p = _docker("compose", "-f", str(ROOT / "docker-compose.yml"), "config", env={**os.environ, "JWT_SECRET": "x" * 40})
    assert p.returncode == 0, p.stderr
    assert "pg_isready -h 127.0.0.1" in p.stdout
