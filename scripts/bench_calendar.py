#!/usr/bin/env python3
"""Cost of a calendar change that reworks many users' days (issue 13): a company-wide holiday on a past date
recomputes that work day of every user it applies to, in the request, under each user's row lock
(`server.attendance.flows.add_holiday`); a leave over N days recomputes N days of one user
(`attendance.flows.create_leave`).

    .venv/bin/python scripts/bench_calendar.py                          # fresh SQLite in a temp dir, 500 users
    .venv/bin/python scripts/bench_calendar.py --users 1000 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/db_x
      (an EMPTY database: the script migrates it and fills it)

Each user is on a Mon–Fri 09:00–17:00 Europe/Madrid shift with that date closed as `absent`; the holiday turns every
one into `holiday` (checked). Then a 30-day leave of one user. Times on a busy machine are noisy: compare per-user
figures of one run. Prints one JSON document.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from datetime import date, datetime, time as dtime, UTC
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _fill(db, users: int, now: datetime) -> int:
    from server.attendance.models import WorkDay
    from server.shifts.models import Shift, ShiftAssignment
    from server.users.models import Role, User

    with db.session() as s:
        for name in ("admin", "manager", "employee"):
            if s.get(Role, name) is None:
                s.add(Role(name=name))
        s.flush()
        shift = Shift(name="Bench", timezone="Europe/Madrid", start_time=dtime(9), end_time=dtime(17),
                      weekdays=[0, 1, 2, 3, 4], grace_in_minutes=5, grace_out_minutes=5, break_minutes=0,
                      is_active=True)
        admin = User(employee_code="BENCH-ADMIN", full_name="Bench admin", role="admin", is_active=True,
                     created_at=now, updated_at=now)
        s.add_all([shift, admin])
        s.flush()
        for i in range(users):
            u = User(employee_code=f"B{i:05d}", full_name=f"Bench {i}", role="employee", is_active=True,
                     created_at=now, updated_at=now, employed_from=date(2026, 11, 1))
            s.add(u)
            s.flush()
            s.add(ShiftAssignment(user_id=u.id, shift_id=shift.id, valid_from=date(2026, 11, 1)))
            s.add(WorkDay(user_id=u.id, work_date=date(2026, 12, 8), status="absent", closed_at=now, updated_at=now))
        return admin.id


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=500)
    ap.add_argument("--database-url", default=None, help="an EMPTY database (default: SQLite in a temp dir)")
    args = ap.parse_args()

    from sqlalchemy import func, select

    from server import clock
    from server.attendance.models import WorkDay
    from server.config import Settings
    from server.database import Database
    from server.attendance import flows
    from server.migrate import upgrade
    from server.users.models import User

    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    now = datetime(2026, 12, 10, 12, tzinfo=UTC)
    clock.set_clock(lambda: now)
    db = Database(url)
    upgrade(db)
    settings = Settings(database_url=url, jwt_secret="bench-secret-long-enough-for-hs256-0123456789")
    admin_id = _fill(db, args.users, now)

    t0 = time.perf_counter()
    with db.session() as s:
        flows.add_holiday(s, settings, actor=s.get(User, admin_id), day=date(2026, 12, 8), name="Bench", site=None)
    holiday_s = time.perf_counter() - t0
    with db.session() as s:
        turned = s.scalar(select(func.count()).select_from(WorkDay).where(WorkDay.status == "holiday"))
        first = s.scalar(select(User.id).where(User.employee_code == "B00000"))
    t0 = time.perf_counter()
    with db.session() as s:
        flows.create_leave(s, settings, actor=s.get(User, admin_id), user_id=first, first=date(2026, 11, 10),
                            last=date(2026, 12, 9), kind="vacation", half=None, reason="bench")
    leave_s = time.perf_counter() - t0
    db.dispose()
    print(json.dumps({
        "database": db.dialect, "users": args.users, "python": platform.python_version(),
        "holiday": {"seconds": round(holiday_s, 3), "ms_per_user": round(holiday_s * 1000 / args.users, 2),
                    "days_turned_holiday": turned},
        "leave_30_days": {"seconds": round(leave_s, 3), "ms_per_day": round(leave_s * 1000 / 30, 2)},
    }, indent=2))
    assert turned == args.users, "the holiday did not reach every user"


if __name__ == "__main__":
    main()
