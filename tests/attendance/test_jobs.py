"""Scheduler jobs called directly with an injected clock: close the day, retention, biometric erasure."""
from __future__ import annotations

import os
from datetime import datetime, timedelta

from sqlalchemy import func, select

from server.attendance import jobs
from server.attendance.models import KioskRequest, WorkDay
from server.faces.models import FaceAttempt, FaceTemplate
from server.scheduler import registered_jobs
from server.users.models import User
from tests.fixtures.world import UTC, madrid_shift


def _days(world, user):
    r = world.client.get(f"/api/v1/attendance/days?user_id={user['id']}&from=2026-11-20&to=2026-11-30",
                         headers=world.admin)
    return {d["work_date"]: d for d in r.json()["items"]}


def _close(world, clock):
    st = world.client.app.state
    return jobs.close_days(st.db, st.settings, now=clock.t)


def test_jobs_are_registered():
    ids = {j.id for j in registered_jobs()}
    assert {"attendance.close_days", "attendance.retention", "attendance.erase_biometrics"} <= ids


def test_close_day_marks_absent_and_incomplete_idempotently(world, clock):
    world.new_shift(**madrid_shift())  # 09:00-17:00 Madrid, every day, grace 5
    absent = world.employee("ABS", "Madrid day", valid_from="2026-11-25")
    half = world.employee("HALF", "Madrid day", valid_from="2026-11-25")
    full = world.employee("FULL", "Madrid day", valid_from="2026-11-25")
    unassigned = world.employee("FREE")
    clock.set(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))  # 09:00 Madrid
    world.check(half)
    world.check(full)
    world.check(unassigned)
    clock.set(datetime(2026, 11, 25, 16, 0, tzinfo=UTC))  # 17:00 Madrid
    world.check(full)

    clock.set(datetime(2026, 11, 25, 16, 4, tzinfo=UTC))  # 17:04: still within grace_out → nothing closes
    assert _close(world, clock)["closed"] == 0
    clock.set(datetime(2026, 11, 25, 16, 6, tzinfo=UTC))
    result = _close(world, clock)
    assert result["by_status"] == {"absent": 1, "incomplete": 1, "present": 1}
    assert _days(world, absent)["2026-11-25"]["status"] == "absent"
    assert _days(world, half)["2026-11-25"]["status"] == "incomplete"
    assert _days(world, full)["2026-11-25"]["closed"] is True
    assert _days(world, unassigned)["2026-11-25"]["closed"] is False  # its day ends at midnight

    assert _close(world, clock)["closed"] == 0  # idempotent
    clock.set(datetime(2026, 11, 26, 0, 1, tzinfo=UTC))  # past midnight in DEFAULT_TIMEZONE (UTC here)
    # no shift: an off day, but a check-in never followed by a check-out is still reported
    assert _close(world, clock)["by_status"] == {"incomplete": 1}
    with world.client.app.state.db.session() as s:
        day = datetime(2026, 11, 25).date()
        assert s.scalar(select(func.count()).select_from(WorkDay).where(WorkDay.work_date == day)) == 4


def test_late_offline_upload_reopens_a_closed_day(world, clock):
    world.new_shift(**madrid_shift())
    eve = world.employee("EVE", "Madrid day", valid_from="2026-11-25")
    clock.set(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))  # next morning
    _close(world, clock)
    assert _days(world, eve)["2026-11-25"]["status"] == "absent"
    # the kiosk was offline all Wednesday: its queued attempts arrive now with their capture times
    world.check(eve, captured_at="2026-11-25T09:01:00+01:00")
    r = world.check(eve, captured_at="2026-11-25T17:02:00+01:00")
    assert r.json()["punch"]["work_date"] == "2026-11-25" and r.json()["punch"]["kind"] == "out"
    day = _days(world, eve)["2026-11-25"]
    assert day["status"] == "present" and day["closed"] is True and day["worked_minutes"] == 8 * 60 + 1 - 60
    assert day["details"]["closed_as"] == "absent" and day["details"]["reopened"] == 2
    assert day["details"]["reopened_at"] == clock.t.isoformat()
    assert _close(world, clock)["closed"] == 0
    assert _days(world, eve)["2026-11-25"]["status"] == "present"


