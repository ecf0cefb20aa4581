"""Calendars for the schedule tests: iCalendar text built around a given time, and a tiny
http.server on 127.0.0.1 that serves it with ETag / Last-Modified (and can be slow or wrong)."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

JAKARTA_VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Asia/Jakarta
BEGIN:STANDARD
DTSTART:19700101T000000
TZOFFSETFROM:+0700
TZOFFSETTO:+0700
TZNAME:WIB
END:STANDARD
END:VTIMEZONE"""


def stamp(ts: float, zone: str = "UTC") -> str:
    """An iCalendar DATE-TIME in ``zone`` (UTC with a Z)."""
    when = dt.datetime.fromtimestamp(ts, dt.timezone.utc)
    if zone == "UTC":
        return when.strftime("%Y%m%dT%H%M%SZ")
    from zoneinfo import ZoneInfo
    return when.astimezone(ZoneInfo(zone)).strftime("%Y%m%dT%H%M%S")


def event(uid: str, title: str, start: float, end: float | None, zone: str = "UTC",
          extra: str = "") -> str:
    """One VEVENT; ``end`` None: an event without an end."""
    tz = "" if zone == "UTC" else f";TZID={zone}"
    lines = ["BEGIN:VEVENT", f"UID:{uid}", f"SUMMARY:{title}", f"DTSTAMP:{stamp(start)}",
             f"DTSTART{tz}:{stamp(start, zone)}"]
    if end is not None:
        lines.append(f"DTEND{tz}:{stamp(end, zone)}")
    return "\n".join(lines + ([extra] if extra else []) + ["END:VEVENT"])


def calendar(*events: str) -> bytes:
    """A VCALENDAR around ``events`` (Asia/Jakarta defined in it, as Google writes it)."""
    body = "\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Siaga tests//EN",
                      JAKARTA_VTIMEZONE, *events, "END:VCALENDAR"])
    return body.replace("\n", "\r\n").encode()


def weekly_with_exceptions(first: float) -> bytes:
    """A weekly 1-hour meeting from ``first`` (4 weeks, Asia/Jakarta); week 2 moved 4 h later,
    week 3 cancelled (EXDATE); an all-day event; a call booked in Asia/Tokyo on day 1 at +6 h."""
    week = 7 * 86400
    jkt = "Asia/Jakarta"
    day = dt.datetime.fromtimestamp(first + 86400, dt.timezone.utc).strftime("%Y%m%d")
    next_day = dt.datetime.fromtimestamp(first + 2 * 86400, dt.timezone.utc).strftime("%Y%m%d")
    return calendar(
        event("weekly@siaga", "Rapat mingguan", first, first + 3600, jkt,
              f"RRULE:FREQ=WEEKLY;COUNT=4\nEXDATE;TZID={jkt}:{stamp(first + 2 * week, jkt)}"),
        event("weekly@siaga", "Rapat mingguan (dipindah)", first + week + 4 * 3600,
              first + week + 5 * 3600, jkt, f"RECURRENCE-ID;TZID={jkt}:{stamp(first + week, jkt)}"),
        "\n".join(["BEGIN:VEVENT", "UID:holiday@siaga", "SUMMARY:Libur", f"DTSTAMP:{stamp(first)}",
                   f"DTSTART;VALUE=DATE:{day}", f"DTEND;VALUE=DATE:{next_day}", "END:VEVENT"]),
        "BEGIN:VTIMEZONE\nTZID:Asia/Tokyo\nBEGIN:STANDARD\nDTSTART:19700101T000000\n"
        "TZOFFSETFROM:+0900\nTZOFFSETTO:+0900\nTZNAME:JST\nEND:STANDARD\nEND:VTIMEZONE",
        event("tokyo@siaga", "Tokyo call", first + 6 * 3600, first + 6.5 * 3600, "Asia/Tokyo"),
    )


class CalendarServer:
    """Serves ``body`` at /room.ics on a free loopback port; counts requests and 304s.
    ``html`` set: answers 200 with a web page instead (a login page, a moved calendar);
    ``close`` then ``start`` again: the server down and back on the same port."""

    def __init__(self, body: bytes = b"", delay_s: float = 0.0) -> None:
        self.body, self.delay_s = body, delay_s
        self.html = False
        self.requests: list[dict[str, str]] = []
        self.not_modified = 0
        self.modified = formatdate(usegmt=True)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.requests.append(dict(self.headers))
                if server.delay_s:
                    threading.Event().wait(server.delay_s)
                if server.html:
                    page = b"<!DOCTYPE html><html><body>Sign in to continue</body></html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return
                etag = '"' + hashlib.sha256(server.body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    server.not_modified += 1
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/calendar")
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", server.modified)
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, *args) -> None:
                pass

        self.handler = Handler
        self.port = 0
        self.start()
        self.url = f"http://127.0.0.1:{self.port}/room.ics"

    def start(self) -> None:
        """Listen (on the same port after a ``close``)."""
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), self.handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
