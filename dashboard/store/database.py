"""The dashboard's SQLite file (the default engine, dashboard/store/engine.py): journal events, the charts' history, the last state of each site.

One connection writes (the MQTT thread, under a lock); each web server thread reads through its
own connection. WAL lets readers and the writer work at the same time.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
from pathlib import Path
from typing import Callable, Iterator

from dashboard.store import history
from protocol.messages import JournalEvent, event_from_row

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    site TEXT NOT NULL, seq INTEGER NOT NULL, ts REAL NOT NULL, kind TEXT NOT NULL,
    detail TEXT NOT NULL, PRIMARY KEY (site, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE TABLE IF NOT EXISTS latest (site TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# The alerts' outbox (dashboard/alerts/outbox.py): a row is written before anything is sent. ``done``
# lists the digests of the URLs that took it (space-separated), so a retry never sends twice
# where it already arrived; ``sent`` is set once every URL took it. ``trying`` is the URL a
# delivery was started to and not yet recorded: still set when the row is sent again, the
# dashboard died mid-delivery, and the alert may have arrived (it goes again, marked as such).
ALERTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, site TEXT NOT NULL, kind TEXT NOT NULL,
    created REAL NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, sent REAL,
    tries INTEGER NOT NULL DEFAULT 0, last_error TEXT, done TEXT NOT NULL DEFAULT '',
    trying TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS alert_outbox_unsent ON alert_outbox (id) WHERE sent IS NULL;
CREATE INDEX IF NOT EXISTS alert_outbox_repeat ON alert_outbox (site, kind, created);
"""
ALERT_COLUMNS = "id, site, kind, created, title, body, sent, tries, last_error, done, trying"

# Each connection's page cache, in KiB. SQLite's default (2,000) fills as the file grows, and
# the dashboard has a writer and a reader per thread: bench/dashboard_rss.py measured 1,000
# outages at +2.6 MB RSS after outage 100 with it, +1.0 MB with 512 and +0.7 with 64, with no
# page slower at 512 (bench/dashboard_load.py): the OS caches the file anyway.
CACHE_KIB = 512


