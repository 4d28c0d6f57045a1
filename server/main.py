"""create_app() and the lifespan: settings → directories → migrations → face engine → gallery → seeds → scheduler."""
from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.middleware.cors import CORSMiddleware

import server.jobs  # noqa: F401  (the domains register their jobs)
from seeds import run_all
from server import __version__, openapi
from server.body_limit import BodyLimitMiddleware, body_limit
from server.body_types import require_body_type
from server.config import Settings, get_settings
from server.errors import RequestContextMiddleware, install_handlers
from server.faces.runtime import FaceRuntime
from server.metrics import Metrics
from server.scheduler import AppScheduler
from server.system.router import router as system_router
from server.migrate import migrate_at_startup
from server.startup import (
    StartupFailureMessage,
    StartupState,
    banner,
    check_settings,
    ensure_directories,
    open_database,
    startup_lock,
)

log = logging.getLogger("faceclock")


def _run_seeds(db, settings: Settings):
    with startup_lock(db, settings), db.session() as s:  # committed before the lock is released
        return run_all(s, settings)


def _open_and_migrate(st, settings: Settings):
    st.db = open_database(settings)
    return migrate_at_startup(st.db, settings)


def _start_scheduler(app, db, settings: Settings):
    scheduler = AppScheduler(db, settings)
    scheduler.start()
    app.state.scheduler = scheduler


@asynccontextmanager
async def lifespan(app: FastAPI):
    st = app.state
    settings: Settings = st.settings
    steps: StartupState = st.startup
    st.db = None
    # The face engine, its gallery and pools: one per app, reached by the routes through server/faces/deps.py only.
    st.faces = rt = FaceRuntime(settings)
    try:
        steps.run("settings", lambda: check_settings(settings))
        steps.run("directories", lambda: ensure_directories(settings))
        # Several workers start at once: migrations and seeds each run under a cross-process lock.
        steps.run("migrations", lambda: _open_and_migrate(st, settings))
        # A missing model leaves the process up with /ready = 503 naming the problem (and the script to run).
        if steps.run("face_engine", rt.load_engine, fatal=False) is not None:
            steps.run("gallery", lambda: rt.load_gallery(st.db), fatal=False)
        seeded = steps.run("seeds", lambda: _run_seeds(st.db, settings))
        if settings.scheduler_enabled:
            steps.run("scheduler", lambda: _start_scheduler(app, st.db, settings))
        else:
            steps.skip("scheduler", "SCHEDULER_ENABLED=false")
        log.info("startup finished in %.3fs", time.time() - steps.started)
        # WARNING when it carries the one-time password, so that no LOG_LEVEL hides it
        log.log(logging.WARNING if (seeded or {}).get("admin_password") else logging.INFO, "%s",
                banner(settings, seeded, steps))
        yield
    finally:
        scheduler = getattr(st, "scheduler", None)
        if scheduler is not None:
            scheduler.shutdown()
        rt.close()
        if st.db is not None:
            st.db.dispose()


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(
        title="faceclock",
        version=__version__,
        description="Attendance backend with facial login: kiosk check-in/out by face, enrollment, JWT auth.",
        lifespan=lifespan,
        generate_unique_id_function=openapi.operation_id,
        dependencies=[Depends(require_body_type)],  # 415 for a body of the wrong kind (server/body_types.py)
    )
    openapi.install(app)
    app.state.settings = settings
    app.state.startup = StartupState()
    app.state.metrics = Metrics()
    app.state.faces = None  # the FaceRuntime, built by the lifespan
    app.state.scheduler = None
    app.state.db = None
    install_handlers(app)
    _install_middleware(app)
    _include_routers(app)
    return app


def _include_routers(app: FastAPI) -> None:
    app.include_router(system_router)
    for module in ("auth", "users", "devices", "faces", "shifts", "attendance", "reports", "kiosk", "web",
                   "holidays", "leaves", "requests", "console", "liveness"):
        try:
            mod = __import__(f"server.{module}.router", fromlist=["router"])
        except ModuleNotFoundError as exc:
            if exc.name != f"server.{module}.router":
                raise
            continue
        app.include_router(mod.router)


def _install_middleware(app: FastAPI) -> None:
    app.add_middleware(BodyLimitMiddleware, max_bytes=body_limit(app.state.settings.upload_max_bytes,
                                                                 app.state.settings.enroll_batch_max_bytes))
    # Added last = outermost of ours: its X-Request-ID, error mapping and metrics cover every answer, the body
    # limit's 413 and the 500/503 of an exception that escaped the app included.
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    app.add_middleware(StartupFailureMessage, startup=app.state.startup)
    _install_cors(app)


# Browser apps on another origin (CORS_ORIGINS) authenticate with a Bearer token or a kiosk key, never a cookie.
CORS_HEADERS = ["Authorization", "Content-Type", "X-Device-Key", "X-Request-ID", "Accept", "Accept-Language"]
CORS_EXPOSED = ["X-Request-ID", "Retry-After", "Content-Disposition"]


def _install_cors(app: FastAPI) -> None:
    """Starlette's CORS middleware, outermost, so that every answer (errors, 413, 503 included) carries the headers
    an allowed origin needs and a preflight never reaches the routes. Nothing is installed without CORS_ORIGINS:
    then a browser on another origin gets no Access-Control-Allow-Origin and may not read any answer."""
    origins = app.state.settings.cors_origin_list
    if not origins:
        return
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["*"], allow_headers=CORS_HEADERS,
                       expose_headers=CORS_EXPOSED, allow_credentials=False, max_age=600)


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # 7 "setup plugin" lines a start


def app_factory() -> FastAPI:
    """uvicorn entry point (`uvicorn --factory server.main:app_factory`)."""
    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
