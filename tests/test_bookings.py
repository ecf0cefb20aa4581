"""The room's bookings from iCalendar: repetitions, exceptions, time zones, all-day, bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from edge.bookings import NotICalendar, expand, parse
from tests.calendar_support import calendar, event, weekly_with_exceptions

# Monday 2026-12-07 09:00 in Jakarta (02:00 UTC): fixed, so no machine time zone matters.
FIRST = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.timezone.utc).timestamp()
WEEK = 7 * 86400


def test_weekly_meeting_with_a_moved_and_a_cancelled_week_and_other_zones() -> None:
    """What the room page would list: 3 weekly meetings (one moved 4 h later, one cancelled),
    the Tokyo call at its real moment, no all-day holiday."""
    got = expand(parse(weekly_with_exceptions(FIRST)), FIRST - 3600, FIRST + 5 * WEEK)
    assert [(b.title, b.start - FIRST, b.end - b.start) for b in got.bookings] == [
        ("Rapat mingguan", 0, 3600),
        ("Tokyo call", 6 * 3600, 1800),   # 17:00 in Tokyo = 15:00 in Jakarta = 08:00 UTC
        ("Rapat mingguan (dipindah)", WEEK + 4 * 3600, 3600),
        ("Rapat mingguan", 3 * WEEK, 3600),
    ]
    assert got.all_day == 1


def test_event_without_an_end_is_left_out_and_counted() -> None:
    source = parse(calendar(event("a@x", "Tanpa akhir", FIRST, None),
                            event("b@x", "Rapat", FIRST, FIRST + 1800)))
    got = expand(source, FIRST - 60, FIRST + 86400)
    assert [b.title for b in got.bookings] == ["Rapat"]
    assert (source.events, got.no_end) == (2, 1)


def test_floating_time_is_the_rooms_time_zone() -> None:
    """DTSTART without a zone (RFC 5545's floating time) is read in the room's zone."""
    from zoneinfo import ZoneInfo
    floating = calendar("BEGIN:VEVENT\nUID:f@x\nSUMMARY:Lokal\nDTSTART:20261207T090000\n"
                        "DTEND:20261207T100000\nEND:VEVENT")
    got = expand(parse(floating), FIRST - 86400, FIRST + 86400, ZoneInfo("Asia/Jakarta"))
    assert [b.start for b in got.bookings] == [FIRST]


def test_cancelled_event_is_no_booking() -> None:
    got = expand(parse(calendar(event("c@x", "Batal", FIRST, FIRST + 60, extra="STATUS:CANCELLED"))),
                 FIRST - 60, FIRST + 3600)
    assert got.bookings == ()


@pytest.mark.parametrize("data", [b"", b"<html>Login</html>", b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n",
                                  b"\x00\xff" * 100])
def test_not_icalendar_is_one_sentence(data: bytes) -> None:
    with pytest.raises(NotICalendar) as caught:
        expand(parse(data), FIRST, FIRST + WEEK)
    assert "\n" not in str(caught.value) and "iCalendar" in str(caught.value)


def test_past_bookings_are_outside_the_window() -> None:
    got = expand(parse(calendar(event("p@x", "Lalu", FIRST - 10 * 86400, FIRST - 10 * 86400 + 60))),
                 FIRST - 86400, FIRST + WEEK)
    assert got.bookings == ()


# One bad event beside a good one: the bad one is left out and named, the good one kept. Each
# of these killed the edge's calendar thread (an exception) or hung it (INTERVAL=0: dateutil
# repeats the same start forever, 40 MB/s) or took a minute (every second for 8 days).
@pytest.mark.timeout(20)
@pytest.mark.parametrize("lines, why", [
    ("DTSTART:2025130T\nDTEND:20261207T030000Z", "Wrong date format 2025130T"),
    ("DTSTART:20261207T020000Z\nDURATION:P99999999D", "date value out of range"),
    ("DTSTART:20261207T020000Z\nDTEND:20261207T030000Z\nRRULE:FREQ=MONTHLY;BYDAY=99MO",
     "list index out of range"),
    ("DTSTART:20261207T020000Z\nDTEND:20261207T030000Z\nRRULE:FREQ=DAILY;INTERVAL=0",
     "RRULE INTERVAL=0 never moves on"),
    ("DTSTART:20261207T020000Z\nDTEND:20261207T030000Z\nRRULE:FREQ=SECONDLY",
     "RRULE FREQ=SECONDLY repeats too often to expand"),
    ("DTSTART:00010101T000000Z\nDTEND:00010101T010000Z\nRRULE:FREQ=HOURLY",
     "RRULE FREQ=HOURLY repeats too often to expand"),
    ("DTSTART:20261207T020000Z\nDTEND:20261207T030000Z\nEXDATE:nonsense", "Wrong date format nonsense"),
])
def test_a_bad_event_is_left_out_and_named_and_the_rest_kept(lines: str, why: str) -> None:
    bad = f"BEGIN:VEVENT\nUID:bad@x\nSUMMARY:Rusak\n{lines}\nEND:VEVENT"
    source = parse(calendar(bad, event("good@x", "Rapat", FIRST + 3600, FIRST + 7200)))
    got = expand(source, FIRST - 86400, FIRST + WEEK)
    assert [(b.title, b.start) for b in got.bookings] == [("Rapat", FIRST + 3600)]
    assert len(got.skipped) == 1 and got.skipped[0].startswith("bad@x: ")
    assert why in got.skipped[0] and "\n" not in got.skipped[0]
    assert source.events == 2


def test_rules_of_a_meeting_room_are_not_runaways() -> None:
    """Every weekday since 1990, yearly since the year 1, every 15 minutes for a week: expanded."""
    got = expand(parse(calendar(
        event("w@x", "Harian", FIRST - 36 * 365 * 86400, FIRST - 36 * 365 * 86400 + 1800,
              extra="RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        "BEGIN:VEVENT\nUID:y@x\nSUMMARY:Tahunan\nDTSTART:00011207T030000Z\nDTEND:00011207T040000Z\n"
        "RRULE:FREQ=YEARLY\nEND:VEVENT",
        event("q@x", "Piket", FIRST, FIRST + 600, extra="RRULE:FREQ=MINUTELY;INTERVAL=15;COUNT=672"))),
        FIRST - 3600, FIRST + 86400)
    assert got.skipped == ()
    titles = [b.title for b in got.bookings]
    assert (titles.count("Harian"), titles.count("Tahunan"), titles.count("Piket")) == (1, 1, 96)
