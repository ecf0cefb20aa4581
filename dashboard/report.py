"""The needs report (CONTRACT §5.8): journal events -> outages, meetings, conversions. Pure.

No I/O here: the readers (dashboard/report_data.py) hand in each site's events, oldest first, and
the window; the time zone is passed in. One site is reduced at a time to a small ``SiteFacts``
(a year of 500 rooms never sits in memory as events), and ``office`` adds the facts up.

The rules, each printed beside its number by the report:
- only events inside the window count; a span still open at the window's end is cut there;
- an outage is a ``power_lost`` and the next ``power_restored``; its length is
  ``power_restored.detail.duration_s``. When a second ``power_lost`` comes first (the restore was
  never journaled), the first outage ends at its last journaled step (notice, wrap-up, shutdown,
  ...), or at its start when it has none, and counts as ``unended``;
- a meeting (conversion) runs from ``meeting_started`` (``conversion_started``) to the ``_ended``
  of the same PC, or to that PC going offline; a second start while one runs is the same meeting.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, NamedTuple
from zoneinfo import ZoneInfo

from edge.messages import EventKind as K

# The steps of an outage: the last one journaled is where an outage without its restore ends.
OUTAGE_STEPS = frozenset({K.LOW_BATTERY, K.NOTICE_SENT, K.WRAPUP_SENT, K.SHUTDOWN_SENT, K.PC_ACK,
                          K.PC_OFF, K.SHUTDOWN_HELD, K.RUNTIME_ESTIMATED})
PC_GONE = frozenset({K.PC_OFFLINE, K.PC_OFF})
SPAN_KINDS = {K.MEETING_STARTED: ("meeting", True), K.MEETING_ENDED: ("meeting", False),
              K.CONVERSION_STARTED: ("conversion", True), K.CONVERSION_ENDED: ("conversion", False)}


class Ev(NamedTuple):
    """One journal event as the report needs it (``detail`` may be {} for kinds it ignores)."""

    ts: float
    kind: str
    pc: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class Window:
    """[start, end) in Unix seconds: local midnight of ``first`` to the midnight after ``last``."""

    first: dt.date
    last: dt.date
    start: float
    end: float


@dataclass(frozen=True)
class Outage:
    """One outage inside the window."""

    start: float
    end: float
    length: float
    shutdown: bool
    unended: bool
    load_pct: float | None
    runtime_s: float | None


@dataclass(frozen=True)
class Span:
    """One meeting or conversion on one PC."""

    pc: str
    start: float
    end: float


@dataclass
class SiteFacts:
    """What one site's events say, small enough to keep for 500 sites."""

    site: str
    outages: list[Outage] = field(default_factory=list)
    meetings: list[Span] = field(default_factory=list)
    conversions: list[Span] = field(default_factory=list)
    delayed: int = 0
    has_meeting_events: bool = False
    selftests: list[tuple[float, bool, str]] = field(default_factory=list)
    replace_battery: int = 0
    events: int = 0


def window(first: dt.date, last: dt.date, zone: ZoneInfo, now: float) -> Window:
    """The window of local days ``first``..``last``; it never reaches past ``now``."""
    start = dt.datetime.combine(first, dt.time(), zone).timestamp()
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone).timestamp()
    return Window(first, last, start, max(start, min(end, now)))


def number(value: Any) -> float | None:
    """A JSON number as float; None for anything else (bools, strings, NaN)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


class _Reader:
    """Walks one site's events in order and collects its spans."""

    def __init__(self, site: str, win: Window) -> None:
        self.win = win
        self.facts = SiteFacts(site)
        self.outage: dict[str, Any] | None = None
        self.open: dict[str, dict[str, float]] = {"meeting": {}, "conversion": {}}

    def feed(self, e: Ev) -> None:
        if not self.win.start <= e.ts < self.win.end:
            return
        self.facts.events += 1
        if e.kind in SPAN_KINDS:
            self._span(e, *SPAN_KINDS[e.kind])
        elif e.kind == K.POWER_LOST:
            if self.outage is not None:
                self._close_outage(self.outage["last"], None, unended=True)
            self.outage = {"start": e.ts, "last": e.ts, "shutdown": False,
                           "load": number(e.detail.get("load_pct")),
                           "runtime": number(e.detail.get("runtime_s"))}
        elif e.kind == K.POWER_RESTORED:
            if self.outage is not None:
                self._close_outage(e.ts, number(e.detail.get("duration_s")), unended=False)
        elif e.kind in PC_GONE:
            for what in self.open:
                self._end(what, e.pc, e.ts)
        elif e.kind == K.UPS_SELFTEST:
            self.facts.selftests.append((e.ts, e.detail.get("ok") is True, str(e.detail.get("detail", ""))))
        elif e.kind == K.REPLACE_BATTERY:
            self.facts.replace_battery += 1
        if self.outage is not None and e.kind in OUTAGE_STEPS:
            self.outage["last"] = e.ts
            self.outage["shutdown"] |= e.kind == K.SHUTDOWN_SENT

    def _span(self, e: Ev, what: str, starts: bool) -> None:
        self.facts.has_meeting_events = True
        running = self.open[what]
        if not starts:
            self._end(what, e.pc, e.ts)
        elif e.pc not in running:
            running[e.pc] = e.ts
            if what == "meeting" and e.pc in self.open["conversion"]:
                self.facts.delayed += 1

    def _end(self, what: str, pc: str, ts: float) -> None:
        started = self.open[what].pop(pc, None)
        if started is not None:
            spans = self.facts.meetings if what == "meeting" else self.facts.conversions
            spans.append(Span(pc, started, ts))

    def _close_outage(self, end: float, duration: float | None, unended: bool) -> None:
        o, self.outage = self.outage, None
        length = duration if duration is not None and duration >= 0 else end - o["start"]
        self.facts.outages.append(Outage(o["start"], end, length, o["shutdown"], unended,
                                         o["load"], o["runtime"]))

    def finish(self) -> SiteFacts:
        """Cut whatever is still open at the window's end."""
        cut = self.win.end
        if self.outage is not None:
            self._close_outage(cut, cut - self.outage["start"], unended=False)
        for what, running in self.open.items():
            for pc in sorted(running):
                self._end(what, pc, cut)
        self.facts.meetings.sort(key=lambda s: s.start)
        self.facts.conversions.sort(key=lambda s: s.start)
        return self.facts


