"""The room's journal: every step of every outage in SQLite, in order, surviving power loss.

One table of events. ``seq`` grows by exactly 1 per event for the life of the file (CONTRACT §3),
so readers can tell when they missed one. WAL with ``synchronous=FULL``: an ``append`` that has
returned is on disk, even if the Pi loses power or the process is killed the next instant.
One writer (the daemon loop) and any number of reader threads share one connection behind a lock.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

from edge.messages import JournalEvent, event_from_row

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,      -- 1, 2, 3, ... never reused, never skipped
    site TEXT NOT NULL,
    ts REAL NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL          -- JSON object
);
CREATE INDEX IF NOT EXISTS events_kind_seq ON events (kind, seq);
"""
_COLUMNS = "site, seq, ts, kind, detail"


class Journal:
    """The SQLite journal at ``path`` (its directory is created)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we open every transaction ourselves (BEGIN IMMEDIATE).
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                   timeout=10)
        self._lock = threading.Lock()
        try:
            self._setup()
        except sqlite3.Error:
            self._db.close()
            raise

    def _setup(self) -> None:
        db = self._db
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # NORMAL in WAL may lose the last commits on power loss
        db.executescript(SCHEMA)
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        elif version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"{self.path} was written by a newer Siaga "
                                        f"(schema {version}, this one knows {SCHEMA_VERSION})")

    def append(self, site: str, ts: float, kind: str, detail: dict[str, Any]) -> JournalEvent:
        """Write one event with the next ``seq``, in one transaction; return it."""
        text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM events").fetchone()[0]
                self._db.execute("INSERT INTO events (seq, site, ts, kind, detail) "
                                 "VALUES (?, ?, ?, ?, ?)", (seq, site, ts, kind, text))
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        return JournalEvent(site=site, seq=seq, ts=ts, kind=kind, detail=json.loads(text))

    def events(self, limit: int = 50, before: int | None = None) -> list[JournalEvent]:
        """Up to ``limit`` events, newest first; only those with seq < ``before`` when given."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM events WHERE seq < ? ORDER BY seq DESC LIMIT ?",
                (before if before is not None else 2**63 - 1, max(0, limit))).fetchall()
        return [event_from_row(*row) for row in rows]

    def events_from(self, from_seq: int, limit: int) -> list[JournalEvent]:
        """Up to ``limit`` events with seq >= ``from_seq``, oldest first (a replay's batch)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM events WHERE seq >= ? ORDER BY seq LIMIT ?",
                (from_seq, max(0, limit))).fetchall()
        return [event_from_row(*row) for row in rows]

    def since_last(self, kind: str, unless: str) -> list[JournalEvent]:
        """From the last ``kind`` event on, oldest first; [] if none, or ``unless`` came after it."""
        with self._lock:
            start = self._db.execute("SELECT MAX(seq) FROM events WHERE kind = ?",
                                     (kind,)).fetchone()[0]
            if start is None:
                return []
            ended = self._db.execute("SELECT 1 FROM events WHERE kind = ? AND seq > ? LIMIT 1",
                                     (unless, start)).fetchone()
            if ended:
                return []
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM events WHERE seq >= ? ORDER BY seq",
                                    (start,)).fetchall()
        return [event_from_row(*row) for row in rows]

    def latest(self, kinds: tuple[str, ...], limit: int = 500) -> list[JournalEvent]:
        """Up to ``limit`` events of these kinds, newest first (e.g. the meetings still open)."""
        marks = ", ".join("?" * len(kinds))
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM events WHERE kind IN ({marks}) ORDER BY seq DESC LIMIT ?",
                (*kinds, max(0, limit))).fetchall()
        return [event_from_row(*row) for row in rows]

    def last_seq(self) -> int:
        """The seq of the newest event, 0 for an empty journal."""
        with self._lock:
            return self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]

    def close(self) -> None:
        """Close the database (the WAL is checkpointed by SQLite)."""
        with self._lock:
            self._db.close()