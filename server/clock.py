"""The one place that reads the wall clock. Tests replace it with `set_clock`."""
from __future__ import annotations

from datetime import datetime, UTC
from collections.abc import Callable

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return _now()


def set_clock(fn: Callable[[], datetime] | None) -> None:
    """Install a clock (tests); None restores the real one."""
    global _now
    _now = fn or (lambda: datetime.now(UTC))


def as_utc(dt: datetime) -> datetime:
    """Aware UTC datetime; naive values (SQLite returns them) are taken as UTC."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)
