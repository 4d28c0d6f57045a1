"""A real faceclock server in a subprocess (uvicorn, its own port and data directory) plus a small HTTP client.

Used by the browser tests (tests/kiosk) and the proof scripts (bad_uploads, soak_kiosk, db_outage, memory_limit):

    with LiveServer(tmp_dir) as srv:            # fresh SQLite DB under tmp_dir unless database_url= is given
        api = Api(srv.url)
        api.login_admin()
        user = api.create_user("E001", "Ada Lovelace")
        api.enroll(user["id"], [photo_bytes])
        key = api.create_device("Front door")["api_key"]
        api.kiosk_check(key, photo_bytes)

`prefix` puts a command in front of the server (e.g. ["prlimit", "--as=536870912", "--"]). `scratch_database` gives a
script a PostgreSQL database of its own beside a given one (bench_import, db_outage).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-123"
JWT_SECRET = "live-server-secret-long-enough-for-hs256-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_models_dir() -> Path:
    if os.environ.get("MODELS_DIR"):
        return Path(os.environ["MODELS_DIR"])
    d = ROOT / "data" / "models"
    if not (d / "manifest.json").exists():
        sys.path.insert(0, str(ROOT))
        from server.faces.provisioning import provision_offline

        provision_offline(d)
    return d


@contextmanager
def scratch_database(base_url: str, name: str, *, keep: bool = False, report: dict | None = None) -> Iterator[str]:
    """A new, empty PostgreSQL database `name` on base_url's server (any same-named one is dropped first), yielded as
    a URL; dropped on exit unless `keep`. The administrative pool pings before each use, so it outlives a restart of
    the cluster (scripts/db_outage.py stops it on purpose). A failed drop is raised, or put into
    report["drop_database_error"] when a report is given (the run's other results stay)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(base_url)
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            c.execute(text(f'CREATE DATABASE "{name}"'))
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            try:
                with admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except Exception as exc:  # noqa: BLE001  reported to the caller's report when it has one
                if report is None:
                    raise
                report["drop_database_error"] = f"{exc.__class__.__name__}: {exc}"
        admin.dispose()


class LiveServer:
    def __init__(self, data_dir: Path, *, database_url: str | None = None, port: int | None = None,
                 env: dict[str, str] | None = None, prefix: list[str] | None = None, python: str | None = None):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url or f"sqlite:///{(self.data_dir / 'faceclock.db').resolve()}"
        self.port = port or free_port()
        self.prefix = prefix or []
        self.python = python or sys.executable
        self.extra_env = env or {}
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """PID of the Python server process (the prefix commands exec it, so it is the same PID)."""
        return self.proc.pid if self.proc else None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DATA_DIR"))}
        env.update({
            "ENVIRONMENT": "test", "DATA_DIR": str(self.data_dir), "DATABASE_URL": self.database_url,
            "MODELS_DIR": str(default_models_dir()), "ADMIN_EMAIL": ADMIN_EMAIL, "ADMIN_PASSWORD": ADMIN_PASSWORD,
            "JWT_SECRET": JWT_SECRET, "SCHEDULER_ENABLED": "false", "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
        })
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 180.0, require_ready: bool = True) -> LiveServer:
        cmd = [*self.prefix, self.python, "-m", "uvicorn", "--factory", "server.main:app_factory",
               "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log", "--timeout-graceful-shutdown", "3"]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        self.wait_ready(timeout, require_ready)
        return self

    def wait_ready(self, timeout: float, require_ready: bool = True) -> None:
        deadline = time.monotonic() + timeout
        path = "/ready" if require_ready else "/health"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + path, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"server not {path} after {timeout}s:\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def rss_mb(self) -> float:
        import psutil

        return psutil.Process(self.pid).memory_info().rss / 2**20

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Api:
    """Just enough of the HTTP API (issue 5/6 contract) to set up people, devices and punches."""

    def __init__(self, base_url: str, timeout: float = 60.0):
        self.http = httpx.Client(base_url=base_url, timeout=timeout)
        self.token: str | None = None

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    @staticmethod
    def _ok(r: httpx.Response, *codes: int) -> dict:
        if r.status_code not in (codes or (200,)):
            raise AssertionError(f"{r.request.method} {r.request.url.path} → {r.status_code}: {r.text[:500]}")
        return r.json() if r.content else {}

    def login_admin(self, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> str:
        r = self.http.post("/api/v1/auth/login", data={"username": email, "password": password})
        self.token = self._ok(r)["access_token"]
        return self.token

    def create_user(self, employee_code: str, full_name: str, role: str = "employee", **extra) -> dict:
        body = {"employee_code": employee_code, "full_name": full_name, "role": role, **extra}
        return self._ok(self.http.post("/api/v1/users", json=body, headers=self._auth()), 201)

    def enroll(self, user_id: int, photos: list[bytes], **form) -> dict:
        files = [("images", (f"p{i}.jpg", b, "image/jpeg")) for i, b in enumerate(photos)]
        data = {"consent": "true", **form}
        return self._ok(self.http.post(f"/api/v1/users/{user_id}/faces", files=files, data=data,
                                       headers=self._auth()), 201)

    def create_device(self, name: str, site: str | None = None) -> dict:
        return self._ok(self.http.post("/api/v1/devices", json={"name": name, "site": site}, headers=self._auth()),
                        201)

    def revoke_device(self, device_id: int) -> None:
        self._ok(self.http.delete(f"/api/v1/devices/{device_id}", headers=self._auth()), 204)

    def kiosk_check(self, device_key: str, image: bytes, request_id: str | None = None,
                    captured_at: str | None = None) -> httpx.Response:
        data = {"request_id": request_id or str(uuid.uuid4())}
        if captured_at:
            data["captured_at"] = captured_at
        return self.http.post("/api/v1/kiosk/check", headers={"X-Device-Key": device_key},
                              files=[("image", ("frame.jpg", image, "image/jpeg"))], data=data)

    def status(self) -> dict:
        return self._ok(self.http.get("/status"))

    def close(self) -> None:
        self.http.close()
