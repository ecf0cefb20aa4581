"""The needs report's numbers from the dashboard's PostgreSQL (CONTRACT §6.5): the same readers
as dashboard/report/data.py, for a ``postgresql://`` ``dashboard.database``.

The database does the selecting (one site and window at a time, the ``pc`` of each event taken
out of its JSON by the server, only the kinds whose detail the report reads shipped whole); the
report's core (dashboard/report/facts.py) still folds each room's events in Python, one room at a
time. A read-only transaction: a report never changes the database.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from dashboard.report.build import SiteInput
from dashboard.report.data import DETAIL_KINDS, NO_DETAIL, ReportError, Row, history_samples
from dashboard.report.facts import Window
from dashboard.report.needs import Sample

_EVENTS_SQL = ("SELECT ts, kind, detail::jsonb ->> 'pc', CASE WHEN kind = ANY(%s) THEN detail END "
               "FROM events WHERE site = %s AND ts >= %s AND ts < %s ORDER BY seq")


def open_readonly(url: str) -> Any:
    """A read-only connection to the dashboard's PostgreSQL; ReportError (one line) when it
    cannot be reached or holds no Siaga data."""
    import psycopg
    from dashboard.store.engine import shown
    try:
        conn = psycopg.connect(url, connect_timeout=10)
        conn.read_only = True
        found = conn.execute("SELECT to_regclass('events') IS NOT NULL AND "
                             "to_regclass('latest') IS NOT NULL").fetchone()[0]
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ReportError(f"{shown(url)}: cannot read: {reason}") from None
    if not found:
        conn.close()
        raise ReportError(f"{shown(url)}: not a Siaga database (no events table)")
    return conn


def site_ids(conn: Any) -> list[str]:
    """Every site the database has seen: in its events or its last known states."""
    rows = conn.execute("SELECT site FROM latest UNION SELECT DISTINCT site FROM events").fetchall()
    return sorted(r[0] for r in rows)


def events(conn: Any, site: str, win: Window) -> Iterator[Row]:
    """The site's events inside the window, oldest first, through a server-side cursor."""
    with conn.cursor(name=f"report_{abs(hash(site))}") as cur:
        cur.itersize = 5000
        cur.execute(_EVENTS_SQL, (list(DETAIL_KINDS), site, win.start, win.end))
        for ts, kind, pc, detail in cur:
            yield (ts, kind, pc or "", NO_DETAIL if detail is None else _detail(detail))


def _detail(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def latest_state(conn: Any, site: str) -> dict[str, Any] | None:
    """The site's last known state snapshot, or None."""
    row = conn.execute("SELECT state FROM latest WHERE site = %s", (site,)).fetchone()
    return _detail(row[0]) or None if row else None


def samples(conn: Any, site: str, win: Window) -> list[Sample]:
    """The site's history buckets in the window (minutes for the last days, hours before)."""
    return history_samples(conn, site, win, "%s")


def site_inputs(conn: Any, sites: list[str], win: Window) -> Iterator[SiteInput]:
    """One SiteInput per site, its events read lazily when the report reaches it."""
    for site in sites:
        state = latest_state(conn, site)
        name = state.get("name") if state and isinstance(state.get("name"), str) else ""
        yield SiteInput(site=site, name=name or site, events=events(conn, site, win), state=state,
                        samples=samples(conn, site, win))
