"""Today and Reports with four weeks of attendance (the README's screenshots), in English and Spanish.

The data is made through the API: a shift in progress now, six people on two sites employed for five weeks, punches
by hand on the past working days (some late, some with overtime) and today's (three in on time, one late, one who
left, one not in yet), every day of the week (the test does not depend on the weekday it runs). The pages must show
exactly that: Today's counters per site, and a weekly chart with bars.
Screenshots: test-artifacts/console/readme-*.png (copies of a few are committed under docs/screenshots/).
"""
from __future__ import annotations

from datetime import datetime, timedelta, UTC

import pytest

from tests.console.helpers import BEN, all_css, by_css, go, page_is, shot, sign_in
from tests.fixtures.browser import body_attr, wait

pytestmark = pytest.mark.browser
PEOPLE = [("N1", "Lucía Fernández", "north", 0), ("N2", "Tom Becker", "north", 25), ("N3", "Aiko Tanaka", "north", 0),
          ("N4", "Omar Haddad", "north", None), ("S1", "Grace Okafor", "south", 0),
          ("S2", "Pablo Ruiz", "south", "left")]


def _punch(api, user_id: int, at: datetime, kind: str) -> None:
    r = api.http.post("/api/v1/attendance/punches", headers=api._auth(),
                      json={"user_id": user_id, "at": at.isoformat(), "kind": kind, "reason": "entered from paper"})
    assert r.status_code == 201, r.text


def _seed(api) -> datetime:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = (now - timedelta(hours=2)).replace(minute=0)
    shift = api.http.post("/api/v1/shifts", headers=api._auth(), json={
        "name": "Office", "timezone": "UTC", "start_time": start.strftime("%H:%M"),
        "end_time": (start + timedelta(hours=8)).strftime("%H:%M"), "weekdays": list(range(7)),
        "grace_in_minutes": 5, "grace_out_minutes": 5, "break_minutes": 30})
    assert shift.status_code == 201, shift.text
    first = (now - timedelta(days=35)).date()
    for n, (code, name, site, today) in enumerate(PEOPLE):
        user = api.create_user(code, name, site=site, employed_from=first.isoformat())
        r = api.http.put(f"/api/v1/users/{user['id']}/shift", headers=api._auth(),
                         json={"shift_id": shift.json()["id"], "valid_from": first.isoformat()})
        assert r.status_code == 200, r.text
        for back in range(1, 29):
            day = start - timedelta(days=back)
            if (back + n) % 9 == 0:
                continue  # now and then a day missed
            late = (back + 2 * n) % 6 == 0
            extra = (back + 2 * n) % 5 == 0
            _punch(api, user["id"], day + timedelta(minutes=35 if late else -4), "in")
            _punch(api, user["id"], day + timedelta(hours=8, minutes=50 if extra else 2), "out")
        if today == "left":
            _punch(api, user["id"], start - timedelta(minutes=3), "in")
            _punch(api, user["id"], now - timedelta(minutes=20), "out")
        elif today is not None:
            _punch(api, user["id"], start + timedelta(minutes=today - 3), "in")
    return now


@pytest.mark.parametrize("lang", ["en", "es"])
def test_today_and_reports_with_four_weeks_of_data(live, api, browser_factory, artifacts, lang):
    _seed(api)
    driver = browser_factory(BEN, lang={"en": "en-US", "es": "es-ES"}[lang])
    driver.set_window_size(1280, 1100)
    sign_in(driver, live.url, "admin@example.com", "admin-password-123")
    page_is(driver, "today")
    wait(driver, lambda d: body_attr(d, "today-loaded"), 20, "Today loaded")

    def count(site: str, what: str) -> int:
        return int(by_css(driver, f"section.site[data-site='{site}'] [data-count='{what}'] .count").text)

    # Tom came 22 minutes late; Omar is not in yet, past the grace: late and not in
    assert (count("north", "in"), count("north", "late"), count("north", "absent")) == (3, 2, 1)
    assert (count("south", "in"), count("south", "left")) == (1, 1)
    shot(driver, artifacts, f"readme-{lang}-today")

    driver.set_window_size(1280, 1180)
    go(driver, "#/reports", "reports")
    wait(driver, lambda d: len(all_css(d, "#report-table tbody tr")) >= 6, 30, "the summary")
    heights = wait(driver, lambda d: [float(r.get_attribute("height")) for r in all_css(d, "#weekly-chart rect")], 30,
                   "the chart")
    assert len(heights) == 16 and sum(1 for h in heights if h > 0) >= 8, heights  # lateness and overtime most weeks
    shot(driver, artifacts, f"readme-{lang}-reports")
