"""The scenarios of frappe/hrms's own tests (hrms/hr/doctype/{shift_type,attendance,leave_application,
attendance_request}/test_*.py, read at 80f17c9), replayed against our API, and what we answer. Where we answer
otherwise, the test says so and docs/attendance.md ("Where we differ from frappe/hrms") says why.

Their shift of reference (`setup_shift_type`): 08:00–12:00; `working_hours_threshold_for_*` in hours, compared with
`<`; our thresholds are minutes, compared the same way."""
from __future__ import annotations

from datetime import datetime

import pytest

from tests.fixtures.world import UTC, error_code

DAY = "2026-11-30"  # a Monday


def _shift(world, **kw):
    spec = {"name": kw.pop("name", "HRMS 08-12"), "timezone": "UTC", "start_time": "08:00", "end_time": "12:00",
            "weekdays": [0, 1, 2, 3, 4, 5, 6], "grace_in_minutes": 0, "grace_out_minutes": 0, **kw}
    return world.new_shift(**spec)


def _person(world, code="EMP", shift="HRMS 08-12", **kw):
    return world.employee(code, shift, valid_from="2026-11-01", employed_from=kw.pop("employed_from", "2026-11-01"),
                          **kw)


def _worked(world, user, first, last, day=DAY):
    world.punch(user, f"{day}T{first}:00Z")
    world.punch(user, f"{day}T{last}:00Z")


def _closed_day(world, clock, user, day=DAY):
    clock.set(datetime(2026, 12, 1, 20, tzinfo=UTC))
    world.close()
    return world.day(user, day)


@pytest.mark.parametrize("thresholds, out, status", [
    ({"half_day_below_minutes": 120}, "09:30", "half_day"),  # test_working_hours_threshold_for_half_day
    ({"absent_below_minutes": 120}, "09:30", "absent"),  # test_working_hours_threshold_for_absent
    ({"half_day_below_minutes": 120, "absent_below_minutes": 60}, "09:30", "half_day"),  # ..._and_half_day_1
    ({"half_day_below_minutes": 120, "absent_below_minutes": 60}, "08:45", "absent"),  # ..._and_half_day_2
])
def test_working_hours_thresholds(world, clock, thresholds, out, status):
    clock.set(datetime(2026, 11, 30, 13, tzinfo=UTC))
    _shift(world, **thresholds)
    emp = _person(world)
    _worked(world, emp, "08:00", out)
    day = _closed_day(world, clock, emp)
    assert day["status"] == status  # HRMS agrees
    assert day["worked_minutes"] == (90 if out == "09:30" else 45)  # their working_hours 1.5 / 0.75


def test_entry_and_exit_grace(world, clock):
    """test_entry_and_exit_grace: 60-minute graces, in 09:30, out 10:30 → HRMS: Present with late_entry and
    early_exit. We: status `late` (our word for "present, late entry"), 90 late and 90 early-leave minutes."""
    clock.set(datetime(2026, 11, 30, 13, tzinfo=UTC))
    _shift(world, grace_in_minutes=60, grace_out_minutes=60)
    emp = _person(world)
    _worked(world, emp, "09:30", "10:30")
    day = _closed_day(world, clock, emp)
    assert day["status"] == "late" and day["late_minutes"] == 90 and day["early_leave_minutes"] == 90


def test_check_ins_on_a_holiday(world, clock):
    """test_mark_auto_attendance_on_holiday_{enabled,disabled}: logs 08:00 and 12:00 on a holiday → HRMS: Present when
    the shift marks attendance on holidays, no attendance otherwise. We: `holiday`, the 240 minutes reported and
    counted as overtime (issue 13's rule) — neither of theirs."""
    clock.set(datetime(2026, 11, 30, 13, tzinfo=UTC))
    _shift(world)
    emp = _person(world)
    world.client.post("/api/v1/holidays", json={"date": DAY, "name": "Holiday"}, headers=world.admin)
    _worked(world, emp, "08:00", "12:00")
    day = _closed_day(world, clock, emp)
    assert (day["status"], day["worked_minutes"], day["overtime_minutes"]) == ("holiday", 240, 240)


