"""The calendar fetched from a real HTTP server on 127.0.0.1 (or a file): conditional requests,
the last good copy kept, one log line per problem, never waiting on a slow server."""

from __future__ import annotations

import logging
import os
import time

import pytest

from edge.calendar import RoomCalendar
from tests.calendar_support import CalendarServer, calendar, event, weekly_with_exceptions


@pytest.fixture
def server():
    running = []

    def start(body: bytes = b"", delay_s: float = 0.0) -> CalendarServer:
        running.append(CalendarServer(body, delay_s))
        return running[-1]

    yield start
    for s in running:
        s.close()


def test_reads_bookings_then_asks_only_for_a_change(server) -> None:
    now = time.time()
    srv = server(weekly_with_exceptions(now + 3600))
    cal = RoomCalendar(srv.url)
    cal.refresh()
    assert [b.title for b in cal.bookings()][:2] == ["Rapat mingguan", "Tokyo call"]
    cal.refresh()
    assert srv.requests[1].get("If-None-Match") and srv.not_modified == 1
    assert len(cal.bookings()) == 3 and cal.problem is None   # week 3 is past the 8-day horizon


def test_unreachable_keeps_the_last_good_copy_and_says_so_once(server, caplog) -> None:
    now = time.time()
    srv = server(calendar(event("a@x", "Rapat", now + 3600, now + 7200)))
    cal = RoomCalendar(srv.url)
    cal.refresh()
    srv.close()
    caplog.set_level(logging.INFO, logger="edge.calendar")
    for _ in range(3):
        cal.refresh()
    assert [b.title for b in cal.bookings()] == ["Rapat"]
    assert cal.problem
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "keeping the last good copy" in warnings[0]


def test_the_last_good_copy_moves_on_with_the_clock_while_the_server_is_down(server) -> None:
    # A weekly meeting, the server gone for 9 days: the copy kept still books next week's
    # meeting (the bookings ran out 8 days after the last read, so the room had no schedule).
    clock = [float(int(time.time()))]
    week = 7 * 86400
    srv = server(calendar(event("w@x", "Rapat mingguan", clock[0] + 3600, clock[0] + 7200,
                                "Asia/Jakarta", "RRULE:FREQ=WEEKLY")))
    cal = RoomCalendar(srv.url, clock=lambda: clock[0])
    cal.refresh()
    srv.close()
    clock[0] += 9 * 86400
    cal.refresh()
    upcoming = [b.start - clock[0] for b in cal.bookings() if b.end > clock[0]]
    assert cal.problem and upcoming[:1] == [2 * week + 3600 - 9 * 86400]   # in 5 days and 1 h


def test_not_icalendar_and_a_404_are_one_line_each(server, caplog) -> None:
    srv = server(b"<html><body>Please sign in</body></html>")
    caplog.set_level(logging.WARNING, logger="edge.calendar")
    cal = RoomCalendar(srv.url)
    cal.refresh()
    cal.refresh()
    missing = RoomCalendar(srv.url.replace("127.0.0.1:", "127.0.0.1:1") + "x")
    missing.refresh()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert "not an iCalendar file" in lines[0] and "without a schedule" in lines[0]
    assert cal.bookings() == () and missing.bookings() == ()


def test_a_file_is_read_again_only_when_it_changed(tmp_path) -> None:
    now = time.time()
    path = tmp_path / "room.ics"
    path.write_bytes(calendar(event("a@x", "Satu", now + 60, now + 120)))
    cal = RoomCalendar(str(path))
    cal.refresh()
    path.write_bytes(calendar(event("a@x", "Dua", now + 60, now + 120)))
    cal.refresh()
    assert [b.title for b in cal.bookings()] == ["Dua"]
    path.unlink()
    cal.refresh()
    assert [b.title for b in cal.bookings()] == ["Dua"] and "No such file" in cal.problem


