"""`siaga check` says what the room's calendar holds, or why it cannot be read (one line)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.calendar_support import CalendarServer, calendar, event

ROOT = Path(__file__).resolve().parent.parent


def lines(done: subprocess.CompletedProcess) -> dict[str, str]:
    """check name -> its line (`siaga check` prints "ok    name    what  detail")."""
    return {line[6:14].strip(): line for line in done.stdout.splitlines()}


def run_check(tmp_path: Path, location: str) -> subprocess.CompletedProcess:
    path = tmp_path / "siaga.toml"
    path.write_text(f'[site]\nid = "rr1"\ncalendar = "{location}"\ntimezone = "Asia/Jakarta"\n'
                    '[[ups]]\nname = "meeting"\nport = 1\n[gpio]\npin_factory = "mock"\n')
    return subprocess.run([sys.executable, "-m", "edge.cli", "check", "-c", str(path)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_check_names_the_next_booking_then_the_problem(tmp_path: Path) -> None:
    start = (time.time() // 3600 + 2) * 3600
    server = CalendarServer(calendar(event("a@x", "Rapat anggaran", start, start + 3600)))
    try:
        done = run_check(tmp_path, server.url)
    finally:
        server.close()
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(start + 7 * 3600))   # in Jakarta
    assert lines(done)["agenda"] == (f"ok    agenda  {server.url}  1 booking in the next 8 days; "
                                     f"next: 'Rapat anggaran' at {when}")
    done = run_check(tmp_path, server.url)
    assert lines(done)["agenda"].startswith(f"FAIL  agenda  {server.url}  cannot be read: ")
    assert "the room works without a schedule" in lines(done)["agenda"]
    assert done.returncode == 1 and "Traceback" not in done.stderr


def test_check_names_a_bad_event_and_fails_without_a_traceback(tmp_path: Path) -> None:
    """A booking lost to a bad event is for IT to mend; `siaga check -c` was a traceback."""
    start = (time.time() // 3600 + 2) * 3600
    path = tmp_path / "room.ics"
    path.write_bytes(calendar(
        "BEGIN:VEVENT\nUID:bad@x\nSUMMARY:Rusak\nDTSTART:20261207T020000Z\n"
        "DTEND:20261207T030000Z\nRRULE:FREQ=MONTHLY;BYDAY=99MO\nEND:VEVENT",
        event("a@x", "Rapat anggaran", start, start + 3600)))
    done = run_check(tmp_path, str(path))
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(start + 7 * 3600))   # in Jakarta
    assert lines(done)["agenda"] == (f"FAIL  agenda  {path}  1 booking in the next 8 days; next: "
                                     f"'Rapat anggaran' at {when}; 1 bad event left out: bad@x: "
                                     "list index out of range")
    assert done.returncode == 1 and "Traceback" not in done.stderr
