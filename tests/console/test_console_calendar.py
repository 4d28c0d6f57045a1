"""The console's calendar pages (issue 13's API) in headless Chromium, in English and Spanish: holidays (add, import
an .ics), leave (add: the person shows on leave on Today), an employee's request (a missed punch, from My
attendance) approved by a manager (the punch appears in the work day), and a day marked from Work days."""
from __future__ import annotations

from datetime import datetime, timedelta, UTC

import pytest

from tests.console.helpers import (BEN, all_css, by_css, click, go, page_is, set_value, shot, sign_in, submit_dialog,
                                   text, type_in)
from tests.fixtures.browser import body_attr, wait

pytestmark = pytest.mark.browser
ICS = """BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//faceclock test//EN\r\n{events}END:VCALENDAR\r\n"""
EVENT = "BEGIN:VEVENT\r\nUID:{uid}@test\r\nDTSTART;VALUE=DATE:{day}\r\nSUMMARY:{name}\r\nEND:VEVENT\r\n"
WORDS = {"en": {"leave": "On leave (vacation)", "approved": "approved", "remote": "marked working remotely",
                "imported": "Imported: 2 added"},
         "es": {"leave": "De permiso (vacaciones)", "approved": "aprobada", "remote": "marcado teletrabajo",
                "imported": "Importado: 2 añadidos"}}


def _seed(api):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = (now - timedelta(hours=2)).replace(minute=0)
    shift = api.http.post("/api/v1/shifts", headers=api._auth(), json={
        "name": "Office", "timezone": "UTC", "start_time": start.strftime("%H:%M"),
        "end_time": (start + timedelta(hours=8)).strftime("%H:%M"), "weekdays": list(range(7))}).json()
    people = {}
    for code, name, role in (("EMP1", "Erin Employee", "employee"), ("LEA1", "Leo Leave", "employee"),
                             ("MGR1", "Mia Manager", "manager")):
        people[code] = api.create_user(code, name, role=role, site="north", password="a-password-123",
                                       employed_from=(now - timedelta(days=10)).date().isoformat())
        r = api.http.put(f"/api/v1/users/{people[code]['id']}/shift", headers=api._auth(),
                         json={"shift_id": shift["id"], "valid_from": (now - timedelta(days=10)).date().isoformat()})
        assert r.status_code == 200, r.text
    return now, start, people


@pytest.mark.parametrize("lang", ["en", "es"])
def test_holidays_leave_requests_and_marks(live, api, browser_factory, artifacts, tmp_path, lang):
    words = WORDS[lang]
    now, start, people = _seed(api)
    today = now.date()
    driver = browser_factory(BEN, lang={"en": "en-US", "es": "es-ES"}[lang])
    driver.set_window_size(1280, 900)
    sign_in(driver, live.url, "admin@example.com", "admin-password-123")

    # holidays: one by hand, two from an .ics file
    go(driver, "#/calendar?tab=holidays", "calendar")
    click(driver, "#holiday-new")
    set_value(driver, "#hol-date", (today + timedelta(days=3)).isoformat())
    type_in(driver, "#hol-name", "Founders' day")
    submit_dialog(driver)
    wait(driver, lambda d: "Founders' day" in text(d, "#holidays-list"), 20, "the new holiday")
    ics = tmp_path / "holidays.ics"
    days = [today + timedelta(days=20), today + timedelta(days=40)]
    ics.write_text(ICS.format(events="".join(EVENT.format(uid=i, day=d.strftime("%Y%m%d"), name=f"Fiesta {i}")
                                             for i, d in enumerate(days))), encoding="utf-8")
    set_value(driver, "#hol-from", today.isoformat())  # the import takes the range the list shows
    set_value(driver, "#hol-to", (today + timedelta(days=60)).isoformat())
    click(driver, "#holiday-import")
    by_css(driver, "#hol-file").send_keys(str(ics))
    submit_dialog(driver)
    wait(driver, lambda d: words["imported"] in text(d, "#status"), 20, "the import's answer")
    wait(driver, lambda d: "Fiesta 1" in text(d, "#holidays-list"), 20, "the imported holidays listed")
    shot(driver, artifacts, f"{lang}-14-holidays")

    # leave: Leo is on vacation today → Today says so
    go(driver, "#/calendar?tab=leave", "calendar")
    click(driver, "#leave-new")
    type_in(driver, "#leave-new-user", "Leo")
    wait(driver, lambda d: all_css(d, "#leave-new-user-list option"), 10, "the people suggested")
    type_in(driver, "#leave-new-user", by_css(driver, "#leave-new-user-list option").get_attribute("value"))
    set_value(driver, "#leave-new-from", today.isoformat())
    set_value(driver, "#leave-new-to", (today + timedelta(days=2)).isoformat())
    type_in(driver, "#leave-new-reason", "summer holidays")
    submit_dialog(driver)
    wait(driver, lambda d: "summer holidays" in text(d, "#leave-list"), 20, "the leave listed")
    shot(driver, artifacts, f"{lang}-15-leave")
    go(driver, "#/today", "today")
    row = f"tr[data-user='{people['LEA1']['id']}']"
    wait(driver, lambda d: by_css(d, row).get_attribute("data-state") == "on_leave", 20, "Leo on leave on Today")
    assert words["leave"] in by_css(driver, row).text
    assert by_css(driver, "[data-count='leave'] .count").text == "1"

    # an employee asks for a missed punch; the manager approves it
    employee = browser_factory(BEN, lang={"en": "en-US", "es": "es-ES"}[lang])
    sign_in(employee, live.url, "EMP1", "a-password-123")
    page_is(employee, "mine")
    click(employee, "#request-new")
    set_value(employee, "#req-date", today.isoformat())
    set_value(employee, "#req-time", start.strftime("%H:%M"))
    type_in(employee, "dialog[open] textarea", "forgot my badge")
    submit_dialog(employee)
    wait(employee, lambda d: all_css(d, "#mine-requests tr[data-status='pending']"), 20, "the pending request")
    shot(employee, artifacts, f"{lang}-16-my-attendance")

    manager = browser_factory(BEN, lang={"en": "en-US", "es": "es-ES"}[lang])
    sign_in(manager, live.url, "MGR1", "a-password-123")
    go(manager, "#/calendar?tab=requests", "calendar")
    wait(manager, lambda d: "forgot my badge" in text(d, "#requests-list"), 20, "the request for the manager")
    click(manager, "#requests-list tr[data-status='pending'] button.primary")  # Approve
    submit_dialog(manager)
    wait(manager, lambda d: not all_css(d, "#requests-list tr[data-status='pending']"), 20, "the request decided")
    shot(manager, artifacts, f"{lang}-17-requests")
    employee.refresh()
    wait(employee, lambda d: words["approved"] in text(d, "#mine-requests"), 20, "approved, for the employee")

    # the approved punch is in Erin's work day; the admin marks her next day as remote work
    go(driver, f"#/days?user={people['EMP1']['id']}", "days")
    wait(driver, lambda d: all_css(d, "li.punch"), 20, "the approved punch")
    click(driver, "#days-mark")
    set_value(driver, "dialog[open] input[type=date]", (today - timedelta(days=1)).isoformat())
    from selenium.webdriver.support.ui import Select

    Select(by_css(driver, "dialog[open] select")).select_by_value("remote")
    type_in(driver, "dialog[open] textarea", "home office agreed")
    submit_dialog(driver)
    wait(driver, lambda d: words["remote"] in text(d, "#days-list"), 20, "the marked day")
    shot(driver, artifacts, f"{lang}-18-work-days-marked")
    assert body_attr(driver, "page") == "days"
