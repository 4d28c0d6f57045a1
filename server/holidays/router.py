"""Holidays (rules in service.py; the work days they touch are recomputed by flows.py).

GET    /api/v1/holidays            any signed-in user: ?from&to (default: this year) &site
POST   /api/v1/holidays            admin; manager: its own site. {date, name, site?}
DELETE /api/v1/holidays/{id}       admin; manager: its own site's. ?reason=
POST   /api/v1/holidays/import     admin; manager: its own site. multipart file (.ics), site?, from?, to?
"""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from server.attendance import flows
from server.attendance.queries import check_range
from server.shifts.rules import local_date
from server.auth.deps import SIGNED_IN, EmployeeDep, ManagerDep
from server.bounds import ApiDate, PathId
from server.clock import now as clock_now
from server.config import Settings
from server.deps import SessionDep, SettingsDep
from server.errors import AppError, Forbidden, NotFound, ValidationFailed, responses
from server.holidays import service
from server.holidays.ics import InvalidCalendar
from server.holidays.schemas import HolidayImportOut, HolidayIn, HolidayOut
from server.users.policy import is_admin

router = APIRouter(prefix="/api/v1/holidays", tags=["holidays"])
MAX_ICS_BYTES = 1024 * 1024
MAX_IMPORT_DAYS = 731

_AUTH = (SIGNED_IN, (Forbidden, "not a manager / admin, or a holiday of the company or another site"))
_RANGE = (ValidationFailed, "to before from, more than 366 days")


class FileTooLarge(AppError):
    status_code = 413
    code = "file_too_large"
    message = "The file is larger than 1 MiB"


def _year_range(settings: Settings, start: date | None, end: date | None) -> tuple[date, date]:
    today = local_date(clock_now(), settings.default_timezone)
    start = start or (date(end.year, 1, 1) if end else date(today.year, 1, 1))
    end = end or date(start.year, 12, 31)
    check_range(start, end)
    return start, end


@router.get("", response_model=list[HolidayOut], responses=responses(_AUTH, _RANGE),
            summary="Holidays in a range (default: this year); an employee's and a manager's: those of their site")
def list_holidays(user: EmployeeDep, session: SessionDep, settings: SettingsDep,
                  from_: ApiDate | None = Query(None, alias="from"), to: ApiDate | None = None,
                  site: str | None = Query(None, max_length=100)):
    start, end = _year_range(settings, from_, to)
    if not is_admin(user):
        site = user.site or ""  # their own site's and the company's
    return service.list_holidays(session, start=start, end=end, site=site)


@router.post("", response_model=HolidayOut, status_code=201,
             responses=responses(_AUTH, (service.HolidayExists, "date, site"), ValidationFailed),
             summary="Add a holiday (no site: the whole company); the work days of that date are recomputed")
def create_holiday(body: HolidayIn, actor: ManagerDep, session: SessionDep, settings: SettingsDep):
    return flows.add_holiday(session, settings, actor=actor, day=body.date, name=body.name, site=body.site)


@router.post("/import", response_model=HolidayImportOut, status_code=201,
             responses=responses(_AUTH, (FileTooLarge, "1 MiB"), InvalidCalendar, (ValidationFailed, "range")),
             summary="Import an iCalendar (.ics) file: one holiday per date in [from, to] (default: this year and "
                     "next); dates that already have one are skipped")
def import_holidays(actor: ManagerDep, session: SessionDep, settings: SettingsDep,
                    file: UploadFile = File(..., description="An iCalendar (.ics) file"),
                    site: str | None = Form(None, max_length=100), from_: ApiDate | None = Form(None, alias="from"),
                    to: ApiDate | None = Form(None)):
    today = local_date(clock_now(), settings.default_timezone)
    start = from_ or date(today.year, 1, 1)
    end = to or date(start.year + 1, 12, 31)
    if end < start:
        raise ValidationFailed("'to' is before 'from'")
    if (end - start).days > MAX_IMPORT_DAYS:
        raise ValidationFailed("At most two years at a time")
    data = file.file.read(MAX_ICS_BYTES + 1)
    if len(data) > MAX_ICS_BYTES:
        raise FileTooLarge(limit_bytes=MAX_ICS_BYTES)
    created, skipped = flows.import_holidays(session, settings, actor=actor, data=data, site=(site or None),
                                             start=start, end=end, filename=file.filename)
    return HolidayImportOut(created=[HolidayOut.model_validate(h) for h in created], skipped=skipped)


@router.delete("/{holiday_id}", status_code=204, responses=responses(_AUTH, NotFound),
               summary="Delete a holiday; the work days of that date are recomputed")
def delete_holiday(holiday_id: PathId, actor: ManagerDep, session: SessionDep, settings: SettingsDep,
                   reason: str | None = Query(None, max_length=1000)):
    holiday = service.get_holiday(session, holiday_id)
    flows.remove_holiday(session, settings, actor=actor, holiday=holiday, reason=reason)
    return Response(status_code=204)
