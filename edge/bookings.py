"""The room's bookings from an iCalendar file (CONTRACT §6.3): parse and expand, pure.

``icalendar`` reads the file and ``recurring-ical-events`` expands it: weekly rules, moved or
cancelled occurrences (RECURRENCE-ID, EXDATE), each event's own time zone and Google's
X-WR-TIMEZONE. No I/O here (edge/calendar.py fetches), no clock: the window is passed in.

What counts as a booking: an event with a start *time* and an end (DTEND or DURATION). An
all-day event (a date, no time) is a holiday or a room held for the day, not a meeting that
starts at a moment the room must be ready for: it is left out. An event without an end cannot
tell when the room is free again: it is left out and counted, so the edge can say so once.
A cancelled event (STATUS:CANCELLED) is no booking.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import icalendar
import recurring_ical_events

MAX_BOOKINGS = 2000          # in one window; more is not a meeting room's calendar
MAX_TITLE_CHARS = 200


class NotICalendar(ValueError):
    """The bytes are not an iCalendar file; the message says why in one sentence."""


@dataclass(frozen=True)
class Booking:
    """One booked meeting: wall-clock Unix times."""

    title: str
    start: float
    end: float


@dataclass(frozen=True)
class Expanded:
    """The bookings in a window and what was left out of it."""

    bookings: tuple[Booking, ...]
    no_end: int = 0            # events without DTEND or DURATION
    all_day: int = 0


@dataclass(frozen=True)
class Source:
    """A parsed calendar, its events without an end already taken out (and counted)."""

    calendar: Any              # icalendar.Calendar
    events: int = 0            # VEVENTs in the file
    no_end: int = 0            # timed events without DTEND or DURATION (left out)


def parse(data: bytes) -> Source:
    """The calendar in ``data``; NotICalendar when it is not one."""
    if not data.lstrip().upper().startswith(b"BEGIN:VCALENDAR"):
        raise NotICalendar("not an iCalendar file (it does not begin with BEGIN:VCALENDAR)")
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise NotICalendar(f"not a valid iCalendar file: {str(exc).splitlines()[0][:120]}") from None
    # recurring-ical-events gives an endless timed event a zero length: a booking that never
    # says when the room is free again is left out here, before the expansion fills DTEND in.
    kept, no_end = [], 0
    for part in calendar.subcomponents:
        if part.name == "VEVENT" and _timed(part) and "DTEND" not in part and "DURATION" not in part:
            no_end += 1
        else:
            kept.append(part)
    calendar.subcomponents = kept
    return Source(calendar, sum(1 for p in kept if p.name == "VEVENT") + no_end, no_end)


def expand(source: Source, start: float, end: float, zone: dt.tzinfo = dt.timezone.utc) -> Expanded:
    """The bookings that overlap [start, end), sorted by start; all-day and endless ones left out.
    ``zone``: the room's time zone, for times the file gives without one."""
    lo = dt.datetime.fromtimestamp(start, dt.timezone.utc)
    hi = dt.datetime.fromtimestamp(end, dt.timezone.utc)
    try:
        events = recurring_ical_events.of(source.calendar, skip_bad_series=True).between(lo, hi)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise NotICalendar(f"cannot expand the calendar's events: {str(exc)[:120]}") from None
    found, all_day = [], 0
    for event in events:
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        if not _timed(event):
            all_day += 1
            continue
        found.append(_booking(event, zone))
    found.sort(key=lambda b: (b.start, b.end, b.title))
    return Expanded(tuple(found[:MAX_BOOKINGS]), source.no_end, all_day)


def _timed(event: Any) -> bool:
    """The event starts at a time (not on a date: an all-day event)."""
    begin = event.get("DTSTART")
    return begin is not None and isinstance(begin.dt, dt.datetime)


def _booking(event: Any, zone: dt.tzinfo) -> Booking:
    start = _timestamp(event["DTSTART"].dt, zone)
    end = _timestamp(event["DTEND"].dt, zone) if "DTEND" in event else start + \
        event["DURATION"].dt.total_seconds()
    title = " ".join(str(event.get("SUMMARY", "")).split())[:MAX_TITLE_CHARS]
    return Booking(title, start, max(end, start))


def _timestamp(when: dt.datetime, zone: dt.tzinfo) -> float:
    """A floating time (no zone: "the local time wherever you are", RFC 5545) is the room's."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    return when.timestamp()
