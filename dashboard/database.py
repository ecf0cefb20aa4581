"""The dashboard's SQLite file: journal events, sampled history, the last state of each site.

One connection writes (the MQTT thread, under a lock); each web server thread reads through its
own connection. WAL lets readers and the writer work at the same time.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from edge.messages import JournalEvent, event_from_row, StateSnapshot

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    site TEXT NOT NULL, seq INTEGER NOT NULL, ts REAL NOT NULL, kind TEXT NOT NULL,
    detail TEXT NOT NULL, PRIMARY KEY (site, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE TABLE IF NOT EXISTS history (
    site TEXT NOT NULL, ts REAL NOT NULL, room TEXT NOT NULL,
    charge REAL, runtime REAL, load REAL, voltage REAL);
CREATE INDEX IF NOT EXISTS history_site_ts ON history (site, ts);
CREATE INDEX IF NOT EXISTS history_ts ON history (ts);
CREATE TABLE IF NOT EXISTS latest (site TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

OUTAGE_ROOMS = "('on_battery', 'wrapup', 'shutdown')"

# The alerts' outbox (dashboard/alerts.py): a row is written before anything is sent. ``done``
# lists the digests of the URLs that took it (space-separated), so a retry never sends twice
# where it already arrived; ``sent`` is set once every URL took it.
ALERTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, site TEXT NOT NULL, kind TEXT NOT NULL,
    created REAL NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, sent REAL,
    tries INTEGER NOT NULL DEFAULT 0, last_error TEXT, done TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS alert_outbox_unsent ON alert_outbox (id) WHERE sent IS NULL;
CREATE INDEX IF NOT EXISTS alert_outbox_repeat ON alert_outbox (site, kind, created);
"""
ALERT_COLUMNS = "id, site, kind, created, title, body, sent, tries, last_error, done"


@dataclass(frozen=True)
class HistoryBucket:
    """The average of the samples in one slice of a chart; None where nothing was measured."""

    index: int
    charge: float | None
    runtime: float | None
    load: float | None
    voltage: float | None
    outage: bool


class Database:
    """The SQLite file at ``path``; raises sqlite3.Error when it cannot be opened."""

    def __init__(self, path: str) -> None:
        self.path = path
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

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            with self._lock:
                self._readers.append(conn)
        return conn

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

    def add_sample(self, state: StateSnapshot, state_json: str) -> None:
        """One history point, and the state itself as the site's last known state."""
        load = next((u.load_pct for u in state.ups if u.load_pct is not None), None)
        volts = next((u.input_voltage for u in state.ups if u.input_voltage is not None), None)
        with self._lock:
            self._writer.execute(
                "INSERT INTO history (site, ts, room, charge, runtime, load, voltage) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (state.site, state.ts, state.room, state.power.charge_pct, state.power.runtime_s,
                 load, volts))
            self._writer.execute("INSERT OR REPLACE INTO latest (site, state) VALUES (?, ?)",
                                 (state.site, state_json))

    def forget_state(self, site: str) -> None:
        """Forget the last known state of a site."""
        with self._lock:
            self._writer.execute("DELETE FROM latest WHERE site = ?", (site,))

    def prune(self, history_before: float, events_before: float) -> None:
        """Delete history and events older than the given times."""
        with self._lock:
            self._writer.execute("DELETE FROM history WHERE ts < ?", (history_before,))
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

    def history(self, site: str, start: float, end: float, bucket_s: float) -> list[HistoryBucket]:
        """Samples of ``site`` in [start, end) averaged per bucket, in time order."""
        rows = self._reader().execute(
            "SELECT CAST((ts - ?) / ? AS INTEGER) AS b, AVG(charge), AVG(runtime), AVG(load), "
            f"AVG(voltage), MAX(room IN {OUTAGE_ROOMS}) FROM history "
            "WHERE site = ? AND ts >= ? AND ts < ? GROUP BY b ORDER BY b",
            (start, bucket_s, site, start, end))
        return [HistoryBucket(int(b), c, r, lo, v, bool(o)) for b, c, r, lo, v, o in rows]

    def secret_key(self) -> str:
        """A random key made on first use and kept."""
        with self._lock:
            self._writer.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('secret_key', ?)",
                                 (secrets.token_hex(32),))
            return self._writer.execute("SELECT value FROM meta WHERE key = 'secret_key'").fetchone()[0]

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

    def alert_tried(self, alert_id: int, done: str, sent: float | None, error: str | None) -> None:
        """Record one try: which URLs have it now, when it was sent everywhere, the last error."""
        with self._lock:
            self._writer.execute(
                "UPDATE alert_outbox SET tries = tries + 1, done = ?, sent = ?, "
                "last_error = COALESCE(?, last_error) WHERE id = ?", (done, sent, error, alert_id))

    def alert_list(self, limit: int) -> list[tuple]:
        """The newest ``limit`` rows, newest first (ALERT_COLUMNS)."""
        return self._reader().execute(
            f"SELECT {ALERT_COLUMNS} FROM alert_outbox ORDER BY id DESC LIMIT ?", (limit,)).fetchall()

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
