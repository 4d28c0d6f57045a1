"""iCalendar (.ics, RFC 5545) holiday calendars, the format HR calendars export, parsed with `icalendar` and
recurrences (a yearly RRULE) expanded with `recurring_ical_events`: never by hand.

Each VEVENT gives one holiday per date it covers (an all-day event's DTEND is exclusive; a timed event counts the
dates of its start through its end, in its own zone); SUMMARY is the name. Cancelled events (STATUS:CANCELLED) are
skipped. Only dates in [start, end] are kept.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from server.errors import AppError

MAX_NAME = 200


class InvalidCalendar(AppError):
    status_code = 422
    code = "invalid_ics"
    message = "Not a readable iCalendar (.ics) file"


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def _dates(event) -> list[date]:
    start = event.get("DTSTART")
    if start is None:
        return []
    first = start.dt
    end = event.get("DTEND")
    if end is not None:
        last = end.dt
    elif event.get("DURATION") is not None:
        last = first + event["DURATION"].dt
    else:
        last = first
    all_day = not isinstance(first, datetime)
    first_d, last_d = _as_date(first), _as_date(last)
    if all_day and last_d > first_d:
        last_d -= timedelta(days=1)  # DTEND of an all-day event is the day after
    elif not all_day and isinstance(last, datetime) and last_d > first_d and last.time() == datetime.min.time():
        last_d -= timedelta(days=1)  # a timed event ending at midnight does not touch the next day
    out, d = [], first_d
    while d <= max(first_d, last_d):
        out.append(d)
        d += timedelta(days=1)
    return out


def parse(data: bytes, start: date, end: date) -> list[tuple[date, str]]:
    """(date, name) of every holiday in the calendar between start and end (inclusive), in date order; the first
    name wins when two events share a date."""
    import icalendar
    import recurring_ical_events

    try:
        cal = icalendar.Calendar.from_ical(data.decode("utf-8-sig") if isinstance(data, bytes) else data)
        events = list(recurring_ical_events.of(cal).between(start, end + timedelta(days=1)))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, AttributeError, IndexError) as exc:
        raise InvalidCalendar(detail=str(exc)[:200]) from None
    if cal.name != "VCALENDAR":
        raise InvalidCalendar()
    found: dict[date, str] = {}
    for event in events:
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        name = " ".join(str(event.get("SUMMARY", "") or "").split())[:MAX_NAME] or "Holiday"
        for d in _dates(event):
            if start <= d <= end:
                found.setdefault(d, name)
    return sorted(found.items())
