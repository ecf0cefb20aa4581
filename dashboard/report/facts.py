"""The needs report (CONTRACT §5.8): journal events -> outages, meetings, conversions. Pure.

No I/O here: the readers (dashboard/report/data.py) hand in each site's events, oldest first, and
the window; the time zone is passed in. One site is reduced at a time to a small ``SiteFacts``
(a year of 500 rooms never sits in memory as events), and ``office`` adds the facts up.

The rules, each printed beside its number by the report:
- only events inside the window count; a span still open at the window's end is cut there;
- an outage is a ``power_lost`` and the next ``power_restored``; its length is
  ``power_restored.detail.duration_s``. When a second ``power_lost`` comes first (the restore was
  never journaled), the first outage ends at its last journaled step (notice, wrap-up, shutdown,
  ...), or at its start when it has none, and counts as ``unended``;
- a meeting (conversion) runs from ``meeting_started`` (``conversion_started``) to the ``_ended``
  of the same PC, or to that PC going offline; a second start while one runs is the same meeting;
- a meeting cut by its PC going offline (``pc_offline``) goes on when the same PC starts a
  meeting in the same app at most ``RESTART_GAP_S`` later: the agent restarted (a service
  restart, an update, a crash and the task's restart a minute later), the meeting did not end.
  A PC that Siaga shut down (``pc_off``) ends its meeting there, and one that stays gone ends it
  when it went offline;
- a meeting is "live" when its ``meeting_started`` says it was seen by the microphone or the
  camera (CONTRACT §6.2); one seen only by a running process (an older agent, or a PC whose
  captures cannot be seen) may be a client left open all day, so ``peak_concurrent`` counts the
  live meetings wherever the journal has any;
- a conversion's speed is the length of the meeting that ended on its PC just before it
  (within ``RECORDING_GAP_S``) over the conversion's length: minutes of meeting converted per
  minute.
- a booked meeting (CONTRACT §6.3) is a ``booking`` event, which the edge journals when a
  booking from the room's calendar begins (``detail``: meeting, start, end); the same meeting
  journaled twice (an edge restarted during it) counts once; ``not_ready`` counts meetings once,
  and only meetings that began (one warned of, then cancelled or moved, is not a booked meeting).
  The dashboard never reads calendars: what the edge journaled is what was booked.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from array import array
from dataclasses import dataclass, field
from typing import Any, Iterable, NamedTuple
from zoneinfo import ZoneInfo

from protocol.messages import EventKind as K

# Plain strings of the kinds (.value): comparing with an Enum member is 4x slower, and this loop
# sees every event of a year of 500 rooms.
POWER_LOST, POWER_RESTORED = K.POWER_LOST.value, K.POWER_RESTORED.value
SHUTDOWN_SENT, UPS_SELFTEST = K.SHUTDOWN_SENT.value, K.UPS_SELFTEST.value
REPLACE_BATTERY, RUNTIME_LEARNED = K.REPLACE_BATTERY.value, K.RUNTIME_LEARNED.value
BOOKING, NOT_READY = K.BOOKING.value, K.NOT_READY.value
# The steps of an outage: the last one journaled is where an outage without its restore ends.
OUTAGE_STEPS = frozenset(k.value for k in (K.LOW_BATTERY, K.NOTICE_SENT, K.WRAPUP_SENT,
                                           K.SHUTDOWN_SENT, K.PC_ACK, K.PC_OFF, K.SHUTDOWN_HELD,
                                           K.RUNTIME_ESTIMATED))
PC_GONE = frozenset({K.PC_OFFLINE.value, K.PC_OFF.value})
PC_OFFLINE, PC_OFF = K.PC_OFFLINE.value, K.PC_OFF.value
LIVE_BY = frozenset({"microphone", "camera"})
RECORDING_GAP_S = 600.0   # a conversion starting this long after a meeting ended is its recording
# A PC back in a meeting of the same app this soon after it went offline mid-meeting is the same
# meeting: its agent restarted (Windows' task restarts it a minute after a crash). The report's
# rule (texts.py "meetings.count") and docs/report.md say 3 minutes.
RESTART_GAP_S = 180.0
SPAN_KINDS = {K.MEETING_STARTED.value: ("meeting", True), K.MEETING_ENDED.value: ("meeting", False),
              K.CONVERSION_STARTED.value: ("conversion", True),
              K.CONVERSION_ENDED.value: ("conversion", False)}


class Ev(NamedTuple):
    """One journal event as the report needs it (``detail`` may be {} for kinds it ignores)."""

    ts: float
    kind: str
    pc: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class Window:
    """[start, end) in Unix seconds: local midnight of ``first`` to the midnight after ``last``;
    ``today`` the site's day at the report's ``now`` (a battery's age is counted to it)."""

    first: dt.date
    last: dt.date
    start: float
    end: float
    today: dt.date


@dataclass(frozen=True, slots=True)
class Outage:
    """One outage inside the window."""

    start: float
    end: float
    length: float
    shutdown: bool
    unended: bool
    load_pct: float | None
    runtime_s: float | None
    claimed_s: float | None = None     # the UPS's own battery.runtime when the power failed
    charge_pct: float | None = None
    ups: tuple[str, ...] = ()          # the UPSes feeding the PC that were on battery (power_lost)


class Span(NamedTuple):
    """One meeting or conversion on one PC (a tuple: a year of 500 rooms makes 700,000)."""

    pc: str
    start: float
    end: float
    app: str = ""        # meetings: the app of meeting_started ("" when it did not say)
    live: bool = False   # meetings: seen by the microphone or camera


@dataclass
class SpanSums:
    """What the report prints of meetings and conversions, for one site or the office: the
    same numbers whether the Python fold made them (``sums``) or the database (pgdata)."""

    known: bool = False              # the journal has meeting or conversion events
    meetings: int = 0
    meeting_us: int = 0              # sum of each meeting's length in whole microseconds
    by_app: dict[str, list[int]] = field(default_factory=dict)   # app -> [count, microseconds]
    peak: int = 0                    # peak_concurrent over every meeting
    live: int = 0                    # meetings seen by the microphone or camera
    peak_live: int = 0
    conversions: int = 0
    conversion_median: float | None = None
    conversion_longest: float | None = None
    speed: float | None = None       # the median of the conversions' speeds
    delayed: int = 0


def micros(seconds: float) -> int:
    """A length in whole microseconds (half to even, as PostgreSQL's round(float8)): added up
    as integers, the total does not depend on the order the rows come in."""
    return round(seconds * 1e6)


@dataclass
class SiteFacts:
    """What one site's events say, small enough to keep for 500 sites."""

    site: str
    outages: list[Outage] = field(default_factory=list)
    # The spans themselves: the Python fold only (pgdata hands in ``spans`` alone).
    meetings: list[Span] | None = field(default_factory=list)
    conversions: list[Span] | None = field(default_factory=list)
    speeds: list[float] | None = field(default_factory=list)   # meeting minutes per conversion minute
    spans: SpanSums = field(default_factory=SpanSums)
    during: int = 0                  # outages that overlap a meeting of this site
    busy: list[tuple[float, float]] = field(default_factory=list)   # meeting time, merged
    selftests: list[tuple[float, bool, str]] = field(default_factory=list)
    replace_battery: int = 0
    events: int = 0
    learned: list[tuple[float, dict[str, Any]]] = field(default_factory=list)  # runtime_learned
    bookings: dict[tuple[float, str], float] = field(default_factory=dict)  # (start, title) -> end
    not_ready: set[float] = field(default_factory=set)                       # meeting starts


def window(first: dt.date, last: dt.date, zone: ZoneInfo, now: float) -> Window:
    """The window of local days ``first``..``last``; it never reaches past ``now``."""
    start = dt.datetime.combine(first, dt.time(), zone).timestamp()
    # The midnight after ``last``; past the calendar's end (--to 9999-12-31) it is after now.
    end = now if last == dt.date.max else \
        dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone).timestamp()
    return Window(first=first, last=last, start=start, end=max(start, min(end, now)),
                  today=dt.datetime.fromtimestamp(now, zone).date())


