"""The room's bookings from an iCalendar file (CONTRACT §6.3): parse and expand, pure.

``icalendar`` reads the file and ``recurring-ical-events`` expands it: weekly rules, moved or
cancelled occurrences (RECURRENCE-ID, EXDATE), each event's own time zone and Google's
X-WR-TIMEZONE. No I/O here (edge/calendar.py fetches), no clock: the window is passed in.

What counts as a booking: an event with a start *time* and an end (DTEND or DURATION). An
all-day event (a date, no time) is a holiday or a room held for the day, not a meeting that
starts at a moment the room must be ready for: it is left out. An event without an end cannot
tell when the room is free again: it is left out and counted, so the edge can say so once.
A cancelled event (STATUS:CANCELLED) is no booking.

A bad event costs only itself: one whose times do not parse, whose rule never moves on
(INTERVAL=0) or would make too many occurrences to expand (every second; hourly since the year
1), or that the expansion fails on (BYDAY=99MO, a duration of 270,000 years) is left out and
named in ``skipped``; the rest of the calendar is used.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import Any

import icalendar
import recurring_ical_events

MAX_BOOKINGS = 2000          # in one window; more is not a meeting room's calendar
MAX_TITLE_CHARS = 200
# dateutil walks a rule from its DTSTART: a daily rule since the year 1 is 740,000 steps (1.5 s,
# 40 MB); an hourly one 24 times that. And each occurrence in the window costs far more than a
# step (a rule every second for 8 days took a minute): a rule over either bound is left out.
MAX_RULE_STEPS = 1_000_000
PERIOD_S = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600}   # a day or longer: one a day at most
DAY_S = 86400
SKIPPED_SHOWN = 5            # the first few skipped events are named; the count says the rest


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
    skipped: tuple[str, ...] = ()   # bad events left out, each "UID: why"


@dataclass(frozen=True)
class Source:
    """A parsed calendar, its events without an end already taken out (and counted)."""

    calendar: Any              # icalendar.Calendar
    events: int = 0            # VEVENTs in the file
    no_end: int = 0            # timed events without DTEND or DURATION (left out)
    skipped: tuple[str, ...] = ()   # events whose properties cannot be read (left out)


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
    kept, no_end, skipped = [], 0, []
    for part in calendar.subcomponents:
        if part.name != "VEVENT":
            kept.append(part)
        elif problem := _unreadable(part):
            skipped.append(_named(part, problem))
        elif _timed(part) and "DTEND" not in part and "DURATION" not in part:
            no_end += 1
        else:
            kept.append(part)
    calendar.subcomponents = kept
    events = sum(1 for p in kept if p.name == "VEVENT") + no_end + len(skipped)
    return Source(calendar, events, no_end, tuple(skipped))


def expand(source: Source, start: float, end: float, zone: dt.tzinfo = dt.timezone.utc) -> Expanded:
    """The bookings that overlap [start, end), sorted by start; all-day and endless ones left out,
    a series that cannot be expanded left out and named. ``zone``: the room's time zone, for
    times the file gives without one."""
    lo = dt.datetime.fromtimestamp(start, dt.timezone.utc)
    hi = dt.datetime.fromtimestamp(end, dt.timezone.utc)
    zones = source.calendar.walk("VTIMEZONE")
    found: list[Booking] = []
    all_day, skipped = 0, list(source.skipped)
    for series in _series(source.calendar):
        try:
            problem = _runaway(series, start, end)
            if problem is None:
                bookings, whole_days = _expand_series(source.calendar, zones, series, lo, hi, zone)
                found += bookings
                all_day += whole_days
        except Exception as exc:   # noqa: BLE001 - whatever the library trips on costs one series
            problem = _first_line(exc)
        if problem:
            skipped.append(_named(series[0], problem))
    found.sort(key=lambda b: (b.start, b.end, b.title))
    return Expanded(tuple(found[:MAX_BOOKINGS]), source.no_end, all_day, tuple(skipped))


def _series(calendar: Any) -> list[list[Any]]:
    """The VEVENTs as recurring-ical-events groups them into series: by UID (a moved occurrence
    has its series' UID); an event without a UID alone."""
    groups: dict[object, list[Any]] = {}
    for part in calendar.walk("VEVENT"):   # a VCALENDAR nested in the file too, as the library
        groups.setdefault(str(part.get("UID", "")) or id(part), []).append(part)
    return list(groups.values())


def _expand_series(calendar: Any, zones: list[Any], series: list[Any], lo: dt.datetime,
                   hi: dt.datetime, zone: dt.tzinfo) -> tuple[list[Booking], int]:
    """One series expanded by itself with the calendar's time zones (and its X-WR-TIMEZONE):
    its bookings in [lo, hi) and how many all-day occurrences were left out. 5,000 series take
    no longer one by one than in one call."""
    one = copy.copy(calendar)
    one.subcomponents = zones + series
    found, all_day = [], 0
    for event in recurring_ical_events.of(one).between(lo, hi):   # a bad series raises: named
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        if not _timed(event):
            all_day += 1
            continue
        found.append(_booking(event, zone))
    return found, all_day


def _unreadable(event: Any) -> str | None:
    """Why ``event`` cannot be expanded: a time or rule that does not parse (icalendar keeps it as
    a broken property that raises when read); or None."""
    try:
        for name in ("DTSTART", "DTEND", "DURATION", "RECURRENCE-ID"):
            if name in event:
                event[name].dt   # noqa: B018 - raises on "DTSTART:2025130T"
        for rule in _rules(event):
            rule.get("FREQ")
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        return _first_line(exc)
    return None


def _runaway(series: list[Any], start: float, end: float) -> str | None:
    """Why expanding a rule of ``series`` up to ``end`` would cost too much, or None: its steps
    from DTSTART (dateutil's work) or its occurrences in [start, end) (each a copy of the event),
    counted generously: a rule of a day or longer at most once a day, times BYHOUR, BYMINUTE,
    BYSECOND."""
    for event in series:
        for rule in _rules(event):
            if "DTSTART" not in event:
                continue
            freq, interval = rule.get("FREQ", [""])[0], rule.get("INTERVAL", [1])[0]
            if interval < 1:   # dateutil repeats the same start forever: the reader's memory
                return f"RRULE INTERVAL={interval} never moves on"
            per_day = DAY_S / PERIOD_S.get(str(freq).upper(), DAY_S) / interval
            for part in ("BYHOUR", "BYMINUTE", "BYSECOND"):
                per_day *= len(rule.get(part, ())) or 1
            begin = _seconds(event["DTSTART"].dt)
            last = min(end, _seconds(rule["UNTIL"][0])) if "UNTIL" in rule else end
            count = rule.get("COUNT", [float("inf")])[0]
            steps = min(count, per_day * max(last - begin, 0) / DAY_S)
            inside = min(count, per_day * max(last - max(begin, start), 0) / DAY_S)
            if steps > MAX_RULE_STEPS or inside > MAX_BOOKINGS:
                return f"RRULE {rule.to_ical().decode()} repeats too often to expand"
    return None


def _rules(event: Any) -> list[Any]:
    """The event's RRULEs (icalendar gives one alone, several as a list)."""
    rules = event.get("RRULE", [])
    return list(rules) if isinstance(rules, list) else [rules]


def _seconds(when: dt.date) -> float:
    """A date or time as Unix seconds, a floating one as UTC (for estimates: a day either way)."""
    if not isinstance(when, dt.datetime):
        when = dt.datetime(when.year, when.month, when.day)
    return (when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)).timestamp()


def _named(event: Any, problem: str) -> str:
    """'UID: why', for the log line that says which events were left out."""
    uid = " ".join(str(event.get("UID", "")).split())[:80] or "(no UID)"
    return f"{uid}: {problem}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0][:160] if text else "") or type(exc).__name__


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
