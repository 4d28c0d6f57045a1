from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from server.clock import now
from server.database import Base, UTCDateTime


class KioskRequest(Base):
    """The answer given to one (device, request_id): replays return it; the unique key makes retries idempotent."""

    __tablename__ = "kiosk_requests"
    __table_args__ = (UniqueConstraint("device_id", "request_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    request_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    status_code: Mapped[int] = mapped_column(Integer, default=200)
    response: Mapped[dict] = mapped_column(JSON)
    punch_id: Mapped[int | None] = mapped_column(ForeignKey("punches.id", ondelete="SET NULL"), nullable=True)


class Punch(Base):
    """One check-in or check-out. Never physically deleted: corrections void it (voided_at) with a reason."""

    __tablename__ = "punches"
    __table_args__ = (UniqueConstraint("device_id", "request_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # in | out
    # False: an automatic kiosk punch whose kind is re-derived (alternating from "in") whenever its day is
    # recomputed; True: the kind was given explicitly (manual punch, or corrected) and is kept.
    kind_fixed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    work_date: Mapped[date] = mapped_column(Date, index=True)
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id", ondelete="SET NULL"), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # on_time | late | early_leave | overtime | off_shift
    source: Mapped[str] = mapped_column(String(16), default="kiosk")  # kiosk | manual
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    void_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # kiosk punches: "challenge" (a server challenge was answered), "offline" (an action the offline kiosk drew,
    # verified on replay: for the manager to see), None (no liveness check)
    liveness: Mapped[str | None] = mapped_column(String(16), nullable=True)


class WorkDay(Base):
    """A user's day of work in the shift's zone, recomputed from its punches."""

    __tablename__ = "work_days"
    __table_args__ = (UniqueConstraint("user_id", "work_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    work_date: Mapped[date] = mapped_column(Date, index=True)
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id", ondelete="SET NULL"), nullable=True)
    first_in: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_out: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    worked_minutes: Mapped[int] = mapped_column(Integer, default=0)
    late_minutes: Mapped[int] = mapped_column(Integer, default=0)
    early_leave_minutes: Mapped[int] = mapped_column(Integer, default=0)
    overtime_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # present | late | absent | incomplete | off_day | holiday | on_leave | half_day | remote (workday.DAY_STATUSES)
    status: Mapped[str] = mapped_column(String(16))
    holiday: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the holiday's name, if one
    leave_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)  # vacation | sick | … on leave
    leave_half: Mapped[str | None] = mapped_column(String(2), nullable=True)  # am | pm: half of the day on leave
    mark: Mapped[str | None] = mapped_column(String(16), nullable=True)  # the status a manager marked, if any
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)


class DayMark(Base):
    """A manager's whole-day mark: the status of (user, work_date) whatever the punches say, with a reason."""

    __tablename__ = "day_marks"
    __table_args__ = (UniqueConstraint("user_id", "work_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    work_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16))  # present | absent | on_leave | remote
    reason: Mapped[str] = mapped_column(Text)
    marked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
