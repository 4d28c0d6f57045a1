"""Settings from environment variables (pydantic-settings).

Every variable is listed in README.md with its default. Keep the two in step.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # --- process / server -------------------------------------------------
    environment: str = Field("development", description="development | production | test")
    host: str = "0.0.0.0"
    port: int = 8000
    workers: int = 1
    log_level: str = "INFO"
    cors_origins: str | None = None  # comma-separated origins a browser app may call the API from; "*" = any
    data_dir: Path = Path("./data")
    models_dir: Path | None = None  # default: DATA_DIR/models

    # --- database ----------------------------------------------------------
    database_url: str | None = None  # default: sqlite under DATA_DIR
    auto_migrate: bool = True
    db_pool_size: int = 10
    db_connect_timeout: int = 5

    # --- startup -----------------------------------------------------------
    default_timezone: str = "UTC"
    admin_email: str = "admin@example.com"
    admin_password: str | None = None
    admin_employee_code: str = "ADMIN"
    scheduler_enabled: bool = True
    scheduler_leader_lock_id: int = 7_420_001

    # --- face engine -------------------------------------------------------
    face_model: str = "sface"  # sface | dlib | facenet | VGG-Face | Facenet | Facenet512 | ArcFace
    face_threads: int | None = None  # inference concurrency (default = CPU cores)
    match_fmr: float = Field(1e-4, gt=0, lt=1)  # 1:1 operating point: false match rate per comparison
    identify_fpir: float = Field(0.005, gt=0, lt=1)  # 1:N operating point: false positive identification rate
    match_threshold: float | None = None  # fixes the 1:1 threshold (default: the model's curve at MATCH_FMR)
    duplicate_threshold: float | None = None  # default: the 1:N operating point at the gallery's size
    match_margin: float | None = None  # default: the model's calibrated margin (docs/faces.md)
    face_login_without_code: bool = True  # face login may search the whole gallery (1:N) when no code is given
    min_face_size: int = 60  # pixels, shorter side of the face box
    min_face_confidence: float = 0.8
    min_sharpness: float = 10.0  # variance of Laplacian on the face crop (resized to 112x112)
    min_brightness: float = 45.0  # mean gray level (0-255) of the face crop
    dominant_face_ratio: float = 1.6  # all but enrollment: the chosen face must be this many times as prominent
    keep_enrollment_images: bool = False
    gallery_poll_seconds: float = 0.25  # how often each replica's gallery sync checks the version (off requests)
    gallery_log_keep_seconds: float = 3600.0  # gallery change-log rows kept; a replica further behind reloads in full
    upload_max_bytes: int = 8 * 1024 * 1024
    image_max_pixels: int = 40_000_000
    # batch enrollment (POST /api/v1/faces/batch, scripts/enroll_folder.py; README "Bulk enrollment")
    enroll_batch_max_people: int = Field(50, ge=1, le=500)  # people per request
    enroll_batch_max_bytes: int = Field(64 * 1024 * 1024, ge=1024)  # request body of one batch
    enroll_batch_threads: int | None = Field(None, ge=1)  # inference slots a batch may hold (default FACE_THREADS-1)
    consent_text_version: str = "2026-01"
    # <version>.<lang>.txt files; default: the texts shipped in server/users/consent
    consent_text_dir: Path | None = None

    # --- auth --------------------------------------------------------------
    jwt_secret: str | None = None  # required in production; generated under DATA_DIR otherwise
    jwt_issuer: str = "faceclock"
    jwt_audience: str = "faceclock-api"
    access_token_minutes: int = 15
    refresh_token_days: int = 7
    password_min_length: int = 10
    lockout_max_per_user: int = 5
    lockout_max_per_client: int = 20
    lockout_window_minutes: int = 15

    # --- attendance --------------------------------------------------------
    debounce_seconds: int = 60
    max_offline_hours: int = 72
    clock_skew_seconds: int = 120
    close_day_interval_minutes: int = 15
    retention_days: int = 90
    biometric_retention_days: int = 30

    # --- liveness (head-turn challenge, docs/liveness.md) -------------------
    liveness: Literal["off", "challenge"] = "off"  # kiosks; per device: PATCH /api/v1/devices/{id} {liveness}
    liveness_login: Literal["off", "challenge"] = "off"  # POST /auth/face-login
    liveness_challenge_seconds: int = Field(15, ge=3, le=300)

    @field_validator("database_url", "jwt_secret", "admin_password", "cors_origins", mode="before")
    @classmethod
    def _empty_is_none(cls, v):
        return v or None

    @field_validator("environment", mode="before")
    @classmethod
    def _environment_lower(cls, v):
        return v.strip().lower() if isinstance(v, str) else v

    @property
    def cors_origin_list(self) -> list[str]:
        """CORS_ORIGINS as a list: exact origins (scheme://host[:port], no path, no trailing slash) or "*"."""
        return [o.strip().rstrip("/") for o in (self.cors_origins or "").split(",") if o.strip()]

    @property
    def weights_dir(self) -> Path:
        return Path(self.models_dir) if self.models_dir else Path(self.data_dir) / "models"

    @property
    def images_dir(self) -> Path:
        return Path(self.data_dir) / "images"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(Path(self.data_dir) / 'faceclock.db').resolve()}"

    @property
    def inference_slots(self) -> int:
        return self.face_threads or (os.cpu_count() or 1)


@lru_cache
def get_settings() -> Settings:
    return Settings()
