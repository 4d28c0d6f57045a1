"""Attendance reports (manager: own site; admin: everyone).

GET /api/v1/attendance/report.csv?from&to&user_id&role&site&all_users   one row per user per day, streamed
GET /api/v1/attendance/summary?from&to&user_id&role&site&all_users      JSON totals per user, over the same rows
GET /api/v1/attendance/today?site                                       where each person stands now (Today page)
"""
from __future__ import annotations


from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from server.attendance.queries import default_range, ensure_supervised
from server.auth.deps import SIGNED_IN, ManagerDep
from server.deps import SessionDep, SettingsDep
from server.errors import Forbidden, NotFound, ValidationFailed, responses
from server.reports import service, today as today_service
from server.reports.schemas import SummaryOut, TodayOut
from server.users.schemas import Role
from server.bounds import ApiDate, UserFilter

router = APIRouter(prefix="/api/v1/attendance", tags=["reports"])


def report_users(user_id: UserFilter = None, role: Role | None = None,
                 site: str | None = Query(None, max_length=100, description="Only users of this site"),
                 all_users: bool = Query(False, description="Also users with no assignment over the range and "
                                                             "no recorded day in it (left out by default)")
                 ) -> service.UserQuery:
    return service.UserQuery(user_id=user_id, role=role, site=site, all_users=all_users)


_AUTH = (SIGNED_IN, (Forbidden, "not a manager or admin, a kiosk key, or a user outside the site"))
_ERRORS = responses(_AUTH, (NotFound, "no such user"),
                    (ValidationFailed, "to before from, more than 366 days, user_id out of range"))


@router.get("/report.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "CSV, UTF-8 with BOM"}, **_ERRORS},
            summary="Attendance CSV: one row per user per day (local times of the shift's zone)")
def report_csv(request: Request, actor: ManagerDep, session: SessionDep, settings: SettingsDep,
               from_: ApiDate | None = Query(None, alias="from"), to: ApiDate | None = None,
               who: service.UserQuery = Depends(report_users)):
    start, end = default_range(settings, from_, to)
    if who.user_id is not None:
        ensure_supervised(session, actor, who.user_id)
    chunks = service.csv_chunks(request.app.state.db, settings, actor=actor, start=start, end=end, who=who)
    filename = f"attendance_{start.isoformat()}_{end.isoformat()}.csv"
    return StreamingResponse((c.encode("utf-8") for c in chunks), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                      "Cache-Control": "no-store"})


@router.get("/summary", response_model=SummaryOut, responses=_ERRORS,
            summary="Totals per user: days present, late count, absences, overtime … (the CSV's rows added up)")
def summary(actor: ManagerDep, session: SessionDep, settings: SettingsDep,
            from_: ApiDate | None = Query(None, alias="from"), to: ApiDate | None = None,
            who: service.UserQuery = Depends(report_users)):
    start, end = default_range(settings, from_, to)
    if who.user_id is not None:
        ensure_supervised(session, actor, who.user_id)
    return SummaryOut(from_=start, to=end,
                      users=service.summary(session, settings, actor=actor, start=start, end=end, who=who))


@router.get("/today", response_model=TodayOut, responses=responses(_AUTH, ValidationFailed),
            summary="Where each active person stands now (in, left, missing, expected, absent, off, on leave), "
                    "per site; manager: own site")
def today(actor: ManagerDep, session: SessionDep, settings: SettingsDep,
          site: str | None = Query(None, max_length=100, description="Only this site ('' = people without one)")):
    return today_service.today(session, settings, actor=actor, site=site)