def number(value: Any) -> float | None:
    """A JSON number as float; None for anything else (bools, strings, NaN)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def ups_names(value: Any) -> tuple[str, ...]:
    """The UPS names of ``power_lost.detail.ups`` (a list of strings; anything else names none)."""
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


class _Reader:
    """Walks one site's events in order and collects its spans."""

    def __init__(self, site: str, win: Window) -> None:
        self.win = win
        self.meetings: list[Span] = []      # the facts' own lists (SiteFacts allows None: pgdata)
        self.conversions: list[Span] = []
        self.facts = SiteFacts(site, meetings=self.meetings, conversions=self.conversions)
        self.delayed, self.known = 0, False
        self.outage: dict[str, Any] | None = None
        self.open: dict[str, dict[str, float]] = {"meeting": {}, "conversion": {}}
        self.how: dict[str, tuple[str, bool]] = {}   # pc -> (app, live) of its open meeting
        self.gone: dict[str, Span] = {}   # pc -> its meeting cut by pc_offline, maybe going on

    def span(self, ts: float, pc: str, what: str, starts: bool, detail: dict[str, Any]) -> None:
        """A meeting or conversion starts or ends on ``pc``."""
        self.known = True
        running = self.open[what]
        if not starts:
            self._end(what, pc, ts)
        elif pc not in running:
            if what == "meeting":
                app = detail.get("app")
                app, live = app if isinstance(app, str) else "", detail.get("by") in LIVE_BY
                cut = self.gone.pop(pc, None)
                if cut is not None and ts - cut.end <= RESTART_GAP_S and cut.app == app:
                    running[pc] = cut.start          # the agent restarted: the meeting goes on
                    self.how[pc] = (app, cut.live or live)
                    return
                if cut is not None:
                    self.meetings.append(cut)
                self.how[pc] = (app, live)
            running[pc] = ts
            if what == "meeting" and pc in self.open["conversion"]:
                self.delayed += 1

    def other(self, ts: float, kind: str, pc: str, detail: dict[str, Any]) -> None:
        """Any other event: the outages, PCs going away, the UPS's own reports."""
        if kind == POWER_LOST:
            if self.outage is not None:
                self._close_outage(self.outage["last"], None, unended=True)
            self.outage = {"start": ts, "last": ts, "shutdown": False,
                           "load": number(detail.get("load_pct")),
                           "runtime": number(detail.get("runtime_s")),
                           # Before v1.2 runtime_s was the claim; since, the smaller of claim
                           # and measurement, and runtime_claimed_s the claim.
                           "claimed": number(detail.get("runtime_claimed_s", detail.get("runtime_s"))),
                           "charge": number(detail.get("charge_pct")),
                           "ups": ups_names(detail.get("ups"))}
        elif kind == POWER_RESTORED:
            if self.outage is not None:
                self._close_outage(ts, number(detail.get("duration_s")), unended=False)
        elif kind in PC_GONE:
            for what in self.open:
                self._end(what, pc, ts, offline=kind == PC_OFFLINE)
            if kind == PC_OFF and pc in self.gone:   # shut down by Siaga: the meeting ended
                self.meetings.append(self.gone.pop(pc))
        elif kind == UPS_SELFTEST:
            self.facts.selftests.append((ts, detail.get("ok") is True, str(detail.get("detail", ""))))
        elif kind == REPLACE_BATTERY:
            self.facts.replace_battery += 1
        elif kind == RUNTIME_LEARNED:
            self.facts.learned.append((ts, detail))
        elif kind in (BOOKING, NOT_READY):
            self._booked(kind, detail)
        if self.outage is not None and kind in OUTAGE_STEPS:
            self.outage["last"] = ts
            self.outage["shutdown"] |= kind == SHUTDOWN_SENT

    def _booked(self, kind: str, detail: dict[str, Any]) -> None:
        """A booked meeting began (cut at the window's end), or was not ready."""
        start, end = number(detail.get("start")), number(detail.get("end"))
        if start is None:
            return
        if kind == NOT_READY:
            self.facts.not_ready.add(start)
        elif end is not None and end >= start:
            key = (start, str(detail.get("meeting", "")))
            self.facts.bookings.setdefault(key, min(end, self.win.end))

    def _end(self, what: str, pc: str, ts: float, offline: bool = False) -> None:
        started = self.open[what].pop(pc, None)
        if started is None:
            return
        if what == "meeting":
            span = Span(pc, started, ts, *self.how.pop(pc, ("", False)))
            if offline:   # held until the PC starts a meeting again (or never does)
                self.gone[pc] = span
            else:
                self.meetings.append(span)
        else:
            self.conversions.append(Span(pc, started, ts))

    def _close_outage(self, end: float, duration: float | None, unended: bool) -> None:
        o, self.outage = self.outage, None
        assert o is not None   # the callers close only an open outage
        length = duration if duration is not None and duration >= 0 else end - o["start"]
        self.facts.outages.append(Outage(start=o["start"], end=end, length=length,
                                         shutdown=o["shutdown"], unended=unended,
                                         load_pct=o["load"], runtime_s=o["runtime"],
                                         claimed_s=o["claimed"], charge_pct=o["charge"],
                                         ups=o["ups"]))

    def finish(self) -> SiteFacts:
        """Cut whatever is still open at the window's end."""
        cut = self.win.end
        if self.outage is not None:
            self._close_outage(cut, cut - self.outage["start"], unended=False)
        for what, running in self.open.items():
            for pc in sorted(running):
                self._end(what, pc, cut)
        self.meetings += self.gone.values()
        self.gone = {}
        self.meetings.sort(key=lambda s: s.start)
        self.conversions.sort(key=lambda s: s.start)
        self.facts.speeds = rates = speeds(self.meetings, self.conversions, cut)
        self.facts.busy = merged(self.meetings)
        self.facts.during = sum(overlaps(o, self.facts.busy) for o in self.facts.outages)
        self.facts.spans = sums(self.meetings, self.conversions, rates, self.delayed, self.known)
        return self.facts


