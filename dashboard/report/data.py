"""Where the needs report's numbers come from: the dashboard's database or one edge journal.

Both are opened read-only (SQLite URI ``mode=ro``): a report never changes, locks or creates the
file it reads, even while the dashboard or the edge writes to it. Only the ``events`` table and
the ``latest`` states are relied on; the history tables (dashboard/store/history.py) are read if they
have the columns we know, and are otherwise "no data" (their shape may change between versions).
"""

from __future__ import annotations

import fnmatch
import json
import logging
import sqlite3
import urllib.parse
from pathlib import Path
from collections.abc import Mapping
from typing import Any, Iterator

from dashboard.report.build import SiteInput
from dashboard.report.facts import Window
from dashboard.report.needs import Sample
from protocol.messages import EventKind as K

logger = logging.getLogger(__name__)

# Kinds whose detail the report reads beyond "pc"; the rest are not parsed (speed at 1.8 M rows).
# meeting_started: its app and whether the microphone or camera saw it (by_app, peak_from "live").
DETAIL_KINDS = (K.POWER_LOST.value, K.POWER_RESTORED.value, K.UPS_SELFTEST.value,
                K.RUNTIME_LEARNED.value, K.BOOKING.value, K.NOT_READY.value, K.MEETING_STARTED.value)
_EVENTS_SQL = (
    "SELECT ts, kind, CASE WHEN json_valid(detail) THEN json_extract(detail, '$.pc') END, "
    f"CASE WHEN kind IN ({', '.join('?' * len(DETAIL_KINDS))}) THEN detail END "
    "FROM events WHERE {where} ts >= ? AND ts < ? ORDER BY seq")
NO_DETAIL: dict[str, Any] = {}   # shared by the rows whose detail is not read; never changed


class ReportError(Exception):
    """The report cannot be made; the message is one English line for the command's user. A
    problem with the request's input also names it (``problem``, ``values``: what the /report
    page says in its own language, with its form's labels)."""

    def __init__(self, message: str, problem: str = "", **values: str) -> None:
        super().__init__(message)
        self.problem, self.values = problem, values


def open_readonly(path: str) -> sqlite3.Connection:
    """``path`` opened read-only; ReportError when it is missing or not an SQLite file."""
    if not Path(path).is_file():
        raise ReportError(f"{path}: no such file")
    uri = "file:" + urllib.parse.quote(str(Path(path).resolve())) + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as exc:
        raise ReportError(f"{path}: not a Siaga database ({exc})") from None
    columns = set()
    if "events" in tables:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(events)")}
    if not {"site", "seq", "ts", "kind", "detail"} <= columns:
        conn.close()
        raise ReportError(f"{path}: not a Siaga database or journal (no events table)")
    return conn


def site_ids(conn: sqlite3.Connection) -> list[str]:
    """Every site the file has seen: in its events, or (dashboard) its last known states."""
    sites = {r[0] for r in conn.execute("SELECT DISTINCT site FROM events")}
    if _has_table(conn, "latest"):
        sites |= {r[0] for r in conn.execute("SELECT site FROM latest")}
    return sorted(s for s in sites if isinstance(s, str))


def choose_sites(known: list[str], wanted: str | None,
                 groups: dict[str, Any] | None = None) -> list[str]:
    """The sites of ``--sites a,b`` (ids, ``prefix-*`` or group names); every known one for None."""
    if not wanted:
        return known
    groups = groups if isinstance(groups, Mapping) else {}
    chosen: list[str] = []
    for name in (w.strip() for w in wanted.split(",")):
        if not name:
            continue
        patterns = [p for p in groups.get(name, [name]) if isinstance(p, str)]
        hits = [s for p in patterns for s in known
                if (fnmatch.fnmatchcase(s, p) if p.endswith("*") else s == p)]
        if not hits:
            raise ReportError(f"--sites: unknown site \"{name}\" (known: {', '.join(known) or 'none'})",
                              "unknown_site", name=name)
        chosen += [s for s in hits if s not in chosen]
    if not chosen:
        raise ReportError("--sites: no site given", "no_site")
    return chosen


Row = tuple[float, str, str, dict[str, Any]]   # (ts, kind, pc, detail), as the core reads it


def events(conn: sqlite3.Connection, site: str, win: Window) -> Iterator[Row]:
    """The site's events inside the window, oldest first, read in chunks."""
    cur = conn.execute(_EVENTS_SQL.format(where="site = ? AND"),
                       (*DETAIL_KINDS, site, win.start, win.end))
    while rows := cur.fetchmany(2000):
        for ts, kind, pc, detail in rows:   # plain tuples: the core reads (ts, kind, pc, detail)
            yield (ts, kind, pc if pc.__class__ is str else "",
                   NO_DETAIL if detail is None else _detail(detail))


def _detail(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def latest_state(conn: sqlite3.Connection, site: str) -> dict[str, Any] | None:
    """The site's last known state snapshot (dashboard database), or None."""
    if not _has_table(conn, "latest"):
        return None
    row = conn.execute("SELECT state FROM latest WHERE site = ?", (site,)).fetchone()
    return _detail(row[0]) or None if row else None


def samples(conn: sqlite3.Connection, site: str, win: Window) -> list[Sample] | None:
    """The site's history buckets in the window; None when the file has no history we can read."""
    try:
        return history_samples(conn, site, win, "?")
    except sqlite3.Error as exc:
        logger.debug("no history for the report: %s", exc)
        return None


def history_samples(conn: Any, site: str, win: Window, mark: str) -> list[Sample]:
    """The site's history buckets in the window (dashboard/store/history.py: per-minute rows for
    the last days, per-hour rows before), from SQLite (``mark`` "?") or PostgreSQL ("%s"); the
    driver's error when it cannot read them."""
    cols = "start, load_last, voltage_min, voltage_max, runtime_last"
    where = f"WHERE site = {mark} AND start >= {mark} AND start < {mark} ORDER BY start"
    minutes = conn.execute(f"SELECT {cols} FROM minutes {where}", (site, win.start, win.end)).fetchall()
    first = minutes[0][0] if minutes else win.end
    hours = conn.execute(f"SELECT {cols} FROM hours {where}", (site, win.start, first)).fetchall()
    spans = conn.execute(f"SELECT start, coalesce(stop, {mark}) FROM battery WHERE site = {mark} "
                         f"AND coalesce(stop, {mark}) >= {mark} AND start < {mark}",
                         (win.end, site, win.end, win.start, win.end)).fetchall()
    return [Sample(ts=ts, load=load, voltage_min=vmin, voltage_max=vmax, runtime=runtime,
                   on_battery=any(a <= ts < b for a, b in spans))
            for ts, load, vmin, vmax, runtime in hours + minutes]


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (name,)).fetchone() is not None


def site_inputs(conn: sqlite3.Connection, sites: list[str], win: Window) -> Iterator[SiteInput]:
    """One SiteInput per site, its events read lazily when the report reaches it."""
    for site in sites:
        state = latest_state(conn, site)
        name = state.get("name") if state and isinstance(state.get("name"), str) else ""
        yield SiteInput(site=site, name=name or site, events=events(conn, site, win), state=state,
                        samples=samples(conn, site, win))
