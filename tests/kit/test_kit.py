"""server/kit on a real database (SQLite and PostgreSQL): the lock, pagination, get-or-404, flush-or-conflict."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from server.errors import Conflict, NotFound
from server.kit.locks import advisory_lock, lock_key
from server.kit.pages import paginate
from server.kit.rows import flush_or_conflict, get_or_404
from server.shifts.models import Shift
from server.users.models import Role, User


def _users(db, n: int) -> list[int]:
    with db.session() as s:
        if s.get(Role, "employee") is None:
            s.add(Role(name="employee", description=""))
        rows = [User(employee_code=f"K{i:03d}", full_name=f"Kit {i}") for i in range(n)]
        s.add_all(rows)
        s.flush()
        return [u.id for u in rows]


def test_the_lock_is_held_by_one_holder_at_a_time(db, tmp_path):
    key = lock_key(7_420_001, "tests.kit")
    with advisory_lock(db.engine, key, tmp_path) as first:
        with advisory_lock(db.engine, key, tmp_path) as second:  # another connection / open file: another holder
            assert first is True and second is False
        with advisory_lock(db.engine, key + 1, tmp_path) as other:
            assert other is True  # another lock is free
    with advisory_lock(db.engine, key, tmp_path) as again:
        assert again is True  # released at the end of the block


def test_a_waiting_holder_gets_the_lock_when_it_is_released(db, tmp_path):
    key = lock_key(7_420_001, "tests.kit.wait")
    taken, release = threading.Event(), threading.Event()

    def holder():
        with advisory_lock(db.engine, key, tmp_path) as held:
            assert held
            taken.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    taken.wait(10)
    with advisory_lock(db.engine, key, tmp_path, wait_seconds=0.2) as impatient:
        assert impatient is False
    threading.Timer(0.3, release.set).start()
    t0 = time.monotonic()
    with advisory_lock(db.engine, key, tmp_path, wait_seconds=10) as patient:
        assert patient is True and 0.2 < time.monotonic() - t0 < 10
    t.join()


def test_paginate_counts_the_whole_set_and_slices_it(db):
    ids = _users(db, 7)
    with db.session() as s:
        q = select(User).where(User.employee_code.like("K%"))
        page, total = paginate(s, q, (User.id.desc(),), limit=3, offset=2)
        assert total == 7 and [u.id for u in page] == sorted(ids, reverse=True)[2:5]
        pairs, total = paginate(s, select(User.id, User.employee_code).where(User.id.in_(ids)), (User.id,),
                                limit=2, offset=6)
        assert total == 7 and pairs == [(ids[6], "K006")]


def test_get_or_404(db):
    (uid,) = _users(db, 1)
    with db.session() as s:
        assert get_or_404(s, User, uid).id == uid
        with pytest.raises(NotFound) as exc:
            get_or_404(s, Shift, 2**31 - 1, "Shift")
    assert exc.value.status_code == 404 and exc.value.message == "Shift not found"


def test_flush_or_conflict_keeps_the_rest_of_the_transaction(db):
    _users(db, 1)
    with db.session() as s:
        assert flush_or_conflict(s, Conflict("taken"), User(employee_code="DUP", full_name="first")) is True
    with db.session() as s:
        kept = User(employee_code="KEPT", full_name="in the same transaction")
        s.add(kept)
        s.flush()
        assert flush_or_conflict(s, None, User(employee_code="DUP", full_name="second")) is False
        with pytest.raises(Conflict) as exc:
            flush_or_conflict(s, lambda e: Conflict("employee_code taken", field="employee_code"),
                              User(employee_code="DUP", full_name="third"))
        assert exc.value.details == {"field": "employee_code"}
    with db.session() as s:  # only the savepoints were rolled back
        codes = sorted(s.scalars(select(User.employee_code).where(User.employee_code.in_(["DUP", "KEPT"]))))
        assert codes == ["DUP", "KEPT"]
        assert s.scalar(select(User.full_name).where(User.employee_code == "DUP")) == "first"


def test_a_first_write_made_in_a_savepoint_rolls_back_with_its_transaction(db):
    """Regression (SQLite): pysqlite began no transaction before a SAVEPOINT, so the savepoint's RELEASE committed
    the row at once and a failing request kept it (seen: a holiday stored although its commit failed)."""
    _users(db, 1)
    with pytest.raises(RuntimeError), db.session() as s:
        s.scalar(select(User.id).limit(1))  # reads only: no transaction is open on SQLite yet
        assert flush_or_conflict(s, None, User(employee_code="GONE", full_name="rolled back")) is True
        raise RuntimeError("the request fails after the savepoint")
    with db.session() as s:
        assert s.scalar(select(User.id).where(User.employee_code == "GONE")) is None
