"""A Python client generated from the live server's /openapi.json with openapi-python-client (a test dependency; it
generates offline) runs a day through the API (issue 16, item 6): login → create user → enroll → device → kiosk
check → report. Real server (uvicorn), real HTTP, real photos, the generated code unchanged."""
from __future__ import annotations

import datetime as dt
import importlib
import io
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from tests.fixtures.people import ANN, photos

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
GENERATOR = Path(sys.executable).parent / "openapi-python-client"


def _generate(live, out: Path):
    """Generates the client package from the running server's document and imports it (a fresh module name per
    test, so two generated clients never mix in sys.modules)."""
    if not GENERATOR.exists():
        pytest.fail(f"{GENERATOR} is missing: openapi-python-client is in the test extra (./run.sh test installs it)")
    spec = out / "openapi.json"
    spec.write_bytes(httpx.get(f"{live.url}/openapi.json", timeout=30).content)
    config = out / "generator.yaml"
    name = f"faceclock_client_{uuid.uuid4().hex[:8]}"
    config.write_text(f"project_name_override: {name}\npackage_name_override: {name}\npost_hooks: []\n")
    p = subprocess.run([str(GENERATOR), "generate", "--path", str(spec), "--meta", "none", "--config", str(config),
                        "--output-path", str(out / name)], capture_output=True, text=True, timeout=300, cwd=out)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Warning" not in p.stdout + p.stderr, p.stdout + p.stderr  # every operation and schema understood
    sys.path.insert(0, str(out))
    try:
        yield lambda module: importlib.import_module(f"{name}.{module}")
    finally:
        sys.path.remove(str(out))
        for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[mod]


@pytest.fixture
def generated(live, tmp_path):
    yield from _generate(live, tmp_path)


def test_a_day_through_the_generated_client(live, generated):
    from live_server import ADMIN_EMAIL, ADMIN_PASSWORD

    client_mod, types, models = generated("client"), generated("types"), generated("models")
    auth_login = generated("api.auth.auth_login")
    create_user = generated("api.users.users_create_user")
    enroll = generated("api.users.users_enroll_faces")
    create_device = generated("api.devices.devices_create_device")
    kiosk_check = generated("api.attendance.attendance_kiosk_check")
    summary = generated("api.reports.reports_summary")
    my_days = generated("api.attendance.attendance_work_days")

    anonymous = client_mod.Client(base_url=live.url, raise_on_unexpected_status=True)
    tokens = auth_login.sync(client=anonymous, body=models.BodyAuthLogin(username=ADMIN_EMAIL, password=ADMIN_PASSWORD))
    assert isinstance(tokens, models.TokenResponse), tokens
    admin = client_mod.AuthenticatedClient(base_url=live.url, token=tokens.access_token,
                                           raise_on_unexpected_status=True)

    ann = create_user.sync(client=admin, body=models.UserCreate(employee_code="ANN", full_name="Ann Example",
                                                                role=models.Role.EMPLOYEE, timezone="Europe/Madrid"))
    assert isinstance(ann, models.UserOut) and ann.role is models.Role.EMPLOYEE

    files = [types.File(payload=io.BytesIO(data), file_name=f"ann{i}.jpg", mime_type="image/jpeg")
             for i, data in enumerate(photos(ANN, 0, 1))]
    enrolled = enroll.sync_detailed(user_id=ann.id, client=admin,
                                    body=models.BodyUsersEnrollFaces(images=files, consent=True))
    assert enrolled.status_code == 201, enrolled.content  # the photos arrived as files, not as text

    device = create_device.sync(client=admin, body=models.DeviceCreate(name="Front door"))
    assert device.api_key
    kiosk = client_mod.AuthenticatedClient(base_url=live.url, token=device.api_key, prefix="",
                                           auth_header_name="X-Device-Key", raise_on_unexpected_status=True)
    probe = types.File(payload=io.BytesIO(photos(ANN, 2)[0]), file_name="probe.jpg", mime_type="image/jpeg")
    request_id = str(uuid.uuid4())
    answer = kiosk_check.sync(client=kiosk, body=models.BodyAttendanceKioskCheck(request_id=request_id, image=probe))
    assert isinstance(answer, models.KioskRecognized), answer
    assert answer.user.id == ann.id and answer.request_id == request_id
    assert answer.punch.kind is models.PunchKind.IN  # the shared enum, as a Python enum

    today = answer.punch.work_date
    report = summary.sync(client=admin, from_=today, to=today, user_id=ann.id)
    assert isinstance(report, models.SummaryOut)
    (totals,) = report.users
    assert totals.user_id == ann.id and totals.days == 1
    days = my_days.sync(client=admin, user_id=ann.id, from_=today, to=today, include_punches=True)
    assert [p.id for d in days.items for p in d.punches] == [answer.punch.id]
    assert isinstance(today, dt.date)


def test_the_generated_client_sees_errors_as_the_api_sends_them(live, generated):
    client_mod, models = generated("client"), generated("models")
    auth_login = generated("api.auth.auth_login")
    r = auth_login.sync_detailed(client=client_mod.Client(base_url=live.url),
                                 body=models.BodyAuthLogin(username="nobody@example.com", password="wrong-password"))
    assert r.status_code == 401
    assert b'"invalid_credentials"' in r.content
