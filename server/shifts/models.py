from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from server.clock import now
from server.database import Base, UTCDateTime


class Shift(Base):
    """A working pattern in an IANA time zone. end_time <= start_time means the shift runs overnight."""

    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=lambda: [0, 1, 2, 3, 4])  # Monday = 0
    grace_in_minutes: Mapped[int] = mapped_column(Integer, default=5)
    grace_out_minutes: Mapped[int] = mapped_column(Integer, default=5)
    break_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # a closed day with fewer worked minutes is half_day / absent (None: no such threshold)
    half_day_below_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    absent_below_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class ShiftAssignment(Base):
    """User on a shift for [valid_from, valid_to] (inclusive dates; open-ended when valid_to is null)."""

    __tablename__ = "shift_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id", ondelete="RESTRICT"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