def site_facts(site: str, events: Iterable[tuple[float, str, str, dict[str, Any]]],
               win: Window) -> SiteFacts:
    """Reduce one site's events (oldest first; Ev or plain (ts, kind, pc, detail) tuples) to its
    outages, meetings and conversions. The loop is this plain because it sees 1.7 M events for a
    year of 500 rooms: meetings and conversions, most of them, take the short way."""
    reader = _Reader(site, win)
    start, end, spans, count = win.start, win.end, SPAN_KINDS, 0
    for ts, kind, pc, detail in events:
        if not start <= ts < end:
            continue
        count += 1
        span = spans.get(kind)
        if span is not None:
            reader.span(ts, pc, *span, detail)
        else:
            reader.other(ts, kind, pc, detail)
    reader.facts.events = count
    return reader.finish()


def sums(meetings: list[Span], conversions: list[Span], speeds: list[float], delayed: int,
         known: bool) -> SpanSums:
    """One site's spans as the numbers the report prints."""
    by_app: dict[str, list[int]] = {}
    for m in meetings:
        app = by_app.setdefault(m.app or UNKNOWN_APP, [0, 0])
        app[0] += 1
        app[1] += micros(m.end - m.start)
    live = [m for m in meetings if m.live]
    lengths = [c.end - c.start for c in conversions]
    return SpanSums(known=known, meetings=len(meetings),
                    meeting_us=sum(micros(m.end - m.start) for m in meetings), by_app=by_app,
                    peak=peak_concurrent([m.start for m in meetings], [m.end for m in meetings]),
                    live=len(live), peak_live=peak_concurrent([m.start for m in live], [m.end for m in live]),
                    conversions=len(lengths), conversion_median=median(lengths),
                    conversion_longest=max(lengths, default=None), speed=median(speeds),
                    delayed=delayed)


