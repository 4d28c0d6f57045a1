from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.clock import now
from server.database import Base, UTCDateTime


class RefreshToken(Base):
    """One issued refresh token (by jti). A family shares `family_id`; reuse of a spent one revokes the family."""

    __tablename__ = "refresh_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    spent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LoginFailure(Base):
    """A failed login (password or face), counted per subject and per client for lockout."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_subject_at", "subject", "at"),
        Index("ix_login_failures_client_at", "client", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # password | face
    subject: Mapped[str | None] = mapped_column(String(320), nullable=True)  # employee_code / email as given
    client: Mapped[str] = mapped_column(String(128))  # client IP or device id
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
