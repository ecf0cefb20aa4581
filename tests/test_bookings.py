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
