"""A shift's rule: the plain values of a shift that work-day arithmetic needs (no ORM object, no clock, no database),
and the date helpers shifts and attendance share. Pure: server/attendance/workday.py computes days from these."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY = timedelta(days=1)


def as_delta(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second)


def in_dates(d: date, first: date, last: date | None) -> bool:
    """Whether `d` lies in first .. last, both inclusive; `last` None = open-ended (assignments, employment)."""
    return first <= d and (last is None or d <= last)


def local_date(at: datetime, zone_name: str) -> date:
    return _aware(at).astimezone(ZoneInfo(zone_name)).date()


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime: give UTC-aware instants")
    return at


@dataclass(frozen=True)
class ShiftRule:
    """The values of a shift that the arithmetic needs (no ORM object, so it stays testable without a database)."""

    timezone: str
    start_time: time
    end_time: time
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    grace_in_minutes: int = 5
    grace_out_minutes: int = 5
    break_minutes: int = 0
    shift_id: int | None = None
    name: str | None = None
    half_day_below_minutes: int | None = None
    absent_below_minutes: int | None = None

    @classmethod
    def from_model(cls, shift) -> ShiftRule:
        return cls(timezone=shift.timezone, start_time=shift.start_time, end_time=shift.end_time,
                   weekdays=tuple(shift.weekdays or ()), grace_in_minutes=shift.grace_in_minutes,
                   grace_out_minutes=shift.grace_out_minutes, break_minutes=shift.break_minutes,
                   shift_id=shift.id, name=shift.name, half_day_below_minutes=shift.half_day_below_minutes,
                   absent_below_minutes=shift.absent_below_minutes)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def overnight(self) -> bool:
        return self.end_time <= self.start_time

    @property
    def nominal_length(self) -> timedelta:
        """Wall-clock length of the shift (24 h when end == start)."""
        length = as_delta(self.end_time) - as_delta(self.start_time)
        return length if length > timedelta(0) else length + DAY

    @property
    def day_offset(self) -> timedelta:
        """Local time of day at which a work day begins: start minus half the off-duty gap (may be negative)."""
        gap = DAY - self.nominal_length
        return as_delta(self.start_time) - gap / 2

    def scheduled_on(self, d: date) -> bool:
        return d.weekday() in self.weekdays