def test_no_absence_on_a_holiday_nor_outside_employment_nor_for_the_inactive(world, clock):
    """test_skip_marking_absent_on_a_holiday, test_unmarked_days_as_per_joining_and_relieving_dates,
    test_skip_absent_marking_for_inactive_employee, test_mark_absent_for_dates_with_no_attendance: HRMS agrees."""
    clock.set(datetime(2026, 11, 24, 13, tzinfo=UTC))
    _shift(world)
    emp = _person(world, employed_from="2026-11-24")
    gone = _person(world, "GONE")
    world.client.patch(f"/api/v1/users/{emp['id']}", json={"employed_to": "2026-11-28"}, headers=world.admin)
    world.client.post("/api/v1/holidays", json={"date": "2026-11-26", "name": "Holiday"}, headers=world.admin)
    world.client.delete(f"/api/v1/users/{gone['id']}", headers=world.admin)
    clock.set(datetime(2026, 11, 30, 13, tzinfo=UTC))
    world.close()
    got = {d: (world.day(emp, d) or {}).get("status") for d in
           ("2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-28", "2026-11-29")}
    assert got == {"2026-11-23": None, "2026-11-24": "absent", "2026-11-25": "absent", "2026-11-26": "holiday",
                   "2026-11-28": "absent", "2026-11-29": None}
    assert world.day(gone, "2026-11-27") is None