def speeds(meetings: list[Span], conversions: list[Span], cut: float) -> list[float]:
    """Each conversion's speed: its recording's meeting minutes per minute of converting.

    The recording is the meeting that ended on the same PC at most ``RECORDING_GAP_S`` before the
    conversion started; a conversion cut at the window's end has no known length."""
    ends: dict[str, list[Span]] = {}
    for m in sorted(meetings, key=lambda m: m.end):
        ends.setdefault(m.pc, []).append(m)
    times = {pc: [m.end for m in done] for pc, done in ends.items()}   # once, not per conversion
    out = []
    for c in conversions:
        done = ends.get(c.pc, [])
        i = bisect.bisect_right(times.get(c.pc, []), c.start) - 1
        if c.end >= cut or c.end <= c.start or i < 0 or c.start - done[i].end > RECORDING_GAP_S:
            continue
        out.append((done[i].end - done[i].start) / (c.end - c.start))
    return out


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


def monthly_runtimes(months: dict[str, list[float]]) -> list[dict[str, Any]]:
    """Each month's median runtime (seconds, one decimal) and how many it is of, oldest first;
    every month listed has at least one value."""
    out = []
    for month, values in sorted(months.items()):
        middle = median(values)
        assert middle is not None
        out.append({"month": month, "runtime_s": round(middle, 1), "n": len(values)})
    return out