class SqliteDatabase:
    """The SQLite file at ``path`` (the Engine of dashboard/store/engine.py for one dashboard);
    raises sqlite3.Error when it cannot be opened."""

    shared = False     # one process: nothing to claim, nothing to hear from others

    def __init__(self, path: str) -> None:
        self.path = self.location = path
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass  # sqlite3 says what is wrong more precisely just below
        self._local = threading.local()
        self._lock = threading.Lock()
        self._readers: list[sqlite3.Connection] = []
        self._reset_logged: set[str] = set()
        self._writer = self._connect()
        self._writer.executescript(SCHEMA)
        history.migrate(self._writer)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA cache_size=-{int(CACHE_KIB)}")
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            with self._lock:
                self._readers.append(conn)
        return conn

    def last_seqs(self) -> dict[str, int]:
        """Each site's highest journal seq kept."""
        return dict(self._reader().execute("SELECT site, MAX(seq) FROM events GROUP BY site"))

    def add_event(self, event: JournalEvent) -> bool:
        """Store an event; False when (site, seq) is already there."""
        detail = json.dumps(event.detail, ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            cur = self._writer.execute(
                "INSERT OR IGNORE INTO events (site, seq, ts, kind, detail) VALUES (?, ?, ?, ?, ?)",
                (event.site, event.seq, event.ts, event.kind, detail))
            if cur.rowcount:
                return True
            kept = self._writer.execute("SELECT ts, kind FROM events WHERE site = ? AND seq = ?",
                                        (event.site, event.seq)).fetchone()
        if kept != (event.ts, event.kind) and event.site not in self._reset_logged:
            self._reset_logged.add(event.site)
            logger.warning("site %s sent seq %d again with other content: was its journal reset? "
                           "Events with seqs already kept are dropped", event.site, event.seq)
        return False

    def add_minute(self, minute: history.Minute) -> None:
        """A finished minute of one site's chart values."""
        with self._lock:
            history.write_minute(self._writer, minute)

    def save_state(self, site: str, state_json: str, ts: float) -> None:
        """Keep the state as the site's last known state (read back after a restart)."""
        with self._lock:
            self._writer.execute("INSERT OR REPLACE INTO latest (site, state) VALUES (?, ?)",
                                 (site, state_json))

    def battery_span(self, site: str, start: float | None = None, stop: float | None = None) -> None:
        """Open the site's on-battery span at ``start``, or close its open one at ``stop``."""
        with self._lock:
            if stop is not None:
                history.close_span(self._writer, site, stop)
            if start is not None:
                history.open_span(self._writer, site, start)

    def open_battery_spans(self) -> dict[str, float]:
        """site -> start of the on-battery span left open."""
        return history.open_spans(self._reader())

    def forget_state(self, site: str) -> None:
        """Forget the last known state of a site."""
        with self._lock:
            self._writer.execute("DELETE FROM latest WHERE site = ?", (site,))

    def prune(self, minutes_before: float, hours_before: float, events_before: float) -> None:
        """Delete chart minutes, chart hours and events older than the given times."""
        with self._lock:
            history.prune(self._writer, minutes_before, hours_before)
            self._writer.execute("DELETE FROM events WHERE ts < ?", (events_before,))

    def latest_states(self) -> list[tuple[str, str]]:
        """(site, state JSON) of every site kept."""
        return self._reader().execute("SELECT site, state FROM latest").fetchall()

    def has_events(self, site: str) -> bool:
        """True when at least one event of ``site`` is stored."""
        row = self._reader().execute("SELECT 1 FROM events WHERE site = ? LIMIT 1", (site,))
        return row.fetchone() is not None

    def events(self, site: str, limit: int, before: int | None = None) -> list[JournalEvent]:
        """Up to ``limit`` events of ``site`` below seq ``before``, newest first."""
        rows = self._reader().execute(
            "SELECT site, seq, ts, kind, detail FROM events WHERE site = ? AND seq < ? "
            "ORDER BY seq DESC LIMIT ?", (site, before if before is not None else 2**63 - 1, limit))
        return [event_from_row(*row) for row in rows]

    def recent_seqs(self, sites: list[str], window: int) -> dict[str, list[int]]:
        """site -> its newest ``window`` stored seqs, newest first."""
        conn = self._reader()
        return {site: [r[0] for r in conn.execute(
            "SELECT seq FROM events WHERE site = ? ORDER BY seq DESC LIMIT ?", (site, window))]
            for site in sites}

    def iter_events(self, site: str) -> Iterator[JournalEvent]:
        """Every event of ``site``, oldest first, read in chunks.

        Its own connection: a half-read cursor (the client went away) would otherwise hold a
        read snapshot open on this thread's shared connection and make later reads see old data.
        """
        conn = self._connect()
        try:
            cur = conn.execute(
                "SELECT site, seq, ts, kind, detail FROM events WHERE site = ? ORDER BY seq", (site,))
            while rows := cur.fetchmany(500):
                yield from (event_from_row(*row) for row in rows)
        finally:
            conn.close()

    def history_rows(self, site: str, start: float, end: float, bucket_s: float) -> list[tuple]:
        """Stored minutes (hours for buckets of an hour or more) of ``site`` in [start, end)."""
        return history.read_rows(self._reader(), site, start, end, bucket_s)

    def cut_spans(self, site: str, start: float, end: float,
                  seen: list[tuple[float, float | None]]) -> list[tuple[float, float | None]]:
        """The journal's cuts of ``site`` (power_lost to power_restored) overlapping [start, end);
        ``seen``: the on-battery spans of the states, for a cut whose restore is missing."""
        rows = history.cut_events(self._reader(), site, start, end)
        events = ((ts, kind, _duration(detail)) for ts, kind, detail in rows)
        return history.cut_spans(events, start, end, seen)

    def battery_spans(self, site: str, start: float, end: float) -> list[tuple[float, float | None]]:
        """On-battery spans of ``site`` overlapping [start, end)."""
        return history.spans(self._reader(), site, start, end)

    def first_data(self, site: str) -> float | None:
        """When the stored history of ``site`` starts; None without any."""
        return history.first_data(self._reader(), site)

    def secret_key(self) -> str:
        """A random key made on first use and kept."""
        with self._lock:
            self._writer.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('secret_key', ?)",
                                 (secrets.token_hex(32),))
            return self._writer.execute("SELECT value FROM meta WHERE key = 'secret_key'").fetchone()[0]

    def claim_replay(self, site: str, from_seq: int, attempt: int) -> bool:
        """Always True: no other dashboard could ask instead."""
        return True

    def recent_events(self, since: float) -> list[JournalEvent]:
        """Every site's events from ``since`` on, in time order."""
        rows = self._reader().execute("SELECT site, seq, ts, kind, detail FROM events WHERE ts >= ? "
                                      "ORDER BY ts, seq", (since,))
        return [event_from_row(*row) for row in rows]

    def lead_alerts(self) -> None:
        """Nothing to stand for: this dashboard runs the alert rules."""

    def leading(self, look: bool = True) -> bool:
        """Always True: this dashboard runs the alert rules."""
        return True

    def flush(self) -> None:
        """Nothing to wait for: every write is made when it is asked for."""

    def close(self) -> None:
        """Close every connection."""
        with self._lock:
            for conn in [*self._readers, self._writer]:
                conn.close()
            self._readers.clear()

    # ---- the alerts' outbox (ALERTS_SCHEMA) -------------------------------------------------

    def open_outbox(self) -> None:
        """Create the outbox table when it is not there yet."""
        with self._lock:
            self._writer.executescript(ALERTS_SCHEMA)
            columns = {row[1] for row in self._writer.execute("PRAGMA table_info(alert_outbox)")}
            if "trying" not in columns:      # an outbox made before 2026-12 (schema of v1.1)
                self._writer.execute("ALTER TABLE alert_outbox ADD COLUMN trying TEXT NOT NULL DEFAULT ''")

    def add_alert(self, site: str, kind: str, created: float, title: str, body: str,
                  quiet_s: float, held: Callable[[float | None], bool]) -> int | None:
        """Queue an alert; None (nothing written) when ``held(last created)`` says it repeats."""
        with self._lock:
            last = self._writer.execute(
                "SELECT MAX(created) FROM alert_outbox WHERE site = ? AND kind = ? AND created > ?",
                (site, kind, created - quiet_s)).fetchone()[0]
            if held(last):
                return None
            cur = self._writer.execute(
                "INSERT INTO alert_outbox (site, kind, created, title, body) VALUES (?, ?, ?, ?, ?)",
                (site, kind, created, title, body))
            return cur.lastrowid

    def unsent_alerts(self, key: str, limit: int = 500) -> list[tuple]:
        """The oldest rows the URL ``key`` has not taken yet, oldest first (ALERT_COLUMNS)."""
        with self._lock:
            return self._writer.execute(
                f"SELECT {ALERT_COLUMNS} FROM alert_outbox WHERE sent IS NULL "
                "AND instr(' ' || done || ' ', ' ' || ? || ' ') = 0 ORDER BY id LIMIT ?",
                (key, limit)).fetchall()

    def alert_trying(self, alert_id: int, key: str) -> str | None:
        """A delivery to the URL ``key`` starts now (alert_tried ends it): the URLs that have the
        row so far (one dashboard: the row is always its own)."""
        with self._lock:
            self._writer.execute("UPDATE alert_outbox SET trying = ? WHERE id = ?", (key, alert_id))
            row = self._writer.execute("SELECT done FROM alert_outbox WHERE id = ?", (alert_id,)).fetchone()
        return None if row is None else row[0]

    def alert_tried(self, alert_id: int, done: str, sent: float | None, error: str | None) -> None:
        """Record one try: which URLs have it now, when it was sent everywhere, the last error."""
        with self._lock:
            self._writer.execute(
                "UPDATE alert_outbox SET tries = tries + 1, done = ?, sent = ?, trying = '', "
                "last_error = COALESCE(?, last_error) WHERE id = ?", (done, sent, error, alert_id))

    def alert_list(self, limit: int) -> list[tuple]:
        """The newest ``limit`` rows, newest first (ALERT_COLUMNS)."""
        return self._reader().execute(
            f"SELECT {ALERT_COLUMNS} FROM alert_outbox ORDER BY id DESC LIMIT ?", (limit,)).fetchall()

    def alert_row(self, alert_id: int) -> tuple | None:
        """One outbox row (ALERT_COLUMNS), or None."""
        return self._reader().execute(
            f"SELECT {ALERT_COLUMNS} FROM alert_outbox WHERE id = ?", (alert_id,)).fetchone()

    def last_alerts(self, since: float) -> list[tuple[str, str, float]]:
        """(site, kind, newest created) of the alerts queued after ``since``."""
        with self._lock:
            return self._writer.execute(
                "SELECT site, kind, MAX(created) FROM alert_outbox WHERE created > ? "
                "GROUP BY site, kind", (since,)).fetchall()

    def prune_alerts(self, before: float) -> None:
        """Forget sent alerts older than ``before``."""
        with self._lock:
            self._writer.execute("DELETE FROM alert_outbox WHERE sent IS NOT NULL AND created < ?",
                                 (before,))


def _duration(detail: str) -> float | None:
    """``duration_s`` of an event's detail JSON; None when it has none (or is not JSON)."""
    try:
        value = json.loads(detail).get("duration_s")
    except (ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, (int, float)) else None
