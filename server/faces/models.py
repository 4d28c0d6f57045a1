from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from server.clock import now
from server.database import Base, UTCDateTime


class FaceTemplate(Base):
    """One enrolled face embedding (float32, L2-normalised) made by `model_id`."""

    __tablename__ = "face_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    model_id: Mapped[str] = mapped_column(String(64), index=True)
    dim: Mapped[int] = mapped_column(Integer)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    quality: Mapped[dict] = mapped_column(JSON, default=dict)
    image_path: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class FaceAttempt(Base):
    """Decision record of one face attempt (login, kiosk, enrollment, verify, identify)."""

    __tablename__ = "face_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # login | kiosk | enroll | verify | identify
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"), nullable=True)
    client: Mapped[str | None] = mapped_column(String(128), nullable=True)
    model_id: Mapped[str] = mapped_column(String(64))
    best_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    best_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    runner_up_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    # 1:N decisions: the gallery's size N (people) and the FPIR expected at the threshold in force
    gallery_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    expected_fpir: Mapped[float | None] = mapped_column(Float, nullable=True)
    # recognized | unknown | rejected:<code> | liveness:<reason> | ...
    decision: Mapped[str] = mapped_column(String(32))
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    liveness: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # the challenge's measures (rule.Verdict)


class GalleryState(Base):
    """Single row (id=1): bumped on every enroll/erase so other workers reload their gallery."""

    __tablename__ = "gallery_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class GalleryChange(Base):
    """The change log of the gallery (server/faces/sync.py): one row per user whose gallery entry a transaction changed,
    keyed by the gallery version that transaction bumped to. Replicas apply the rows past their version; rows older
    than GALLERY_LOG_KEEP_SECONDS are pruned (a replica further behind reloads in full)."""

    __tablename__ = "gallery_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, index=True)
    user_id: Mapped[int] = mapped_column(Integer)  # no foreign key: the log outlives a deleted user
    kind: Mapped[str] = mapped_column(String(16))  # added | erased | activated | deactivated
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