def merged(spans: list[Span]) -> list[tuple[float, float]]:
    """The time covered by ``spans`` (sorted by start) as sorted, disjoint (start, end) pairs."""
    out: list[tuple[float, float]] = []
    for s in spans:
        if out and s.start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], s.end))
        else:
            out.append((s.start, s.end))
    return out


def covered(ts: float, busy: list[tuple[float, float]]) -> bool:
    """True when ``ts`` falls inside one of the merged spans (start included, end not)."""
    i = bisect.bisect_right(busy, (ts, math.inf)) - 1
    return i >= 0 and busy[i][0] <= ts < busy[i][1]


def overlaps(o: Outage, busy: list[tuple[float, float]]) -> bool:
    """True when the outage and meeting time share a moment (an instant outage inside one counts).

    ``busy`` is merged meeting time: one bisection per outage, not a scan of every meeting.
    """
    if covered(o.start, busy):
        return True
    i = bisect.bisect_right(busy, (o.start, math.inf))     # the first span starting after o.start
    return o.end > o.start and i < len(busy) and busy[i][0] < o.end


def peak_concurrent(starts: Iterable[float], ends: Iterable[float]) -> int:
    """The most spans running at one moment; one ending when another starts do not overlap.

    Starts and ends sorted apart and swept together: no per-span objects, for 500 rooms x 1 year.
    """
    starts, ends = sorted(starts), sorted(ends)
    running = peak = j = 0
    for start in starts:
        while j < len(ends) and ends[j] <= start:
            running, j = running - 1, j + 1
        running += 1
        peak = max(peak, running)
    return peak


UNKNOWN_APP = "unknown"   # meetings journaled before the agent said which app


@dataclass
class Totals:
    """The facts of one or many sites, added up compactly. The spans' numbers are ``spans`` when
    the reader gave them (pgdata: the database added every site up); else the Python fold's
    spans are kept as arrays of floats and added up here."""

    spans: SpanSums | None = None
    outages: list[Outage] = field(default_factory=list)
    during: int = 0
    sites: list[SpanSums] = field(default_factory=list)
    starts: array = field(default_factory=lambda: array("d"))
    ends: array = field(default_factory=lambda: array("d"))
    live_starts: array = field(default_factory=lambda: array("d"))
    live_ends: array = field(default_factory=lambda: array("d"))
    conversions: array = field(default_factory=lambda: array("d"))
    speeds: array = field(default_factory=lambda: array("d"))
    booked_starts: array = field(default_factory=lambda: array("d"))
    booked_ends: array = field(default_factory=lambda: array("d"))
    back_to_back: int | None = None    # None: no site had a conversion time to compare with
    not_ready: int = 0

    def add(self, f: SiteFacts) -> "Totals":
        """Add one site's facts; returns self."""
        self.booked_starts.extend(start for start, _ in f.bookings)
        self.booked_ends.extend(f.bookings.values())
        close = back_to_back(sorted((s, e) for (s, _), e in f.bookings.items()),
                             f.spans.conversion_median)
        if close is not None:
            self.back_to_back = (self.back_to_back or 0) + close
        # A booked meeting that was not ready: one that began (a warned meeting then cancelled or
        # moved is no booking of the period, its new time warned again is the same meeting).
        self.not_ready += len(f.not_ready & {start for start, _ in f.bookings})
        self.outages += f.outages
        self.during += f.during
        if self.spans is not None:
            return self
        # Only the Python fold's facts come without the office's sums, and it keeps its spans.
        assert f.meetings is not None and f.conversions is not None and f.speeds is not None
        self.sites.append(f.spans)
        self.starts.extend(m.start for m in f.meetings)
        self.ends.extend(m.end for m in f.meetings)
        for m in f.meetings:
            if m.live:
                self.live_starts.append(m.start)
                self.live_ends.append(m.end)
        self.conversions.extend(c.end - c.start for c in f.conversions)
        self.speeds.extend(f.speeds)
        return self

    def span_sums(self) -> SpanSums:
        """The spans' numbers over every site added."""
        if self.spans is not None:
            return self.spans
        if len(self.sites) == 1:
            return self.sites[0]
        by_app: dict[str, list[int]] = {}
        for site in self.sites:
            for app, (n, us) in site.by_app.items():
                total = by_app.setdefault(app, [0, 0])
                total[0] += n
                total[1] += us
        lengths = list(self.conversions)
        return SpanSums(known=any(s.known for s in self.sites),
                        meetings=sum(s.meetings for s in self.sites),
                        meeting_us=sum(s.meeting_us for s in self.sites), by_app=by_app,
                        peak=peak_concurrent(self.starts, self.ends),
                        live=sum(s.live for s in self.sites),
                        peak_live=peak_concurrent(self.live_starts, self.live_ends),
                        conversions=len(lengths), conversion_median=median(lengths),
                        conversion_longest=max(lengths, default=None),
                        speed=median(list(self.speeds)), delayed=sum(s.delayed for s in self.sites))


