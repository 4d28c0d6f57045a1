"""Process health: /health, /ready, /status, /metrics."""
from __future__ import annotations

import time

import psutil
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text

from server import __version__
from server.faces.runtime import FaceRuntime
from server.faces.service import identify_point
from server.migrate import current_revision

router = APIRouter(tags=["system"])


def _loaded(rt: FaceRuntime | None) -> FaceRuntime | None:
    """The runtime when its engine is loaded (the gallery is loaded after the engine), else None."""
    return rt if rt is not None and rt.engine is not None else None


def gallery_stats(rt: FaceRuntime | None) -> dict | None:
    if _loaded(rt) is None:
        return None
    gallery = rt.gallery
    return {"templates": gallery.size(), "bytes": gallery.nbytes(), "version": gallery.version,
            "sync": rt.sync.describe() if rt.sync is not None else None,
            "models": {m: {"templates": gallery.size(m), "users": gallery.users(m)} for m in gallery.model_ids()}}


def face_decisions(rt: FaceRuntime | None) -> dict | None:
    """The operating points in force: 1:1 (FMR) and 1:N at the gallery's current size (FPIR), and whether face login
    may search the gallery without an employee code."""
    if _loaded(rt) is None:
        return None
    engine = rt.engine

    return {"model_id": engine.model_id, "one_to_one": engine.one_to_one.as_dict(),
            "one_to_many": identify_point(rt).as_dict(),
            "duplicate_check_threshold": round(engine.duplicate_threshold, 4)
            if engine.duplicate_threshold is not None else "the 1:N point",
            "face_login_without_code": rt.settings.face_login_without_code}


def _database_check(request: Request) -> str | None:
    db = getattr(request.app.state, "db", None)
    if db is None:
        return "database not configured yet"
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return f"database unreachable: {exc.__class__.__name__}"
    return None


@router.get("/health", summary="Liveness: 200 while the process is up")
def health():
    return {"status": "ok"}


@router.get("/ready", summary="Readiness: 200 only after every startup step finished and the database answers")
def ready(request: Request):
    state = request.app.state.startup
    checks = {name: "ok" for name in state.steps}
    failing = state.failing()
    checks.update(failing)
    db_error = _database_check(request)
    checks["database"] = db_error or "ok"
    if failing or db_error:
        return JSONResponse({"ready": False, "checks": checks}, status_code=503)
    return {"ready": True, "checks": checks}


@router.get("/status", summary="Version, uptime, memory, database, models, gallery and scheduler")
def status(request: Request):
    st = request.app.state
    db = getattr(st, "db", None)
    revision = None
    if db is not None:
        try:
            revision = current_revision(db)
        except Exception as exc:
            revision = f"unavailable: {exc.__class__.__name__}"

    rt = getattr(st, "faces", None)
    scheduler = getattr(st, "scheduler", None)
    return {
        "version": __version__,
        "uptime_seconds": round(time.time() - st.startup.started, 3),
        "rss_mb": round(psutil.Process().memory_info().rss / 2**20, 1),
        "database": {"dialect": db.dialect if db else None, "revision": revision},
        "models": [] if _loaded(rt) is None else [rt.engine.model_id],
        "face_model": st.settings.face_model,
        "gallery": gallery_stats(rt),
        "face_decisions": face_decisions(rt),
        "scheduler": {"enabled": st.settings.scheduler_enabled,
                      "running": bool(scheduler and scheduler.running),
                      "jobs": scheduler.describe() if scheduler else []},
        "startup": st.startup.steps,
    }


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics of this process")
def metrics(request: Request):
    st = request.app.state
    rt = _loaded(getattr(st, "faces", None))
    extra = {"process_resident_memory_bytes": psutil.Process().memory_info().rss,
             "process_uptime_seconds": round(time.time() - st.startup.started, 3)}
    if rt is not None:
        extra["face_gallery_templates"] = rt.gallery.size()
    return PlainTextResponse(st.metrics.render(extra), media_type="text/plain; version=0.0.4")
