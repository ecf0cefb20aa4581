"""The room's calendar fetched (``[site] calendar``: a URL or a file), off the edge's loop.

A thread reads it on start and every ``site.calendar_refresh_s``, asking the server only for a
changed file (ETag / If-Modified-Since; a file by its mtime), and expands the next days into
bookings (edge/bookings.py). The loop only reads ``bookings()``: a server that takes 30 s to
answer never delays a UPS poll. A calendar that cannot be read keeps the last good copy, and
the problem is logged once (and once more when it is read again); ``failing()`` tells the room
core since when it cannot be read, and the core says so once that has lasted (edge.room).
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from email.utils import formatdate
from pathlib import Path
from zoneinfo import ZoneInfo

from edge.bookings import SKIPPED_SHOWN, Booking, Expanded, NotICalendar, Source, expand, parse

logger = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 20.0
MAX_BYTES = 20 * 1024 * 1024     # a year of a busy room is well under 1 MB
HORIZON_S = 8 * 86400.0          # bookings this far ahead are expanded (the page shows the next)
BEHIND_S = 86400.0               # and this far back (a meeting running now started before)
# An unchanged calendar is expanded again only this often: 5,000 events take seconds of CPU
# (bench/calendar_bench.py) and the window reaches 8 days ahead, so an hour's shift is nothing.
REEXPAND_S = 3600.0


@dataclass(frozen=True)
class Fetched:
    """One answer of the source: new bytes, or None when unchanged since the last."""

    data: bytes | None
    etag: str = ""
    modified: str = ""


def is_url(location: str) -> bool:
    """An http(s) or webcal address, not a file."""
    return location.split("://", 1)[0].lower() in ("http", "https", "webcal")


def fetch(location: str, etag: str = "", modified: str = "",
          timeout: float = FETCH_TIMEOUT_S) -> Fetched:
    """Read the calendar; OSError (with a one-line reason) when it cannot be read."""
    if not is_url(location):
        path = Path(location)
        stamp = str(path.stat().st_mtime_ns)
        if stamp == modified:
            return Fetched(None, "", stamp)
        return Fetched(_bounded(path.open("rb")), "", stamp)
    url = "https://" + location.split("://", 1)[1] if location.lower().startswith("webcal") else location
    request = urllib.request.Request(url, headers={"User-Agent": "siaga-edge"})
    if etag:
        request.add_header("If-None-Match", etag)
    if modified:
        request.add_header("If-Modified-Since", modified)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - the admin's URL
            return Fetched(_bounded(answer), answer.headers.get("ETag", ""),
                           answer.headers.get("Last-Modified", "") or formatdate(usegmt=True))
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return Fetched(None, etag, modified)
        raise OSError(f"the server answered {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise OSError(str(getattr(exc.reason, "strerror", None) or exc.reason)) from None
    except (TimeoutError, ValueError) as exc:
        raise OSError(str(exc) or "timed out") from None


def _bounded(stream) -> bytes:
    with stream:
        data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise OSError(f"larger than {MAX_BYTES // 1024 // 1024} MB")
    return data


class RoomCalendar:
    """The bookings of ``[site] calendar``, refreshed by a thread; empty when not configured."""

    def __init__(self, location: str, refresh_s: float = 300.0, timezone: str = "Asia/Jakarta",
                 clock=time.time, mono=time.monotonic) -> None:
        self.location, self.refresh_s, self.clock, self.mono = location, refresh_s, clock, mono
        self.zone = ZoneInfo(timezone)
        self._source: Source | None = None
        self._etag = self._modified = ""
        self._expanded = Expanded(())
        self._expanded_at: float | None = None
        self.problem: str | None = None        # why the last read failed; None when it worked
        self.read = False                      # a read has ended, well or not
        self._failing: tuple[float, str] | None = None   # (monotonic first failure, why): one read
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def bookings(self) -> tuple[Booking, ...]:
        """The bookings of the last good copy (one attribute read: safe from the loop)."""
        return self._expanded.bookings

    def skipped(self) -> tuple[str, ...]:
        """The bad events the last good copy left out ("UID: why")."""
        return self._expanded.skipped

    def failing(self) -> tuple[float, str] | None:
        """(since when, on the monotonic clock, the calendar cannot be read; why), or None while
        the last read worked (or none has ended yet: see ``read``)."""
        return self._failing

    def refresh(self) -> None:
        """Read the calendar if it changed, and expand the window around now."""
        try:
            got = fetch(self.location, self._etag, self._modified)
            if got.data is not None:
                self._source, self._expanded_at = parse(got.data), None
            self._etag, self._modified = got.etag, got.modified
            self._expand()
            self._fine(got.data is not None)
        except (OSError, NotICalendar) as exc:
            self._failed(str(exc).strip() or type(exc).__name__)
            self._keep_going()
        except Exception as exc:   # noqa: BLE001 - a surprise must not end the schedule's thread
            self._failed(f"{type(exc).__name__}: {str(exc).strip()[:160]}")

    def _expand(self) -> None:
        """The window around now expanded again when the file changed, or once an hour."""
        now = self.clock()
        if self._source is not None and (self._expanded_at is None
                                         or not 0 <= now - self._expanded_at < REEXPAND_S):
            self._expanded = expand(self._source, now - BEHIND_S, now + HORIZON_S, self.zone)
            self._expanded_at = now

    def _keep_going(self) -> None:
        """The last good copy moves on with the clock while the calendar cannot be read: a
        weekly meeting in it is still booked after 8 days without the server."""
        try:
            self._expand()
        except Exception as exc:   # noqa: BLE001 - a surprise must not end the schedule's thread
            self._failed(f"{type(exc).__name__}: {str(exc).strip()[:160]}")

    def _fine(self, new: bool) -> None:
        """One line for a new file or a calendar read again after a problem, not every refresh."""
        if (new or self.problem is not None) and self._source is not None:
            skipped = self._expanded.skipped
            logger.log(logging.WARNING if skipped else logging.INFO,
                       "calendar %s read: %d events, %d bookings in the next days%s%s",
                       self.location, self._source.events, len(self._expanded.bookings),
                       self._left_out(), f"; {skipped_text(skipped)}" if skipped else "")
        self._failing = self.problem = None
        self.read = True

    def _left_out(self) -> str:
        e = self._expanded
        parts = ([f"{e.no_end} without an end"] if e.no_end else []) + \
            ([f"{e.all_day} all-day"] if e.all_day else [])
        return f" ({' and '.join(parts)} left out: not meeting bookings)" if parts else ""

    def _failed(self, why: str) -> None:
        if self._stop.is_set():   # a fetch that outlived the edge's stop: nobody to tell
            return
        if why != self.problem:
            kept = "keeping the last good copy" if self._source is not None else \
                "the room works without a schedule"
            logger.warning("calendar %s cannot be read: %s; %s", self.location, why, kept)
        self._failing = (self.mono() if self._failing is None else self._failing[0], why)
        self.problem = why
        self.read = True

    def start(self) -> None:
        """Read now and every refresh_s, in a daemon thread."""
        self._thread = threading.Thread(target=self._run, name="siaga-calendar", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self.refresh()
            if self._stop.wait(self.refresh_s):
                return

    def stop(self) -> None:
        """Stop the thread (a fetch under way finishes within its timeout, unwaited)."""
        self._stop.set()


def skipped_text(skipped: tuple[str, ...]) -> str:
    """'2 bad events left out: u1: Wrong date format; u2: ...' (the first few named)."""
    shown = "; ".join(skipped[:SKIPPED_SHOWN]) + ("; ..." if len(skipped) > SKIPPED_SHOWN else "")
    n = len(skipped)
    return f"{n} bad event{'' if n == 1 else 's'} left out: {shown}"


def describe(location: str, refresh_s: float, timezone: str, now: float | None = None) -> tuple[bool, str]:
    """For `siaga check`: read the calendar once; (ok, one line: what it holds or why not)."""
    cal = RoomCalendar(location, refresh_s, timezone, clock=(lambda: now) if now else time.time)
    cal.refresh()
    if cal.problem is not None:
        return False, f"cannot be read: {cal.problem}; the room works without a schedule"
    found = cal.bookings()
    upcoming = [b for b in found if b.end > cal.clock()]
    skipped = cal.skipped()   # a booking lost to a bad event is for IT to mend: a FAIL
    bad = f"; {skipped_text(skipped)}" if skipped else ""
    if not upcoming:
        return not skipped, f"no booking in the next 8 days{bad}"
    first = upcoming[0]
    when = datetime.fromtimestamp(first.start, cal.zone).strftime("%Y-%m-%d %H:%M")
    n = len(upcoming)
    return not skipped, (f"{n} booking{'' if n == 1 else 's'} in the next 8 days; next: "
                         f"{first.title!r} at {when}{bad}")
