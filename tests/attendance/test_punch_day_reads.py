"""A punch reads its day's punches once (attendance.service.add_punch): the kind of the new punch and the day's
recomputation use the same rows. Each read is as many ORM rows as the day holds, so reading it twice made every kiosk
check of a busy day twice as slow as it needs to be (issue #14: the bench's probe person, ~1,000 punches a day, spent
~60 ms of CPU a check there). The answer is the one of a fresh read: kinds alternate, statuses as before."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, select

from seeds import roles
from server.attendance.models import Punch, WorkDay
from server.attendance.service import add_punch, day_punches
from server.clock import as_utc, now
from server.users.models import User


@contextmanager
def punch_reads(db):
    """The SELECTs of the punches table run inside the block."""
    seen: list[str] = []

    def spy(conn, cursor, statement, parameters, context, executemany):
        s = " ".join(statement.split()).lower()
        if s.startswith("select") and "from punches" in s:
            seen.append(s)

    event.listen(db.engine, "before_cursor_execute", spy)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", spy)


def test_a_punch_reads_its_day_once_whatever_the_day_holds(db, settings):
    start = now().replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=1)
    with db.session() as s:
        roles.seed(s)
        user = User(employee_code="E-1", full_name="Busy day", role="employee")
        s.add(user)
        s.flush()
        uid = user.id
    reads = []
    for i in range(40):
        with db.session() as s:
            u = s.get(User, uid)
            with punch_reads(db) as seen:
                add_punch(s, settings, user=u, at=start + timedelta(minutes=i), source="kiosk")
            reads.append(len(seen))
    assert reads == [1] * 40
    with db.session() as s:
        punches = day_punches(s, uid, s.scalar(select(Punch.work_date).where(Punch.user_id == uid).limit(1)))
        assert [p.kind for p in punches] == ["in", "out"] * 20
        wd = s.scalar(select(WorkDay).where(WorkDay.user_id == uid))
        assert wd is not None and wd.status


def test_a_late_punch_in_the_middle_of_the_day_flips_the_later_kinds(db, settings):
    """The rows read before the insert and the new punch, put in time order (at, then id), are what the
    recomputation sees: an earlier instant goes in its place and the later kinds follow."""
    start = now().replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=1)
    with db.session() as s:
        roles.seed(s)
        user = User(employee_code="E-2", full_name="Late upload", role="employee")
        s.add(user)
        s.flush()
        for m in (0, 60, 120):
            add_punch(s, settings, user=user, at=start + timedelta(minutes=m), source="kiosk")
        new = add_punch(s, settings, user=user, at=start + timedelta(minutes=30), source="kiosk")
        assert new.punch.kind == "out"
        got = [(int((as_utc(p.at) - start).total_seconds() // 60), p.kind)
               for p in day_punches(s, user.id, new.punch.work_date)]
    assert got == [(0, "in"), (30, "out"), (60, "in"), (120, "out")]