def test_no_absence_before_the_shift_has_ended(world, clock):
    """test_do_not_mark_absent_before_shift_actual_end_time(_for_midnight_shift): a 15:00–23:30 shift worked 15:00 →
    23:30 is not absent before it ends, and present once it has (HRMS waits for the check-out window; we close at
    end + grace_out)."""
    clock.set(datetime(2026, 11, 30, 12, tzinfo=UTC))
    _shift(world, name="Evening", start_time="15:00", end_time="23:30", grace_out_minutes=60)
    emp = _person(world, shift="Evening")
    clock.set(datetime(2026, 11, 30, 23, 0, tzinfo=UTC))
    world.close()
    assert world.day(emp, DAY) is None  # not closed: no absence
    world.punch(emp, f"{DAY}T15:00:00Z")
    clock.set(datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    world.punch(emp, f"{DAY}T23:30:00Z")
    clock.set(datetime(2026, 12, 1, 0, 31, tzinfo=UTC))
    world.close()
    assert world.day(emp, DAY)["status"] == "present"


def _leave(world, user, first, last, half=None, expect=201):
    r = world.client.post("/api/v1/leaves", json={"user_id": user["id"], "from": first, "to": last,
                                                  "kind": "vacation", "half": half, "reason": "HRMS replay"},
                          headers=world.admin)
    assert r.status_code == expect, r.text
    return r


def test_leave_overwrites_absences_and_skips_holidays(world, clock):
    """test_overwrite_attendance, test_attendance_update_for_exclude_holidays: approved leave turns absent days into
    On Leave and leaves holidays out of it (a leave type without include_holiday). HRMS agrees; we have no
    include_holiday switch: a holiday inside a leave is always a holiday (their default)."""
    clock.set(datetime(2026, 11, 26, 13, tzinfo=UTC))
    _shift(world)
    emp = _person(world)
    world.close()
    assert world.day(emp, "2026-11-24")["status"] == "absent"
    world.client.post("/api/v1/holidays", json={"date": "2026-11-25", "name": "Holiday"}, headers=world.admin)
    _leave(world, emp, "2026-11-23", "2026-11-25")
    got = [world.day(emp, d)["status"] for d in ("2026-11-23", "2026-11-24", "2026-11-25")]
    assert got == ["on_leave", "on_leave", "holiday"]
    r = world.client.get(f"/api/v1/attendance/summary?from=2026-11-23&to=2026-11-25&user_id={emp['id']}",
                         headers=world.admin)
    assert r.json()["users"][0]["leave_days"] == 2.0  # their total_leave_days without the holiday


def test_half_day_leave_over_an_absence(world, clock):
    """test_overwrite_half_day_attendance: an Absent day gets a half-day leave → HRMS: status "Half Day" with the
    leave type. We: the day keeps the status of its working half — `absent`, not worked — with leave_kind and
    leave_half; the summary counts ½ day of leave."""
    clock.set(datetime(2026, 11, 26, 13, tzinfo=UTC))
    _shift(world)
    emp = _person(world)
    world.close()
    _leave(world, emp, "2026-11-24", "2026-11-24", half="am")
    day = world.day(emp, "2026-11-24")
    assert (day["status"], day["leave_kind"], day["leave_half"]) == ("absent", "vacation", "am")


def test_leave_overlaps(world, clock):
    """test_overlap, test_overlap_with_half_day_{1,2,3}: a second leave over the same days is refused; two half days
    on one date are allowed, a third is refused; a half day inside a whole-day leave is refused. HRMS agrees (they
    count halves, we name them am / pm)."""
    clock.set(datetime(2026, 11, 26, 13, tzinfo=UTC))
    _shift(world)
    emp = _person(world)
    _leave(world, emp, "2026-12-01", "2026-12-05")
    assert error_code(_leave(world, emp, "2026-12-01", "2026-12-05", expect=409)) == "leave_overlap"
    assert error_code(_leave(world, emp, "2026-12-03", "2026-12-03", half="am", expect=409)) == "leave_overlap"
    _leave(world, emp, "2026-12-08", "2026-12-08", half="am")
    _leave(world, emp, "2026-12-08", "2026-12-08", half="pm")
    assert error_code(_leave(world, emp, "2026-12-08", "2026-12-08", half="am", expect=409)) == "leave_overlap"


def test_leave_over_a_present_day_is_refused(world, clock):
    """validate_attendance of their leave application: "Attendance for employee … is already marked for this day"
    when a Present attendance exists. We agree for punches and present / remote marks (409 attendance_recorded)."""
    clock.set(datetime(2026, 11, 30, 13, tzinfo=UTC))
    _shift(world)
    emp = _person(world)
    _worked(world, emp, "08:00", "12:00")
    assert error_code(_leave(world, emp, DAY, DAY, expect=409)) == "attendance_recorded"


def _mark(world, user, day, status):
    return world.client.put(f"/api/v1/attendance/days/{user['id']}/{day}",
                            json={"status": status, "reason": "attendance request"}, headers=world.admin)


def test_attendance_requests_work_from_home_on_duty_holiday_and_leave(world, clock):
    """test_work_from_home_attendance_request / test_on_duty_attendance_request → "Work From Home" / "Present": our
    remote / present marks (approved requests call the same code). test_overwrite_attendance: an existing Absent is
    overwritten — so is ours. test_skip_attendance_on_leave: HRMS skips days on leave — we refuse the mark (409
    leave_recorded). test_skip_attendance_on_holiday: HRMS skips holidays unless include_holidays — we apply a
    manager's mark on a holiday (an explicit decision for that one day)."""
    clock.set(datetime(2026, 11, 27, 13, tzinfo=UTC))
    _shift(world)
    emp = _person(world)
    world.close()
    assert _mark(world, emp, "2026-11-23", "remote").json()["work_day"]["status"] == "remote"
    assert world.day(emp, "2026-11-24")["status"] == "absent"
    assert _mark(world, emp, "2026-11-24", "present").json()["work_day"]["status"] == "present"
    _leave(world, emp, "2026-11-25", "2026-11-25")
    r = _mark(world, emp, "2026-11-25", "present")
    assert r.status_code == 409 and error_code(r) == "leave_recorded"
    world.client.post("/api/v1/holidays", json={"date": "2026-11-26", "name": "Holiday"}, headers=world.admin)
    assert _mark(world, emp, "2026-11-26", "present").json()["work_day"]["status"] == "present"
