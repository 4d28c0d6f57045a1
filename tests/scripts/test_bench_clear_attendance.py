"""scripts/bench_kiosk.py clear_attendance (used by bench_kiosk and bench_scale before they measure): the punches and
work days of the bench's real people (BENCH-R-*) go, nobody else's. Without it, every run of the same day left ~200
more punches on the probe's person, and each kiosk check reads and recomputes that person's whole day: the kiosk
figures at 100,000 people grew with the bench's own history (+50 ms median at ~1,000 punches), not with the gallery."""
from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from seeds import roles

from server.attendance.models import KioskRequest, Punch, WorkDay
from server.attendance.service import add_punch
from server.clock import now
from server.devices.service import create_device
from server.users.models import User

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import bench_kiosk  # noqa: E402


def _punches(s, user_id: int) -> int:
    return s.scalar(select(func.count()).select_from(Punch).where(Punch.user_id == user_id))


def test_clear_attendance_deletes_the_bench_people_punches_only(db, settings):
    t = now() - timedelta(hours=2)
    with db.session() as s:
        roles.seed(s)
        device, _ = create_device(s, name="bench-kiosk-0", site=None, actor_user_id=None)
        probe = User(employee_code=f"{bench_kiosk.REAL_PREFIX}0000", full_name="Bench probe", role="employee")
        stream = User(employee_code="BENCH-R-STREAM-abc", full_name="Stream", role="employee")
        other = User(employee_code="E-1", full_name="Real employee", role="employee")
        s.add_all([probe, stream, other])
        s.flush()
        for i in range(3):
            for u in (probe, stream, other):
                add_punch(s, settings, user=u, at=t + timedelta(minutes=i), source="kiosk", device_id=device.id,
                          request_id=f"{u.id}-{i}")
        first = s.scalar(select(Punch).where(Punch.user_id == probe.id).limit(1))
        s.add(KioskRequest(device_id=device.id, request_id="r-1", status_code=200, response={}, punch_id=first.id,
                           created_at=t))
        ids = probe.id, stream.id, other.id
    cleared = bench_kiosk.clear_attendance(db)
    assert cleared["punches"] == 6 and cleared["work_days"] >= 2
    with db.session() as s:
        assert [_punches(s, u) for u in ids] == [0, 0, 3]
        assert s.scalar(select(func.count()).select_from(WorkDay).where(WorkDay.user_id.in_(ids[:2]))) == 0
        assert s.scalar(select(func.count()).select_from(WorkDay).where(WorkDay.user_id == ids[2])) == 1
        assert s.scalar(select(KioskRequest.punch_id).where(KioskRequest.request_id == "r-1")) is None
    assert bench_kiosk.clear_attendance(db) == {"punches": 0, "work_days": 0}