def test_close_day_lookback_covers_the_offline_window(world, clock):
    """The job looks back max(7 days, MAX_OFFLINE_HOURS / 24 + 2): with a 10-day offline window, a day 11 days ago
    that nobody closed (the scheduler was stopped) is still closed; with the default 72 h, only the last week."""
    clock.set(datetime(2026, 11, 10, 7, 0, tzinfo=UTC))
    world.new_shift(**madrid_shift())
    gus = world.employee("GUS", "Madrid day", valid_from="2026-11-10")
    clock.set(datetime(2026, 11, 21, 12, 0, tzinfo=UTC))
    st = world.client.app.state
    jobs.close_days(st.db, st.settings, now=clock.t)  # 72 h: looks back 7 days, to the 14th
    r = world.client.get(f"/api/v1/attendance/days?user_id={gus['id']}&from=2026-11-10&to=2026-11-21",
                         headers=world.admin)
    dates = {d["work_date"] for d in r.json()["items"]}
    assert "2026-11-14" in dates and "2026-11-10" not in dates
    wide = st.settings.model_copy(update={"max_offline_hours": 240})
    jobs.close_days(st.db, wide, now=clock.t)
    r = world.client.get(f"/api/v1/attendance/days?user_id={gus['id']}&from=2026-11-10&to=2026-11-21",
                         headers=world.admin)
    days = {d["work_date"]: d["status"] for d in r.json()["items"]}
    assert days["2026-11-10"] == "absent" and len(days) == 11  # the 10th .. the 20th; the 21st is under way


def test_overnight_day_closes_after_the_morning(world, clock):
    world.new_shift(**madrid_shift("Madrid night", "22:00", "06:00", break_minutes=30))
    owl = world.employee("OWL", "Madrid night", valid_from="2026-11-25")
    clock.set(datetime(2026, 11, 25, 21, 0, tzinfo=UTC))  # 22:00 Madrid
    world.check(owl)
    clock.set(datetime(2026, 11, 26, 4, 0, tzinfo=UTC))  # 05:00 Madrid: the night is not over
    assert _close(world, clock)["closed"] == 0
    clock.set(datetime(2026, 11, 26, 5, 6, tzinfo=UTC))  # 06:06 Madrid
    assert _close(world, clock)["by_status"] == {"incomplete": 1}
    assert _days(world, owl)["2026-11-25"]["status"] == "incomplete"


def test_retention_deletes_old_decision_records_answers_and_images(world, clock, settings):
    st = world.client.app.state
    ana = world.employee("ANA")
    world.check(ana)
    images = settings.images_dir
    old_file = images / "enrollment" / str(ana["id"]) / "old.img"
    new_file = images / "enrollment" / str(ana["id"]) / "new.img"
    old_file.parent.mkdir(parents=True, exist_ok=True)
    old_file.write_bytes(b"x")
    new_file.write_bytes(b"y")
    with st.db.session() as s:
        s.add(FaceAttempt(purpose="kiosk", model_id="m", decision="unknown", at=clock.t))
        s.add(FaceTemplate(user_id=ana["id"], model_id="m", dim=2, embedding=b"\0" * 8, quality={},
                           image_path=str(old_file), created_at=clock.t))
    later = clock.t + timedelta(days=settings.retention_days, hours=1)
    os.utime(old_file, (clock.t.timestamp(), clock.t.timestamp()))
    os.utime(new_file, (later.timestamp(), later.timestamp()))

    result = jobs.retention(st.db, st.settings, now=later)
    assert result["face_attempts"] == 1 and result["kiosk_requests"] == 1 and result["template_images"] == 1
    assert not old_file.exists() and new_file.exists()
    with st.db.session() as s:
        assert s.scalar(select(func.count()).select_from(FaceAttempt)) == 0
        assert s.scalar(select(func.count()).select_from(KioskRequest)) == 0
        assert s.scalar(select(FaceTemplate.image_path)) is None
    assert jobs.retention(st.db, st.settings, now=later)["face_attempts"] == 0


def test_erase_biometrics_of_long_deactivated_users(world, clock, settings):
    st = world.client.app.state
    gone = world.employee("GONE")
    recent = world.employee("RECENT")
    active = world.employee("ACTIVE")
    with st.db.session() as s:
        for uid in (gone["id"], recent["id"], active["id"]):
            s.add(FaceTemplate(user_id=uid, model_id="m", dim=2, embedding=b"\0" * 8, quality={}))
        s.get(User, gone["id"]).is_active = False
        s.get(User, gone["id"]).deactivated_at = clock.t - timedelta(days=settings.biometric_retention_days + 1)
        s.get(User, recent["id"]).is_active = False
        s.get(User, recent["id"]).deactivated_at = clock.t - timedelta(days=1)
    result = jobs.erase_biometrics(st.db, st.settings, now=clock.t)
    assert result == {"users": 1, "templates": 1}
    with st.db.session() as s:
        left = set(s.scalars(select(FaceTemplate.user_id)))
        assert left == {recent["id"], active["id"]}
        assert s.get(User, gone["id"]).biometrics_erased_at is not None
    assert jobs.erase_biometrics(st.db, st.settings, now=clock.t) == {"users": 0, "templates": 0}
