from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.clock import now
from server.database import Base, UTCDateTime

WHOLE_COMPANY = "*"  # the scope of a holiday without a site


class Holiday(Base):
    """A public holiday of one site, or of the whole company (site null). One per (date, scope)."""

    __tablename__ = "holidays"
    __table_args__ = (UniqueConstraint("date", "scope"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[date] = mapped_column(Date, index=True)
    name: Mapped[str] = mapped_column(String(200))
    site: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # site, or "*" for the whole company: what the unique key compares (NULLs would never clash)
    scope: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
