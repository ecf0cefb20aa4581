"""The charts' memory: per site, the min, max and last of each metric per minute and per hour,
and the exact spans on battery.

An average hides what IT needs to see (a cut from 220 V to 0 V averages to 110 V), so every
bucket keeps its lowest, highest and last value. The store sums up the current minute in memory
(``Minute``) and writes it when the minute is over: two small upserts per site a minute, whatever
the rate of states. Minutes serve ranges up to 7 days, hours the 30-day range. On-battery time is
kept as spans with the outage's own start time, so the shading is exact, not rounded to buckets.
"""

from __future__ import annotations

import itertools
import logging
import math
import sqlite3
from dataclasses import dataclass, field
from typing import Iterable, cast

from protocol.messages import EventKind, StateSnapshot
from protocol.outage_stages import OUTAGE_ROOMS as OUTAGE_ROOMS_

logger = logging.getLogger(__name__)

# Column stem -> the name in the API (CONTRACT §5.6).
METRICS = {"charge": "charge_pct", "runtime": "runtime_s", "load": "load_pct", "voltage": "input_voltage"}
COLUMNS = [f"{m}_{s}" for m in METRICS for s in ("min", "max", "last")]
MINUTE, HOUR = 60, 3600
OUTAGE_ROOMS = tuple(room.value for room in OUTAGE_ROOMS_)   # protocol/outage_stages.py
SCHEMA_VERSION = 2          # PRAGMA user_version; 0 = v0.1 (one averaged sample a minute)

