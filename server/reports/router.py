"""Attendance reports (manager: own site; admin: everyone).

GET /api/v1/attendance/report.csv?from&to&user_id?   one row per user per work day, streamed (UTF-8 BOM, CRLF)
GET /api/v1/attendance/summary?from&to&user_id?      JSON totals per user
"""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from server.attendance.service import default_range, ensure_supervised
from server.auth.deps import require_manager
from server.deps import get_session, get_settings_dep
from server.reports import service
from server.users.models import User

router = APIRouter(prefix="/api/v1/attendance", tags=["reports"])


@router.get("/report.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "CSV, UTF-8 with BOM"}},
            summary="Attendance CSV: one row per user per day (local times of the shift's zone)")
def report_csv(request: Request, from_: date | None = Query(None, alias="from"), to: date | None = None,
               user_id: int | None = None, actor: User = Depends(require_manager),
               session: Session = Depends(get_session), settings=Depends(get_settings_dep)):
    start, end = default_range(settings, from_, to)
    if user_id is not None:
        ensure_supervised(session, actor, user_id)
    chunks = service.csv_chunks(request.app.state.db, settings, actor=actor, start=start, end=end, user_id=user_id)
    filename = f"attendance_{start.isoformat()}_{end.isoformat()}.csv"
    return StreamingResponse((c.encode("utf-8") for c in chunks), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                      "Cache-Control": "no-store"})


@router.get("/summary", summary="Totals per user: days present, late count, absences, overtime …")
def summary(from_: date | None = Query(None, alias="from"), to: date | None = None, user_id: int | None = None,
            actor: User = Depends(require_manager), session: Session = Depends(get_session),
            settings=Depends(get_settings_dep)):
    start, end = default_range(settings, from_, to)
    if user_id is not None:
        ensure_supervised(session, actor, user_id)
    return {"from": start.isoformat(), "to": end.isoformat(),
            "users": service.summary(session, actor=actor, start=start, end=end, user_id=user_id)}