def test_a_slow_server_never_holds_up_the_reader(server) -> None:
    """A 30 s answer: start() returns at once and bookings() answers meanwhile."""
    srv = server(calendar(event("a@x", "Rapat", time.time() + 60, time.time() + 120)), delay_s=30)
    cal = RoomCalendar(srv.url)
    began = time.monotonic()
    cal.start()
    assert cal.bookings() == ()
    assert time.monotonic() - began < 10   # the answer takes 30 s; a loaded machine is slow too
    cal.stop()


def test_five_thousand_events_keep_the_next_days_only(server) -> None:
    now = time.time()
    body = calendar(*(event(f"e{i}@x", f"Rapat {i}", now + i * 6300, now + i * 6300 + 3600)
                      for i in range(5000)))
    cal = RoomCalendar(server(body).url)
    cal.refresh()
    starts = [b.start for b in cal.bookings()]
    assert 100 < len(starts) < 120 and starts == sorted(starts)


def bad_event(uid: str) -> str:
    """An event whose DTSTART does not parse (icalendar raises when it is read)."""
    return f"BEGIN:VEVENT\nUID:{uid}\nSUMMARY:Rusak\nDTSTART:2025130T\nDTEND:20261207T030000Z\nEND:VEVENT"


def test_a_bad_event_is_one_line_and_the_rest_is_used(tmp_path, caplog) -> None:
    now = time.time()
    path = tmp_path / "room.ics"
    path.write_bytes(calendar(bad_event("bad@x"), event("a@x", "Rapat", now + 3600, now + 7200)))
    caplog.set_level(logging.INFO, logger="edge.calendar")
    cal = RoomCalendar(str(path))
    cal.refresh()
    cal.refresh()
    assert [b.title for b in cal.bookings()] == ["Rapat"] and cal.problem is None
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and caplog.records[0].levelno == logging.WARNING
    assert lines[0].endswith("; 1 bad event left out: bad@x: Cannot access 'dt' on broken property "
                             "'DTSTART' (expected 'vDDDTypes'): Wrong date format 2025130T")


def test_the_reader_survives_any_error_and_reads_the_next_file(tmp_path, caplog, monkeypatch) -> None:
    """An error no one foresaw once ended the calendar's thread: the schedule was lost until a
    restart, a mended file never read. Now: one line, the last good copy, the next file read."""
    import edge.calendar as module
    now = time.time()
    path = tmp_path / "room.ics"
    path.write_bytes(calendar(event("a@x", "Satu", now + 3600, now + 7200)))
    cal = RoomCalendar(str(path), refresh_s=0.05)
    cal.refresh()
    caplog.set_level(logging.WARNING, logger="edge.calendar")

    def broken(data: bytes):
        raise IndexError("list index out of range")

    monkeypatch.setattr(module, "parse", broken)
    path.write_bytes(calendar(event("a@x", "Dua", now + 3600, now + 7200)))
    os.utime(path, ns=(1, 1))    # a new mtime whatever the file system's clock resolution
    cal.start()
    try:
        wait_for(lambda: cal.problem is not None)
        assert [b.title for b in cal.bookings()] == ["Satu"]
        assert [r.getMessage() for r in caplog.records] == [
            f"calendar {path} cannot be read: IndexError: list index out of range; keeping the "
            "last good copy"]
        monkeypatch.undo()
        path.write_bytes(calendar(event("a@x", "Tiga", now + 3600, now + 7200)))
        os.utime(path, ns=(2, 2))
        wait_for(lambda: [b.title for b in cal.bookings()] == ["Tiga"])
        assert cal.problem is None and cal._thread is not None and cal._thread.is_alive()
    finally:
        cal.stop()


def wait_for(condition, deadline_s: float = 30.0) -> None:
    """Poll ``condition`` until true (the thread refreshes every 0.05 s); fail after the deadline."""
    end = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < end, "condition not met"
        time.sleep(0.02)
