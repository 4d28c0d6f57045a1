"""Report payloads: the summary's totals per user."""
from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class UserTotals(BaseModel):
    user_id: int
    employee_code: str
    full_name: str
    days: int = Field(description="Rows of the report for this user (days of employment in the range)")
    days_present: int = Field(description="Days worked on a scheduled shift: present or late")
    late_count: int = Field(description="Days whose first in was after start + grace")
    absences: int = Field(description="Scheduled, closed days without any punch")
    incomplete: int = Field(description="Closed days left with an in and no out (or an out with no in)")
    off_days: int = Field(description="Days without a scheduled shift")
    off_days_worked: int = Field(description="Off days with worked minutes")
    upcoming: int = Field(description="Scheduled days not closed yet and without a punch (scheduled / ongoing)")
    holidays: int = Field(description="Scheduled days that are holidays (status holiday)")
    holidays_worked: int = Field(description="Holidays with worked minutes (counted as overtime)")
    half_days: int = Field(description="Days under the shift's half_day_below_minutes (status half_day)")
    remote_days: int = Field(description="Days marked remote")
    marked: int = Field(description="Days whose status is a manager's whole-day mark")
    leave_days: float = Field(description="Days of leave: 1 per on_leave day, 0.5 per half day of leave")
    leave_half_days: int = Field(description="Half days of leave among them")
    leave_by_kind: dict[str, float] = Field(description="leave_days by kind (vacation, sick, …; 'unspecified' for "
                                                        "a day marked on_leave without a leave)")
    worked_minutes: int
    late_minutes: int
    early_leave_minutes: int
    overtime_minutes: int


class SummaryOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    users: list[UserTotals]


class LastPunch(BaseModel):
    kind: str
    at: datetime
    source: str


class TodayPerson(BaseModel):
    user_id: int
    employee_code: str
    full_name: str
    site: str | None
    work_date: date = Field(description="The work day in progress (a night shift's evening date after midnight)")
    timezone: str
    shift_name: str | None
    shift_start: datetime | None = Field(description="UTC; null on a day without a scheduled shift")
    shift_end: datetime | None
    state: str = Field(description="in | left | missing | expected | absent | off | holiday | on_leave, or a "
                                   "day's mark (present, absent, on_leave, remote)")
    late: bool = Field(description="Arrived late, or still missing after the shift start + grace")
    status: str = Field(description="The work day's status as the report grid gives it")
    late_minutes: int
    worked_minutes: int
    first_in: datetime | None
    last_out: datetime | None
    last_punch: LastPunch | None
    holiday: str | None = Field(None, description="The holiday's name, when the day is one for this person's site")
    leave_kind: str | None = Field(None, description="vacation | sick | personal | unpaid | other, when on leave")
    leave_half: str | None = Field(None, description="am | pm for a half day of leave; null: the whole day")
    mark: str | None = Field(None, description="A manager's whole-day mark: present | absent | on_leave | remote")


class TodayOut(BaseModel):
    at: datetime
    people: list[TodayPerson]
    counts: dict[str, dict[str, int]] = Field(description="Per site ('' = no site): how many people per state, "
                                                          "plus 'late'")