def back_to_back(bookings: list[tuple[float, float]], conversion_s: float | None) -> int | None:
    """Bookings (sorted (start, end) of one room) that start less than ``conversion_s`` after
    the one before ends (or overlap it): the PC is still converting the last recording. None
    without a conversion time to compare with."""
    if conversion_s is None:
        return None
    return sum(1 for (_, end), (start, _) in zip(bookings, bookings[1:]) if start - end < conversion_s)


def schedule_numbers(t: Totals) -> dict[str, Any]:
    """The ``schedule`` object (CONTRACT §6.3): what the calendars booked, beside ``meetings``
    (what the PCs really held)."""
    hours = (sum(t.booked_ends) - sum(t.booked_starts)) / 3600
    return {"booked": {"count": len(t.booked_starts), "hours": round(hours, 2)},
            "peak_booked": peak_concurrent(t.booked_starts, t.booked_ends),
            "back_to_back": t.back_to_back, "not_ready": t.not_ready}


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


US_PER_HOUR = 3_600_000_000


def meeting_numbers(t: SpanSums) -> dict[str, Any]:
    """The ``meetings`` object; ``known`` is False when the journal has no meeting events."""
    live = t.live > 0
    by_app = {app: {"count": int(n), "hours": round(us / US_PER_HOUR, 2)}
              for app, (n, us) in sorted(t.by_app.items(), key=lambda kv: (-kv[1][1], kv[0]))}
    return {"count": t.meetings, "hours": round(t.meeting_us / US_PER_HOUR, 2),
            "peak_concurrent": t.peak_live if live else t.peak,
            "peak_from": "live" if live else ("process" if t.meetings else None), "by_app": by_app,
            "known": t.known}


def conversion_numbers(t: SpanSums) -> dict[str, Any]:
    """The ``conversion`` object, plus ``longest_s``."""
    return {"count": t.conversions, "median_s": _seconds(t.conversion_median),
            "longest_s": _seconds(t.conversion_longest), "delayed_meetings": t.delayed,
            "speed": None if t.speed is None else round(t.speed, 1), "known": t.known}


def runtime_needed(outages: dict[str, Any], wrapup_at_runtime_s: float) -> float | None:
    """``p90_s`` + the wrap-up margin; None without outages."""
    p = outages["p90_s"]
    return None if p is None else round(p + wrapup_at_runtime_s, 1)


def numbers(t: Totals, zone: ZoneInfo, wrapup_at_runtime_s: float) -> dict[str, Any]:
    """The four sections of the contract over ``t`` (one site or the whole office)."""
    out = outage_numbers(t.outages, t.during, zone)
    spans = t.span_sums()
    return {
        "outages": out,
        "ups": {"runtime_needed_s": runtime_needed(out, wrapup_at_runtime_s)},
        "meetings": meeting_numbers(spans),
        "conversion": conversion_numbers(spans),
        "schedule": schedule_numbers(t),
    }