def site_facts(site: str, events: Iterable[Ev], win: Window) -> SiteFacts:
    """Reduce one site's events (oldest first) to its outages, meetings and conversions."""
    reader = _Reader(site, win)
    for e in events:
        reader.feed(e)
    return reader.finish()


def p90(values: list[float]) -> float | None:
    """The nearest-rank 90th percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def median(values: list[float]) -> float | None:
    """The median (the mean of the middle two for an even count); None for no values."""
    if not values:
        return None
    ordered, mid = sorted(values), len(values) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def overlaps(o: Outage, meetings: list[Span]) -> bool:
    """True when the outage and a meeting share a moment (an instant outage inside one counts)."""
    if o.end > o.start:
        return any(m.start < o.end and o.start < m.end for m in meetings)
    return any(m.start <= o.start < m.end for m in meetings)


def peak_concurrent(spans: Iterable[Span]) -> int:
    """The most spans running at one moment; one ending when another starts do not overlap."""
    points = sorted(p for s in spans for p in ((s.start, 1), (s.end, -1)))
    running = peak = 0
    for _, step in points:
        running += step
        peak = max(peak, running)
    return peak


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def outage_numbers(outages: list[Outage], during: int, zone: ZoneInfo) -> dict[str, Any]:
    """The ``outages`` object of the contract, plus ``unended`` and ``by_hour``."""
    lengths = [o.length for o in outages]
    shutdowns = sum(o.shutdown for o in outages)
    by_hour = [0] * 24
    for o in outages:
        by_hour[dt.datetime.fromtimestamp(o.start, zone).hour] += 1
    return {"count": len(outages), "during_meetings": during, "total_s": round(sum(lengths), 1),
            "longest_s": _seconds(max(lengths, default=None)), "p90_s": _seconds(p90(lengths)),
            "shutdowns": shutdowns, "bridged": len(outages) - shutdowns,
            "unended": sum(o.unended for o in outages), "by_hour": by_hour}


def meeting_numbers(meetings: list[Span], peak: int, known: bool) -> dict[str, Any]:
    """The ``meetings`` object; ``known`` is False when the journal has no meeting events."""
    hours = sum(m.end - m.start for m in meetings) / 3600
    return {"count": len(meetings), "hours": round(hours, 2), "peak_concurrent": peak,
            "known": known}


def conversion_numbers(conversions: list[Span], delayed: int, known: bool) -> dict[str, Any]:
    """The ``conversion`` object, plus ``longest_s``."""
    lengths = [c.end - c.start for c in conversions]
    return {"count": len(conversions), "median_s": _seconds(median(lengths)),
            "longest_s": _seconds(max(lengths, default=None)), "delayed_meetings": delayed,
            "known": known}


def runtime_needed(outages: dict[str, Any], wrapup_at_runtime_s: float) -> float | None:
    """``p90_s`` + the wrap-up margin; None without outages."""
    p = outages["p90_s"]
    return None if p is None else round(p + wrapup_at_runtime_s, 1)


def numbers(facts: list[SiteFacts], zone: ZoneInfo, wrapup_at_runtime_s: float) -> dict[str, Any]:
    """The four sections of the contract over ``facts`` (one site or the whole office)."""
    outages = [o for f in facts for o in f.outages]
    during = sum(overlaps(o, f.meetings) for f in facts for o in f.outages)
    known = any(f.has_meeting_events for f in facts)
    out = outage_numbers(outages, during, zone)
    meetings = [m for f in facts for m in f.meetings]
    return {
        "outages": out,
        "ups": {"runtime_needed_s": runtime_needed(out, wrapup_at_runtime_s)},
        "meetings": meeting_numbers(meetings, peak_concurrent(meetings), known),
        "conversion": conversion_numbers([c for f in facts for c in f.conversions],
                                         sum(f.delayed for f in facts), known),
    }
