"""The room's calendar at its worst: 5,000 events over a year. Prints the figures.

- parse: icalendar reading the file (what the calendar thread does on each changed download);
- expand: recurring-ical-events over the edge's window (the next 8 days, refreshed every
  calendar_refresh_s) and over the whole year (what a careless window would cost);
- memory: Python's peak allocation for parse + expand (tracemalloc) and the file's size;
- tick: the room core's step() per tick without a calendar and with the 8-day window loaded
  (the loop's own cost: fetching and parsing run in their thread, never in the tick).

Usage: python bench/calendar_bench.py [--events 5000] [--ticks 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from edge.bookings import expand, parse  # noqa: E402
from edge.calendar import BEHIND_S, HORIZON_S  # noqa: E402
from protocol.config import PolicyConfig  # noqa: E402
from edge.room import Inputs, RoomState, Rules, UpsReading, step  # noqa: E402
from tests.calendar_support import calendar, event  # noqa: E402

YEAR = 365 * 86400


def year_of_events(n: int, start: float) -> bytes:
    """``n`` events spread over a year: one in ten a weekly series, the rest single bookings,
    in Asia/Jakarta, 30-120 min long, on working hours."""
    events = []
    step_s = YEAR / n
    for i in range(n):
        begin = start + i * step_s
        begin -= begin % 1800
        extra = "RRULE:FREQ=WEEKLY;COUNT=10" if i % 10 == 0 else ""
        events.append(event(f"e{i}@bench", f"Rapat {i}", begin, begin + 1800 * (1 + i % 4),
                            "Asia/Jakarta", extra))
    return calendar(*events)


def timed(func, repeat: int = 3) -> tuple[float, object]:
    """The best of ``repeat`` runs, in seconds, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - t0)
    return best, result


def tick_cost(bookings: tuple, now: float, ticks: int) -> float:
    """Median µs of one step() on mains with one UPS and no PC, ``bookings`` loaded."""
    rules = Rules(policy=PolicyConfig(), site_id="bench")
    state = RoomState(started=0.0)
    reading = (UpsReading(name="meeting", ts=now, status="OL", charge_pct=100.0, runtime_s=1800.0),)
    costs = []
    for i in range(ticks):
        inputs = Inputs(now + i, reading, mono=float(i), bookings=bookings)
        t0 = time.perf_counter()
        state, _ = step(state, inputs, rules)
        costs.append(time.perf_counter() - t0)
    return statistics.median(costs) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--ticks", type=int, default=2000)
    args = ap.parse_args()
    now = time.time()
    data = year_of_events(args.events, now - YEAR / 2)
    print(f"calendar: {args.events} events over a year, {len(data) / 1e6:.2f} MB")
    parse_s, source = timed(lambda: parse(data), 1)
    window_s, window = timed(lambda: expand(source, now - BEHIND_S, now + HORIZON_S))
    year_s, whole = timed(lambda: expand(source, now - YEAR / 2, now + YEAR / 2), 1)
    tracemalloc.start()   # apart from the timings: tracing slows Python down several times
    expand(parse(data), now - BEHIND_S, now + HORIZON_S)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"parse: {parse_s * 1000:.0f} ms")
    print(f"expand next 9 days: {window_s * 1000:.0f} ms, {len(window.bookings)} bookings")
    print(f"expand whole year: {year_s * 1000:.0f} ms, {len(whole.bookings)} bookings")
    print(f"peak Python memory for parse + expand: {peak / 1e6:.1f} MB")
    bare = tick_cost((), now, args.ticks)
    loaded = tick_cost(window.bookings, now, args.ticks)
    print(f"room step per tick: {bare:.0f} µs without a calendar, {loaded:.0f} µs with "
          f"{len(window.bookings)} bookings loaded (+{loaded - bare:.0f} µs)")


if __name__ == "__main__":
    main()