_TABLE = ("site TEXT NOT NULL, start REAL NOT NULL, " + ", ".join(f"{c} REAL" for c in COLUMNS)
          + ", PRIMARY KEY (site, start)) WITHOUT ROWID")
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS minutes ({_TABLE};
CREATE INDEX IF NOT EXISTS minutes_start ON minutes (start);
CREATE TABLE IF NOT EXISTS hours ({_TABLE};
CREATE INDEX IF NOT EXISTS hours_start ON hours (start);
CREATE TABLE IF NOT EXISTS battery (
    site TEXT NOT NULL, start REAL NOT NULL, stop REAL, PRIMARY KEY (site, start)) WITHOUT ROWID;
"""


def _merge_sql(table: str) -> str:
    """An upsert that widens a stored bucket by a new one (NULL = not measured)."""
    sets = []
    for m in METRICS:
        lo, hi, last = f"{m}_min", f"{m}_max", f"{m}_last"
        sets.append(f"{lo} = min(coalesce({lo}, excluded.{lo}), coalesce(excluded.{lo}, {lo}))")
        sets.append(f"{hi} = max(coalesce({hi}, excluded.{hi}), coalesce(excluded.{hi}, {hi}))")
        sets.append(f"{last} = coalesce(excluded.{last}, {last})")
    marks = ", ".join("?" * (len(COLUMNS) + 2))
    return (f"INSERT INTO {table} (site, start, {', '.join(COLUMNS)}) VALUES ({marks}) "
            f"ON CONFLICT (site, start) DO UPDATE SET {', '.join(sets)}")


MERGE = {"minutes": _merge_sql("minutes"), "hours": _merge_sql("hours")}


@dataclass(frozen=True)
class Stat:
    """The lowest, highest and last value in one bucket."""

    min: float
    max: float
    last: float

    def widen(self, other: "Stat | None") -> "Stat":
        """This bucket followed by ``other``."""
        if other is None:
            return self
        return Stat(min(self.min, other.min), max(self.max, other.max), other.last)


@dataclass
class Minute:
    """One site's current minute, summed up in memory until it is over."""

    site: str
    start: float
    stats: dict[str, Stat | None] = field(default_factory=lambda: dict.fromkeys(METRICS))

    def add(self, values: dict[str, float | None]) -> None:
        """Take one state's values."""
        for m, v in values.items():
            if v is not None:
                old = self.stats[m]
                self.stats[m] = Stat(v, v, v) if old is None else old.widen(Stat(v, v, v))

    def row(self) -> tuple:
        """(site, start, charge_min, charge_max, charge_last, ...) for the tables."""
        cells: list[float | None] = []
        for m in METRICS:
            s = self.stats[m]
            cells += [None, None, None] if s is None else [s.min, s.max, s.last]
        return (self.site, self.start, *cells)


def values_of(state: StateSnapshot) -> dict[str, float | None]:
    """What the charts show of one state: the power feeding the PC, load and voltage of the
    first UPS that reports them."""
    return {"charge": state.power.charge_pct, "runtime": state.power.runtime_s,
            "load": next((u.load_pct for u in state.ups if u.load_pct is not None), None),
            "voltage": next((u.input_voltage for u in state.ups if u.input_voltage is not None), None)}


def on_battery(state: StateSnapshot) -> bool:
    """True while the PC's UPS carries the room (an outage is open)."""
    return state.outage is not None or state.power.on_battery


def floor_to(ts: float, step: float) -> float:
    """``ts`` rounded down to a multiple of ``step``."""
    return math.floor(ts / step) * step


def write_minute(conn: sqlite3.Connection, minute: Minute) -> None:
    """Add a finished minute to the minute and the hour tables."""
    row = minute.row()
    conn.execute(MERGE["minutes"], row)
    conn.execute(MERGE["hours"], (row[0], floor_to(row[1], HOUR), *row[2:]))


def read_rows(conn: sqlite3.Connection, site: str, start: float, end: float,
              bucket_s: float) -> list[tuple]:
    """Stored minutes (or hours, for buckets of an hour or more) of ``site`` in [start, end)."""
    table = "hours" if bucket_s >= HOUR else "minutes"
    return conn.execute(f"SELECT start, {', '.join(COLUMNS)} FROM {table} "
                        "WHERE site = ? AND start >= ? AND start < ? ORDER BY start",
                        (site, start, end)).fetchall()


def first_data(conn: sqlite3.Connection, site: str) -> float | None:
    """When the site's stored history starts (minutes are exact, hours reach further back)."""
    minute = conn.execute("SELECT MIN(start) FROM minutes WHERE site = ?", (site,)).fetchone()[0]
    hour = conn.execute("SELECT MIN(start) FROM hours WHERE site = ?", (site,)).fetchone()[0]
    if minute is not None and (hour is None or hour > minute - HOUR):
        return minute
    return hour


def spans(conn: sqlite3.Connection, site: str, start: float, end: float) -> list[tuple[float, float | None]]:
    """(start, stop or None while open) of the on-battery spans that overlap [start, end)."""
    return conn.execute("SELECT start, stop FROM battery WHERE site = ? AND start < ? "
                        "AND (stop IS NULL OR stop > ?) ORDER BY start", (site, end, start)).fetchall()


def cut_events(conn: sqlite3.Connection, site: str, start: float, end: float) -> list[tuple[float, str, str]]:
    """(ts, kind, detail JSON) of the power events that can make a cut overlapping [start, end):
    those in the window and back to the last ``power_lost`` before it (a cut already running)."""
    return conn.execute(
        "SELECT ts, kind, detail FROM events WHERE site = ? AND kind IN ('power_lost', 'power_restored') "
        "AND ts < ? AND ts >= coalesce((SELECT max(ts) FROM events WHERE site = ? AND kind = 'power_lost' "
        "AND ts < ?), ?) ORDER BY ts, seq", (site, end, site, start, start)).fetchall()


def cut_spans(events: Iterable[tuple[float, str, float | None]], start: float, end: float,
              seen: Iterable[tuple[float, float | None]] = ()) -> list[tuple[float, float | None]]:
    """(power_lost ts, power_restored ts or None while open) of the cuts overlapping [start, end),
    from (ts, kind, duration_s of a restore) in time order.

    A replayed event adds nothing; a restore whose ``power_lost`` is gone (pruned, never
    received) starts its duration before it. A cut whose restore is missing (another
    ``power_lost`` follows, or none came) ends where the states ``seen`` on battery from its start
    ended; still open without such a span, it lasts to the right edge (or, followed by another
    cut, is only its start).
    """
    seen = list(seen)
    cuts: list[tuple[float, float | None]] = []
    lost: float | None = None
    for ts, kind, duration_s in events:
        if kind == EventKind.POWER_LOST and lost is not None and ts != lost:
            cuts.append((lost, _seen_end(lost, seen) or lost))
            lost = ts
        elif kind == EventKind.POWER_LOST:
            lost = ts
        elif kind == EventKind.POWER_RESTORED and lost is not None:
            cuts.append((lost, max(ts, lost)))
            lost = None
        elif kind == EventKind.POWER_RESTORED and duration_s and not any(ts == stop for _, stop in cuts):
            cuts.append((ts - duration_s, ts))
    if lost is not None:
        cuts.append((lost, _seen_end(lost, seen)))
    return [(s, e) for s, e in sorted(cuts) if s < end and (e is None or e >= start)]


def _seen_end(lost: float, seen: list[tuple[float, float | None]]) -> float | None:
    """The end of the on-battery span the states showed around ``lost``; None if none ended."""
    return next((e for s, e in seen if e is not None and s - MINUTE <= lost <= e), None)


def open_spans(conn: sqlite3.Connection) -> dict[str, float]:
    """site -> start of its on-battery span still open (the dashboard stopped during an outage)."""
    return dict(conn.execute("SELECT site, MAX(start) FROM battery WHERE stop IS NULL GROUP BY site"))


def open_span(conn: sqlite3.Connection, site: str, start: float) -> None:
    """The site went on battery at ``start``."""
    conn.execute("INSERT INTO battery (site, start, stop) VALUES (?, ?, NULL) "
                 "ON CONFLICT (site, start) DO UPDATE SET stop = NULL", (site, start))


def close_span(conn: sqlite3.Connection, site: str, stop: float) -> None:
    """The site's open span ended at ``stop``."""
    conn.execute("UPDATE battery SET stop = max(start, ?) WHERE site = ? AND stop IS NULL", (stop, site))


def prune(conn: sqlite3.Connection, minutes_before: float, hours_before: float) -> None:
    """Forget minutes and hours (and spans) older than the given times."""
    conn.execute("DELETE FROM minutes WHERE start < ?", (minutes_before,))
    conn.execute("DELETE FROM hours WHERE start < ?", (hours_before,))
    conn.execute("DELETE FROM battery WHERE stop IS NOT NULL AND stop < ?", (hours_before,))


def migrate(conn: sqlite3.Connection) -> None:
    """Bring a v0.1 database (table ``history``: one averaged sample a minute) to this schema,
    in one transaction: the samples become minutes and hours, the outage rooms become spans."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version >= SCHEMA_VERSION:
        return
    old = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'history'").fetchone()
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        if old:
            logger.info("carrying over the history of a v0.1 database (about 100,000 samples a second)")
            count = _migrate_history(conn)
            conn.execute("DROP TABLE history")
            logger.info("history of the v0.1 database carried over: %d samples", count)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _migrate_history(conn: sqlite3.Connection) -> int:
    rows = conn.execute("SELECT site, ts, room, charge, runtime, load, voltage FROM history "
                        "ORDER BY site, ts")
    count = 0
    for site, samples in itertools.groupby(rows, key=lambda r: r[0]):
        minute: Minute | None = None
        span: tuple[float, float] | None = None        # (start, last sample on battery)
        for _, ts, room, *values in samples:
            count += 1
            if minute is not None and minute.start != floor_to(ts, MINUTE):
                write_minute(conn, minute)
                minute = None
            minute = minute or Minute(site, floor_to(ts, MINUTE))
            minute.add(dict(zip(METRICS, values)))
            if room in OUTAGE_ROOMS:
                if span is None:
                    open_span(conn, site, ts)
                span = (span[0] if span else ts, ts)
            elif span is not None:
                close_span(conn, site, ts)
                span = None
        if minute is not None:
            write_minute(conn, minute)
        if span is not None:       # the old file ends in an outage: end it at its last sample
            close_span(conn, site, span[1])
    return count


def merge_buckets(rows: Iterable[tuple], start: float, bucket_s: float,
                  count: int) -> list[dict[str, Stat | None]]:
    """Stored rows (time order) folded into ``count`` buckets of ``bucket_s`` from ``start``.

    Plain lists and indices, not Stat objects per row: a 7-day chart folds 10,080 minutes, and
    this loop is most of the time of that page.
    """
    lows: list[list[float | None]] = [[None] * count for _ in METRICS]
    highs: list[list[float | None]] = [[None] * count for _ in METRICS]
    lasts: list[list[float | None]] = [[None] * count for _ in METRICS]
    for row in rows:
        i = int((row[0] - start) // bucket_s)
        if not 0 <= i < count:
            continue
        for m in range(len(METRICS)):
            low, high, last = row[1 + 3 * m], row[2 + 3 * m], row[3 + 3 * m]
            if low is None:
                continue
            old = lows[m][i]
            if old is None or low < old:
                lows[m][i] = low
            old = highs[m][i]
            if old is None or high > old:
                highs[m][i] = high
            lasts[m][i] = last
    names = list(METRICS)
    return [{name: _stat(lows[m][i], highs[m][i], lasts[m][i]) for m, name in enumerate(names)}
            for i in range(count)]


def _stat(low: float | None, high: float | None, last: float | None) -> Stat | None:
    """A bucket's Stat; None when nothing was measured. A row has a metric's min, max and last
    all set or all NULL, so a bucket with a low has its high and last too."""
    return None if low is None else Stat(low, cast(float, high), cast(float, last))


# Range -> (span, bucket): 72, 288, 168 and 360 buckets. Buckets are aligned to multiples of their
# size, so minute and hour rows fall wholly into one bucket. 7 days in hours, not half hours: read
# from the hour table (168 rows instead of 10,080 minutes; 92 ms -> a few ms at 500 sites), and
# with min and max kept a short cut still shows.
RANGES = {"6h": (6 * HOUR, 300), "24h": (24 * HOUR, 300), "7d": (7 * 24 * HOUR, 3600),
          "30d": (30 * 24 * HOUR, 7200)}
NICE_BUCKETS = (60, 120, 300, 600, 900, 1800, 3600, 7200)


def window(range_name: str, now: float, first: float | None) -> tuple[float, int, int]:
    """(start, bucket seconds, buckets) of a range ending now; a site whose data is younger than
    the range gets a window from its first data, with buckets small enough to fill the chart."""
    span, bucket_s = RANGES[range_name]
    wanted = span / bucket_s
    begin = now - span
    if first is not None and first > begin:
        begin = first
        bucket_s = next(b for b in NICE_BUCKETS if b >= bucket_s or (now - first) / b <= wanted)
    start = floor_to(begin, bucket_s)
    return start, bucket_s, max(1, math.ceil((now - start) / bucket_s))


def as_json(range_name: str, start: float, bucket_s: int, buckets: list[dict[str, Stat | None]],
            spans: list[tuple[float, float | None]], now: float,
            cuts: Iterable[tuple[float, float | None]] = ()) -> dict:
    """The answer of GET /api/sites/<site>/history (CONTRACT §5.6), plus the window, the exact
    on-battery spans (``battery``: [start, stop or null while on battery]) and the journal's cuts
    (``cuts``: [power_lost ts, power_restored ts or null while the cut lasts])."""
    out = []
    for i, bucket in enumerate(buckets):
        b_start = start + i * bucket_s
        battery = any(s < b_start + bucket_s and (e is None or e > b_start) for s, e in spans)
        item: dict = {"start": b_start, "on_battery": battery}
        for m, name in METRICS.items():
            s = bucket[m]
            item[name] = None if s is None else {"min": s.min, "max": s.max, "last": s.last}
        out.append(item)
    return {"range": range_name, "bucket_s": bucket_s, "start": start, "end": now,
            "buckets": out, "battery": [[s, e] for s, e in spans], "cuts": [[s, e] for s, e in cuts]}
