from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.clock import now
from server.database import Base, UTCDateTime


class Challenge(Base):
    """One head-turn challenge: issued by the server, answered once, by the device (kiosk) or client (face login)
    it was issued to, before it expires."""

    __tablename__ = "liveness_challenges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # a random UUID, the challenge_id
    purpose: Mapped[str] = mapped_column(String(16))  # kiosk | login
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), nullable=True)
    client: Mapped[str | None] = mapped_column(String(128), nullable=True)  # face login: the client it was given to
    action: Mapped[str] = mapped_column(String(16))  # turn_left | turn_right
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
