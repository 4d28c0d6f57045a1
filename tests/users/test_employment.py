"""Employment dates: employed_from / employed_to at creation and by PATCH (in the past too), deactivation, and no
absences outside them."""
from __future__ import annotations

from datetime import datetime

from tests.fixtures.world import UTC, madrid_shift


def _patch(world, user, **body):
    r = world.client.patch(f"/api/v1/users/{user['id']}", json=body, headers=world.admin)
    assert r.status_code == 200, r.text
    return r.json()


def test_employment_dates_decide_which_days_can_be_absent(world, clock):
    clock.set(datetime(2026, 11, 30, 8, tzinfo=UTC))
    world.new_shift(**madrid_shift(weekdays=[0, 1, 2, 3, 4, 5, 6]))
    ana = world.employee("ANA", "Madrid day", valid_from="2026-11-01", employed_from="2026-11-20")
    assert ana["employed_from"] == "2026-11-20" and ana["employed_to"] is None
    world.close()
    assert world.day(ana, "2026-11-19") is None and world.day(ana, "2026-11-23")["status"] == "absent"
    # she started earlier than recorded: the days in between become work days (absent), at once
    assert _patch(world, ana, employed_from="2026-11-16")["employed_from"] == "2026-11-16"
    assert world.day(ana, "2026-11-17")["status"] == "absent"
    # and she left on the 25th: later absences disappear
    _patch(world, ana, employed_to="2026-11-25")
    assert world.day(ana, "2026-11-26") is None and world.day(ana, "2026-11-25")["status"] == "absent"
    audit = world.client.get(f"/api/v1/audit?entity=user&entity_id={ana['id']}", headers=world.admin).json()
    changes = [e["after"] for e in audit["items"] if e["action"] == "users.update"]
    assert {"employed_to": "2026-11-25"} in changes and {"employed_from": "2026-11-16"} in changes
    bad = world.client.patch(f"/api/v1/users/{ana['id']}", json={"employed_to": "2026-11-01"}, headers=world.admin)
    assert bad.status_code == 422


def test_deactivation_sets_employed_to_when_empty_and_reactivation_clears_it(world, clock):
    clock.set(datetime(2026, 11, 30, 8, tzinfo=UTC))
    bo = world.employee("BO", employed_from="2026-11-01")
    assert world.client.delete(f"/api/v1/users/{bo['id']}", headers=world.admin).status_code == 204
    got = world.client.get(f"/api/v1/users/{bo['id']}", headers=world.admin).json()
    assert got["employed_to"] == "2026-11-30" and not got["is_active"]
    clock.set(datetime(2026, 12, 5, 8, tzinfo=UTC))
    back = _patch(world, bo, is_active=True)
    assert back["employed_to"] is None
    cy = world.employee("CY", employed_from="2026-11-01", employed_to="2027-06-30")
    _patch(world, cy, is_active=False)
    assert world.client.get(f"/api/v1/users/{cy['id']}", headers=world.admin).json()["employed_to"] == "2027-06-30"
