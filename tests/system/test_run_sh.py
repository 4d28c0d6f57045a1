"""./run.sh serve, for real, with a stand-in venv python that records pip calls and can fail model provisioning:
the serve path installs the base project only, exports the thread caps, and keeps serving when provisioning fails."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.fixtures import ROOT

REAL_PYTHON = ROOT / ".venv" / "bin" / "python"


def _fake_venv(tmp_path: Path, *, fetch_fails: bool) -> Path:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    log = tmp_path / "calls.log"
    python = venv / "bin" / "python"
    python.write_text(f"""#!/bin/sh
echo "$*" >> {log}
case "$1 $2" in
  "-m pip") exit 0 ;;
esac
if [ "$1" = "scripts/fetch_models.py" ] && [ "{int(fetch_fails)}" = "1" ]; then
  echo "fetch_models: no network" >&2; exit 1
fi
exec {REAL_PYTHON} "$@"
""")
    python.chmod(0o755)
    return venv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.mark.skipif(not REAL_PYTHON.exists(), reason="needs the project's .venv (./run.sh creates it)")
def test_serve_installs_base_only_and_keeps_serving_when_provisioning_fails(tmp_path):
    venv = _fake_venv(tmp_path, fetch_fails=True)
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "DATABASE_URL", "JWT_SECRET", "ENVIRONMENT")}
    env.update({"VENV": str(venv), "PORT": str(port), "HOST": "127.0.0.1", "DATA_DIR": str(tmp_path / "data"),
                "MODELS_DIR": str(tmp_path / "no-models"), "SCHEDULER_ENABLED": "false",
                "ADMIN_PASSWORD": "run-sh-password-1"})
    proc = subprocess.Popen(["bash", str(ROOT / "run.sh")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.time() + 90
        status = None
        while time.time() < deadline and proc.poll() is None:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/ready")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert status == 503, body
        assert "fetch_models.py" in body["checks"]["face_engine"]
        assert _get(f"http://127.0.0.1:{port}/health")[0] == 200
        environ = dict(kv.split("=", 1) for kv in Path(f"/proc/{proc.pid}/environ").read_text().split("\0")
                       if "=" in kv)
        assert environ["OMP_NUM_THREADS"] == "1" and environ["OPENBLAS_NUM_THREADS"] == "1"
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_text().split("\0")
        assert "--proxy-headers" in cmdline and cmdline[cmdline.index("--forwarded-allow-ips") + 1] == "127.0.0.1"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    calls = (tmp_path / "calls.log").read_text().splitlines()
    installs = [c for c in calls if c.startswith("-m pip install") and "--upgrade pip" not in c]
    assert installs == ["-m pip install --quiet -c constraints.txt -e ."], calls  # pinned: constraints.txt
    assert "WARNING: provisioning the face models failed; serving anyway" in err
    assert (venv / ".faceclock-installed").read_text().strip().endswith("-base")


@pytest.mark.skipif(not REAL_PYTHON.exists(), reason="needs the project's .venv (./run.sh creates it)")
def test_a_venv_set_up_for_tests_serves_without_reinstalling(tmp_path, models_dir):
    venv = _fake_venv(tmp_path, fetch_fails=False)
    stamp = subprocess.run("cat pyproject.toml constraints.txt | sha256sum", shell=True, cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout[:16]
    (venv / ".faceclock-installed").write_text(f"{stamp}-test\n")
    port = _free_port()
    env = {**{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "JWT_SECRET", "ENVIRONMENT")},
           "VENV": str(venv), "PORT": str(port), "HOST": "127.0.0.1", "DATA_DIR": str(tmp_path / "data"),
           "MODELS_DIR": str(models_dir), "SCHEDULER_ENABLED": "false", "ADMIN_PASSWORD": "run-sh-password-1",
           "WORKERS": "1"}
    proc = subprocess.Popen(["bash", str(ROOT / "run.sh"), "serve"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.time() + 90
        while time.time() < deadline and proc.poll() is None:
            try:
                if _get(f"http://127.0.0.1:{port}/health")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        assert proc.poll() is None, proc.communicate()[1][-3000:]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=30)
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert not [c for c in calls if c.startswith("-m pip")], calls
