"""The room's journal: every step of every outage in SQLite, in order, surviving power loss.

One table of events. ``seq`` grows by exactly 1 per event for the life of the file (CONTRACT §3),
so readers can tell when they missed one. WAL with ``synchronous=FULL``: an ``append`` that has
returned is on disk, even if the Pi loses power or the process is killed the next instant.
One writer (the daemon loop) and any number of reader threads share one connection behind a lock.

A disk that is full or a file that became read-only must not stop the room (CONTRACT §3: the
journal is evidence, the room is the job): an event that cannot be written is *held* in memory
with the seq it will have (this process is the file's only writer, so the next seq is known),
returned so the daemon publishes it at once, and written, in order and with that seq, as soon as
the file takes writes again (each later append and each ``flush``). One error line when writing
stops, one when it works again. Held events die with the process; nothing else is lost.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

from protocol.messages import JournalEvent, event_from_row

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
        self._held: list[JournalEvent] = []   # appended but not yet on disk, oldest first
        self._failing = False
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
        self._written = db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]

    def append(self, site: str, ts: float, kind: str, detail: dict[str, Any]) -> JournalEvent:
        """Give the event the next ``seq`` and write it in one transaction; return it. When the
        file cannot be written (disk full, read-only) the event is held and written later."""
        text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
        with self._lock:
            seq = self._written + len(self._held) + 1
            event = JournalEvent(site=site, seq=seq, ts=ts, kind=kind, detail=json.loads(text))
            self._held.append(event)
            self._write_held()
        return event

    def flush(self) -> int:
        """Try again to write the held events; how many are still held."""
        with self._lock:
            if self._held:
                self._write_held()
            return len(self._held)

    def _write_held(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO events (seq, site, ts, kind, detail) VALUES (?, ?, ?, ?, ?)",
                    [(e.seq, e.site, e.ts, e.kind, json.dumps(e.detail, ensure_ascii=False,
                                                             sort_keys=True)) for e in self._held])
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        except (sqlite3.Error, OSError) as exc:
            if not self._failing:
                logger.error("cannot write the journal %s (%s): events are kept in memory and "
                             "published, and written when it can", self.path, exc)
                self._failing = True
            return
        if self._failing:
            logger.warning("the journal %s takes writes again: %d held events written", self.path,
                           len(self._held))
            self._failing = False
        self._written = self._held[-1].seq
        self._held.clear()

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

    def sites(self) -> list[str]:
        """Every site id the journal's events were written under (one, unless site.id changed);
        empty when the file cannot be read."""
        with self._lock:
            try:
                return sorted(row[0] for row in self._db.execute("SELECT DISTINCT site FROM events"))
            except sqlite3.Error:
                return []

    def last_seq(self) -> int:
        """The seq of the newest event (held ones included), 0 for an empty journal."""
        with self._lock:
            return self._written + len(self._held)

    def close(self) -> None:
        """Close the database (the WAL is checkpointed by SQLite)."""
        with self._lock:
            if self._held:
                self._write_held()
            if self._held:
                logger.error("the journal %s still cannot be written: %d events (seq %d-%d) are "
                             "lost from it (they were published)", self.path, len(self._held),
                             self._held[0].seq, self._held[-1].seq)
            self._db.close()