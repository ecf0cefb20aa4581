"""The dashboard's database on a PostgreSQL server, shared by several dashboards (CONTRACT §6.5).

The same tables as the SQLite file (dashboard/store/database.py), plus what several processes
need: ``replay_asks`` (a gap is asked for by one dashboard), a claim with a lease on each outbox
row (sent by one dashboard; a row whose claimer died is taken again when the lease ends), and an
advisory lock that makes one dashboard at a time run the alert rules.

Writes are queued and one writer thread commits each burst as one transaction (psycopg 3,
``unnest`` arrays and ``executemany``): one round trip and one commit per burst, not per
message. The transaction ends with ``pg_notify``, so every other dashboard hears, in commit
order, which states changed and which events arrived, and reads them from the tables.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from dashboard.store import history
from dashboard.store.database import ALERT_COLUMNS, _duration
from dashboard.store.engine import DatabaseUnavailable
from protocol.messages import JournalEvent, event_from_row

logger = logging.getLogger(__name__)
# The pool's own warnings (each failed reconnect, each broken connection it drops) would repeat
# every second while the server restarts: Reach says it once instead.
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)

SCHEMA_VERSION = 3          # 2: events.batch (the writer's burst); 3: alert_outbox.trying
SCHEMA_LOCK = 7_344_001      # pg_advisory_xact_lock while the schema is made or migrated
LEADER_LOCK = 7_344_002      # pg_try_advisory_lock held by the dashboard running the alert rules
CLAIM_LOCK = 7_344_003       # pg_advisory_xact_lock while a dashboard claims outbox rows
CHANNEL = "siaga_changes"
NOTIFY_BYTES = 7000          # pg_notify's payload must stay under 8000 bytes
BATCH = 2000                 # queued writes per transaction at most
LEASE_S = 120.0              # an outbox row claimed by a dashboard that died is free again after this
DEAD_CLAIM_S = 10.0          # ... or this long after its claim, once no session bears the claimer's name
APP_NAME = "siaga-dashboard-"
POOL_WAIT_S = 5.0            # a read waits this long for a connection while the server is away
CLAIM = 50                   # outbox rows claimed at once (each is sent well within the lease)

_BUCKET = ("site TEXT NOT NULL, start DOUBLE PRECISION NOT NULL, "
           + ", ".join(f"{c} DOUBLE PRECISION" for c in history.COLUMNS) + ", PRIMARY KEY (site, start)")
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS events (
    site TEXT NOT NULL, seq BIGINT NOT NULL, ts DOUBLE PRECISION NOT NULL, kind TEXT NOT NULL,
    detail TEXT NOT NULL, batch TEXT, PRIMARY KEY (site, seq));
ALTER TABLE events ADD COLUMN IF NOT EXISTS batch TEXT;
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE TABLE IF NOT EXISTS latest (site TEXT PRIMARY KEY, state TEXT NOT NULL,
    ts DOUBLE PRECISION NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS minutes ({_BUCKET});
CREATE INDEX IF NOT EXISTS minutes_start ON minutes (start);
CREATE TABLE IF NOT EXISTS hours ({_BUCKET});
CREATE INDEX IF NOT EXISTS hours_start ON hours (start);
CREATE TABLE IF NOT EXISTS battery (
    site TEXT NOT NULL, start DOUBLE PRECISION NOT NULL, stop DOUBLE PRECISION,
    PRIMARY KEY (site, start));
CREATE TABLE IF NOT EXISTS alert_outbox (
    id BIGSERIAL PRIMARY KEY, site TEXT NOT NULL, kind TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,
    sent DOUBLE PRECISION, tries INTEGER NOT NULL DEFAULT 0, last_error TEXT,
    done TEXT NOT NULL DEFAULT '', claimed_by TEXT, claimed_until DOUBLE PRECISION,
    trying TEXT NOT NULL DEFAULT '');
ALTER TABLE alert_outbox ADD COLUMN IF NOT EXISTS trying TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS alert_outbox_unsent ON alert_outbox (id) WHERE sent IS NULL;
CREATE INDEX IF NOT EXISTS alert_outbox_repeat ON alert_outbox (site, kind, created);
CREATE TABLE IF NOT EXISTS replay_asks (
    site TEXT NOT NULL, from_seq BIGINT NOT NULL, attempt INTEGER NOT NULL,
    asked_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (site, from_seq, attempt));
"""


def _merge_sql(table: str) -> str:
    """An upsert that widens a stored bucket by a new one (LEAST/GREATEST skip NULLs)."""
    sets = []
    for m in history.METRICS:
        lo, hi, last = f"{m}_min", f"{m}_max", f"{m}_last"
        sets += [f"{lo} = LEAST({table}.{lo}, excluded.{lo})",
                 f"{hi} = GREATEST({table}.{hi}, excluded.{hi})",
                 f"{last} = COALESCE(excluded.{last}, {table}.{last})"]
    marks = ", ".join(["%s"] * (len(history.COLUMNS) + 2))
    return (f"INSERT INTO {table} (site, start, {', '.join(history.COLUMNS)}) VALUES ({marks}) "
            f"ON CONFLICT (site, start) DO UPDATE SET {', '.join(sets)}")


MERGE = {"minutes": _merge_sql("minutes"), "hours": _merge_sql("hours")}
# A row already there is not new, unless this very batch stored it: a commit whose answer was
# lost (the connection died after COMMIT) is sent again, and its events must count as new then,
# or the alert rules would never hear of them. The no-op update touches only such rows.
INSERT_EVENTS = ("INSERT INTO events (site, seq, ts, kind, detail, batch) SELECT * FROM unnest("
                 "%s::text[], %s::bigint[], %s::float8[], %s::text[], %s::text[], %s::text[]) "
                 "ON CONFLICT (site, seq) DO UPDATE SET batch = excluded.batch "
                 "WHERE events.batch = excluded.batch RETURNING site, seq")
# Two dashboards may write one site's states out of order: the newer state (its ts) stays.
UPSERT_LATEST = ("INSERT INTO latest (site, state, ts) SELECT * FROM unnest(%s::text[], %s::text[], "
                 "%s::float8[]) ON CONFLICT (site) DO UPDATE SET state = excluded.state, "
                 "ts = excluded.ts WHERE latest.ts <= excluded.ts")


class Reach:
    """Whether the server answers, said in the log once when it stops (one WARNING line, whichever
    thread meets it first) and once when it is back (INFO), not at every retry."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.down_since: float | None = None
        self._lock = threading.Lock()

    def lost(self, exc: BaseException) -> None:
        with self._lock:
            if self.down_since is not None:
                return
            self.down_since = time.monotonic()
        logger.warning("PostgreSQL at %s cannot be reached (%s); the dashboard serves what it "
                       "holds, keeps what it hears and writes it when the server is back",
                       self.where, _first_line(exc))

    def back(self) -> None:
        if self.down_since is None:
            return
        with self._lock:
            since, self.down_since = self.down_since, None
        if since is not None:
            logger.info("PostgreSQL at %s is back after %.0f s", self.where, time.monotonic() - since)


def _first_line(exc: BaseException) -> str:
    """psycopg's message without its hint lines ("Is the server running on that host...")."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _value(cursor: psycopg.Cursor[Any]) -> Any:
    """The first column of the one row a query always returns (an aggregate, a RETURNING)."""
    row = cursor.fetchone()
    assert row is not None
    return row[0]


def _where(url: str) -> str:
    """host:port/database of a URL, without the user and password."""
    return url.split("@", 1)[-1].split("?", 1)[0].removeprefix("postgresql://")


@dataclass
class Heard:
    """What the other dashboards committed, as one notification batch tells it."""

    states: list[tuple[str, str]] = field(default_factory=list)     # (site, state JSON)
    events: list[tuple[str, int]] = field(default_factory=list)     # (site, seq) newly stored
    full: list[JournalEvent] = field(default_factory=list)          # those events, when wanted
    forgotten: list[str] = field(default_factory=list)
    resync: bool = False           # the listener reconnected: ``states`` is every site


@dataclass
class _Batch:
    events: list[tuple[JournalEvent, Callable, Callable]] = field(default_factory=list)
    states: dict[str, tuple[str, float]] = field(default_factory=dict)   # site -> (JSON, ts)
    statements: list[tuple[str, tuple]] = field(default_factory=list)
    merges: dict[str, list[tuple]] = field(default_factory=lambda: {"minutes": [], "hours": []})
    forgotten: list[str] = field(default_factory=list)
    count: int = 0
    id: str = field(default_factory=lambda: uuid.uuid4().hex)   # events.batch of its rows


class PostgresDatabase:
    """The Engine of dashboard/store/engine.py on PostgreSQL; raises psycopg.Error when the
    server cannot be reached or refuses."""

    shared = True

    def __init__(self, url: str, clock: Callable[[], float] = time.time) -> None:
        self.location, self.clock = url, clock
        self.origin = uuid.uuid4().hex[:12]
        self.reach = Reach(_where(url))
        self.on_heard: Callable[[Heard], None] | None = None   # set by the store
        self.want_events: Callable[[], bool] = lambda: False
        self._make_schema()
        # The pool always keeps a connection, named after this dashboard: while it lives, its
        # name is in pg_stat_activity, so the others can tell a claim of the dead (unsent_alerts).
        self.pool = ConnectionPool(url, min_size=1, max_size=8, open=True, timeout=30,
                                   check=ConnectionPool.check_connection,
                                   kwargs={"autocommit": True,
                                           "application_name": APP_NAME + self.origin},
                                   name="siaga")
        self._cond = threading.Condition()
        self._batch = _Batch()
        self._queued = self._committed = 0
        self._stop = threading.Event()
        self._leader: psycopg.Connection | None = None
        self._want_lead = False
        self._lead_lock = threading.Lock()
        self._lead_checked = 0.0
        self._threads = [threading.Thread(target=self._write_loop, name="siaga-pg-writer", daemon=True),
                         threading.Thread(target=self._listen_loop, name="siaga-pg-listen", daemon=True)]
        for thread in self._threads:
            thread.start()

    def _make_schema(self) -> None:
        with psycopg.connect(self.location, connect_timeout=10) as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is not None and int(row[0]) >= SCHEMA_VERSION:
                return
            conn.execute(SCHEMA)
            conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', %s) ON CONFLICT "
                         "(key) DO UPDATE SET value = excluded.value", (str(SCHEMA_VERSION),))

    # ---- writes: queued, one transaction per burst ------------------------------------------

    def _queue(self, add: Callable[[_Batch], None]) -> None:
        with self._cond:
            add(self._batch)
            self._batch.count += 1
            self._queued += 1
            self._cond.notify()

    def queue_event(self, event: JournalEvent, kept: Callable[[JournalEvent], None],
                    duplicate: Callable[[JournalEvent], None]) -> None:
        """Store ``event`` with the next burst; ``kept`` or ``duplicate`` is called after commit."""
        self._queue(lambda b: b.events.append((event, kept, duplicate)))

    def add_event(self, event: JournalEvent) -> bool:
        """Store an event now; False when (site, seq) is already there."""
        new: list[bool] = []
        self.queue_event(event, lambda e: new.append(True), lambda e: new.append(False))
        self.flush()
        return bool(new and new[0])

    def save_state(self, site: str, state_json: str, ts: float) -> None:
        """Keep the state as the site's last known state (the other dashboards hear of it); of
        two states of a site in one burst the newer ``ts`` is kept."""

        def add(b: _Batch) -> None:
            if site not in b.states or b.states[site][1] <= ts:
                b.states[site] = (state_json, ts)
        self._queue(add)

    def forget_state(self, site: str) -> None:
        """Forget the last known state of a site."""
        def add(b: _Batch) -> None:
            b.states.pop(site, None)
            b.forgotten.append(site)
        self._queue(add)

    def add_minute(self, minute: history.Minute) -> None:
        """A finished minute of one site's chart values."""
        row = minute.row()
        hour = (row[0], history.floor_to(row[1], history.HOUR), *row[2:])

        def add(b: _Batch) -> None:
            b.merges["minutes"].append(row)
            b.merges["hours"].append(hour)
        self._queue(add)

    def battery_span(self, site: str, start: float | None = None, stop: float | None = None) -> None:
        """Open the site's on-battery span at ``start``, or close its open one at ``stop``."""
        todo: list[tuple[str, tuple]] = []
        if stop is not None:
            todo.append(("UPDATE battery SET stop = GREATEST(start, %s) WHERE site = %s "
                         "AND stop IS NULL", (stop, site)))
        if start is not None:
            todo.append(("INSERT INTO battery (site, start, stop) VALUES (%s, %s, NULL) "
                         "ON CONFLICT (site, start) DO UPDATE SET stop = NULL", (site, start)))
        self._queue(lambda b: b.statements.extend(todo))

    def prune(self, minutes_before: float, hours_before: float, events_before: float) -> None:
        """Delete chart minutes, chart hours, events and old replay asks."""
        self._queue(lambda b: b.statements.extend([
            ("DELETE FROM minutes WHERE start < %s", (minutes_before,)),
            ("DELETE FROM hours WHERE start < %s", (hours_before,)),
            ("DELETE FROM battery WHERE stop IS NOT NULL AND stop < %s", (hours_before,)),
            ("DELETE FROM events WHERE ts < %s", (events_before,)),
            ("DELETE FROM replay_asks WHERE asked_at < %s", (minutes_before,))]))

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every write queued so far is committed."""
        with self._cond:
            target = self._queued
            self._cond.wait_for(lambda: self._committed >= target or self._stop.is_set(), timeout)

    def _write_loop(self) -> None:
        conn: psycopg.Connection | None = None
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._batch.count or self._stop.is_set(), 1.0)
                if not self._batch.count and self._stop.is_set():
                    if conn is not None:
                        conn.close()
                    return
                batch, self._batch = self._batch, _Batch()
            kept: set[tuple[str, int]] | None = None
            while True:
                fresh = conn is None or conn.closed
                try:
                    if conn is None or fresh:
                        conn = psycopg.connect(self.location)
                    kept = self._commit(conn, batch)
                    self.reach.back()
                    break
                except psycopg.OperationalError as exc:  # the server restarts, the network drops
                    if conn is not None:
                        conn.close()
                    conn = None
                    if not fresh:     # a connection the restart ended: a new one at once
                        continue
                    self.reach.lost(exc)
                    if self._stop.wait(1.0):
                        logger.error("PostgreSQL unreachable while stopping: %d writes lost", batch.count)
                        kept = None
                        break
                except psycopg.Error as exc:  # refused (a constraint, a full disk): try again
                    logger.warning("writing to PostgreSQL failed (%s); trying again", _first_line(exc))
                    if conn is not None:
                        conn.close()
                    conn = None
                    if self._stop.wait(1.0):
                        logger.error("PostgreSQL unreachable while stopping: %d writes lost", batch.count)
                        kept = None
                        break
            if kept is not None:
                self._after(batch, kept)
            with self._cond:
                self._committed += batch.count
                self._cond.notify_all()

    def _commit(self, conn: psycopg.Connection, batch: _Batch) -> set[tuple[str, int]]:
        new: set[tuple[str, int]] = set()
        with conn.transaction(), conn.cursor() as cur:
            if batch.events:
                # One row per (site, seq): an upsert may not touch a row twice in one statement
                # (the same event twice in a burst: the first is kept, _after counts the second).
                unique: dict[tuple[str, int], JournalEvent] = {}
                for event, _, _ in batch.events:
                    unique.setdefault((event.site, event.seq), event)
                events = list(unique.values())
                cur.execute(INSERT_EVENTS, (
                    [e.site for e in events], [e.seq for e in events], [e.ts for e in events],
                    [e.kind for e in events],
                    [json.dumps(e.detail, ensure_ascii=False, separators=(",", ":")) for e in events],
                    [batch.id] * len(events)))
                new = {(site, seq) for site, seq in cur.fetchall()}
            if batch.states:
                cur.execute(UPSERT_LATEST, (list(batch.states), [j for j, _ in batch.states.values()],
                                            [ts for _, ts in batch.states.values()]))
            if batch.forgotten:
                cur.execute("DELETE FROM latest WHERE site = ANY(%s)", (batch.forgotten,))
            for table, rows in batch.merges.items():     # min/max merges: any order will do
                if rows:
                    cur.executemany(MERGE[table], rows)
            for sql, rows in _runs(batch.statements):   # executemany: pipelined, not a round trip each
                cur.executemany(sql, rows)
            for payload in _notices(self.origin, list(batch.states), sorted(new), batch.forgotten):
                cur.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
        return new

    def _after(self, batch: _Batch, new: set[tuple[str, int]]) -> None:
        for event, kept, duplicate in batch.events:
            key = (event.site, event.seq)
            try:
                if key in new:
                    new.discard(key)    # the same event twice in one burst: the second is a duplicate
                    kept(event)
                else:
                    duplicate(event)
            except Exception:  # noqa: BLE001 - one listener's bug must not stop the writer
                logger.exception("handling a stored event failed")

    # ---- what the other dashboards wrote ----------------------------------------------------

    def _listen_loop(self) -> None:
        """LISTEN, and read what each notice names through the same connection: a server going
        away is met there at once (and said once, by Reach), and the notices not yet read are
        kept for the next connection. (Reading through the pool instead waited up to 5 s for a
        connection, and its failure killed this thread.)"""
        resync = False
        pending: list[str] = []   # notices heard, not yet read from the tables
        while not self._stop.is_set():
            connected = False
            try:
                with psycopg.connect(self.location, autocommit=True) as conn:
                    connected = True
                    conn.execute(f"LISTEN {CHANNEL}")
                    if resync:
                        self.reach.back()
                        states = conn.execute("SELECT site, state FROM latest").fetchall()
                        self._hear(Heard(states=states, resync=True))
                    resync = True
                    while not self._stop.is_set():
                        pending += [n.payload for n in conn.notifies(timeout=0.2, stop_after=100)]
                        if pending:
                            heard = self._gather(conn, pending)
                            pending = []
                            self._hear(heard)
            except psycopg.OperationalError as exc:
                if self._stop.is_set():
                    continue
                if connected:             # a session the restart ended: a new one at once
                    self._stop.wait(0.1)
                else:
                    self.reach.lost(exc)
                    self._stop.wait(1.0)
            except psycopg.Error as exc:
                if not self._stop.is_set():
                    logger.warning("listening to PostgreSQL failed (%s); again in 1 s", _first_line(exc))
                    self._stop.wait(1.0)

    def _gather(self, conn: psycopg.Connection, payloads: list[str]) -> Heard:
        heard, sites = Heard(), set()
        for payload in payloads:
            try:
                notice = json.loads(payload)
                if notice.get("o") == self.origin:
                    continue
                named = ({str(s) for s in notice.get("s", ())},
                         [(str(site), int(seq)) for site, seq in notice.get("e", ())],
                         [str(f) for f in notice.get("f", ())])
            except (ValueError, TypeError, AttributeError):   # not one of ours: the rest still counts
                logger.warning("a PostgreSQL notice on %s is not a Siaga one; ignored", CHANNEL)
                continue
            sites.update(named[0])
            heard.events += named[1]
            heard.forgotten += named[2]
        if sites:
            heard.states = conn.execute("SELECT site, state FROM latest WHERE site = ANY(%s)",
                                        (sorted(sites),)).fetchall()
        if heard.events and self.want_events():
            heard.full = self._events_of(conn, heard.events)
        return heard

    @staticmethod
    def _events_of(conn: psycopg.Connection, keys: list[tuple[str, int]]) -> list[JournalEvent]:
        rows = conn.execute(
            "SELECT e.site, e.seq, e.ts, e.kind, e.detail FROM events e JOIN unnest("
            "%s::text[], %s::bigint[]) AS k(site, seq) ON e.site = k.site AND e.seq = k.seq "
            "ORDER BY e.ts, e.seq", ([s for s, _ in keys], [q for _, q in keys])).fetchall()
        return [event_from_row(*row) for row in rows]

    def _hear(self, heard: Heard) -> None:
        if self.on_heard is not None:
            try:
                self.on_heard(heard)
            except Exception:  # noqa: BLE001 - the listener must outlive one bad batch
                logger.exception("taking what other dashboards stored failed")

    # ---- reads ------------------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """A connection of the pool; DatabaseUnavailable while the server is away. Not logged
        here: the listener's connection meets a restart at once and says it (Reach), and the
        pool may still be waiting out its reconnect backoff a few seconds after the server is back."""
        try:
            with self.pool.connection(timeout=POOL_WAIT_S) as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise DatabaseUnavailable(_first_line(exc)) from None

    def _all(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._connection() as conn:
            return conn.execute(sql, params).fetchall()

    def _one(self, sql: str, params: tuple = ()) -> tuple | None:
        with self._connection() as conn:
            return conn.execute(sql, params).fetchone()

    def open_battery_spans(self) -> dict[str, float]:
        """site -> start of the on-battery span left open."""
        return dict(self._all("SELECT site, MAX(start) FROM battery WHERE stop IS NULL GROUP BY site"))

    def latest_states(self) -> list[tuple[str, str]]:
        """(site, state JSON) of every site kept."""
        return self._all("SELECT site, state FROM latest")

    def has_events(self, site: str) -> bool:
        """True when at least one event of ``site`` is stored."""
        return self._one("SELECT 1 FROM events WHERE site = %s LIMIT 1", (site,)) is not None

    def events(self, site: str, limit: int, before: int | None = None) -> list[JournalEvent]:
        """Up to ``limit`` events of ``site`` below seq ``before``, newest first."""
        rows = self._all("SELECT site, seq, ts, kind, detail FROM events WHERE site = %s AND "
                         "seq < %s ORDER BY seq DESC LIMIT %s",
                         (site, before if before is not None else 2**63 - 1, limit))
        return [event_from_row(*row) for row in rows]

    def recent_seqs(self, sites: list[str], window: int) -> dict[str, list[int]]:
        """site -> its newest ``window`` stored seqs, newest first (one query)."""
        rows = self._all("SELECT site, seq FROM (SELECT site, seq, row_number() OVER (PARTITION BY "
                         "site ORDER BY seq DESC) AS n FROM events WHERE site = ANY(%s)) AS r "
                         "WHERE n <= %s ORDER BY site, seq DESC", (sites, window))
        out: dict[str, list[int]] = {site: [] for site in sites}
        for site, seq in rows:
            out[site].append(seq)
        return out

    def iter_events(self, site: str) -> Iterator[JournalEvent]:
        """Every event of ``site``, oldest first, through a server-side cursor."""
        with psycopg.connect(self.location) as conn, conn.cursor(name="siaga_events") as cur:
            cur.itersize = 500
            cur.execute("SELECT site, seq, ts, kind, detail FROM events WHERE site = %s "
                        "ORDER BY seq", (site,))
            for row in cur:
                yield event_from_row(*row)

    def history_rows(self, site: str, start: float, end: float, bucket_s: float) -> list[tuple]:
        """Stored minutes (hours for buckets of an hour or more) of ``site`` in [start, end)."""
        table = "hours" if bucket_s >= history.HOUR else "minutes"
        return self._all(f"SELECT start, {', '.join(history.COLUMNS)} FROM {table} WHERE site = %s "
                         "AND start >= %s AND start < %s ORDER BY start", (site, start, end))

    def cut_spans(self, site: str, start: float, end: float,
                  seen: list[tuple[float, float | None]]) -> list[tuple[float, float | None]]:
        """The journal's cuts of ``site`` (power_lost to power_restored) overlapping [start, end)."""
        rows = self._all(
            "SELECT ts, kind, detail FROM events WHERE site = %s AND kind IN ('power_lost', "
            "'power_restored') AND ts < %s AND ts >= coalesce((SELECT max(ts) FROM events WHERE "
            "site = %s AND kind = 'power_lost' AND ts < %s), %s) ORDER BY ts, seq",
            (site, end, site, start, start))
        return history.cut_spans(((ts, kind, _duration(detail)) for ts, kind, detail in rows),
                                 start, end, seen)

    def battery_spans(self, site: str, start: float, end: float) -> list[tuple[float, float | None]]:
        """On-battery spans of ``site`` overlapping [start, end)."""
        return self._all("SELECT start, stop FROM battery WHERE site = %s AND start < %s AND "
                         "(stop IS NULL OR stop > %s) ORDER BY start", (site, end, start))

    def first_data(self, site: str) -> float | None:
        """When the stored history of ``site`` starts (minutes are exact, hours reach further)."""
        row = self._one("SELECT (SELECT MIN(start) FROM minutes WHERE site = %s), "
                        "(SELECT MIN(start) FROM hours WHERE site = %s)", (site, site))
        minute, hour = row if row else (None, None)
        if minute is not None and (hour is None or hour > minute - history.HOUR):
            return minute
        return hour

    def secret_key(self) -> str:
        """A random key made on first use and kept (the same for every dashboard)."""
        with self._connection() as conn:
            conn.execute("INSERT INTO meta (key, value) VALUES ('secret_key', %s) ON CONFLICT "
                         "DO NOTHING", (secrets.token_hex(32),))
            return _value(conn.execute("SELECT value FROM meta WHERE key = 'secret_key'"))

    def claim_replay(self, site: str, from_seq: int, attempt: int) -> bool:
        """True for the one dashboard that is to ask ``site`` to replay (this attempt)."""
        return self._one("INSERT INTO replay_asks (site, from_seq, attempt, asked_at) VALUES "
                         "(%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
                         (site, from_seq, attempt, self.clock())) is not None

    # ---- the alerts' outbox -----------------------------------------------------------------

    def open_outbox(self) -> None:
        """The outbox is part of the schema already."""

    def add_alert(self, site: str, kind: str, created: float, title: str, body: str,
                  quiet_s: float, held: Callable[[float | None], bool]) -> int | None:
        """Queue an alert; None when ``held(last created)`` says it repeats. The check and the
        insert hold a lock on (site, kind), so two dashboards cannot both queue a repeat."""
        with self._connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"alert/{site}/{kind}",))
            last = _value(conn.execute("SELECT MAX(created) FROM alert_outbox WHERE site = %s AND "
                                       "kind = %s AND created > %s", (site, kind, created - quiet_s)))
            if held(last):
                return None
            again = conn.execute("SELECT id FROM alert_outbox WHERE site = %s AND kind = %s AND "
                                 "created = %s", (site, kind, created)).fetchone()
            if again is not None:   # a retry whose first try was committed, its answer lost
                return again[0]
            return _value(conn.execute("INSERT INTO alert_outbox (site, kind, created, title, body) "
                                       "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                                       (site, kind, created, title, body)))

    def unsent_alerts(self, key: str, limit: int = 500) -> list[tuple]:
        """The oldest rows the URL ``key`` has not taken, claimed by this dashboard for LEASE_S,
        up to the first one another living dashboard holds: that one goes to the URL first
        (oldest first, to each URL), so none younger is taken meanwhile. A claim whose dashboard
        has no session left (SIGKILLed mid-send) is taken DEAD_CLAIM_S after it was made, not
        after the whole lease: the grace lets a living dashboard reconnect after a PostgreSQL
        restart. Claims are made one dashboard at a time, each seeing the claims before it."""
        now = self.clock()
        wanted = "sent IS NULL AND NOT (%(key)s = ANY(string_to_array(done, ' ')))"
        free = ("(claimed_until IS NULL OR claimed_until < %(now)s OR claimed_by = %(me)s "
                "OR (claimed_until < %(dead)s AND NOT EXISTS (SELECT 1 FROM pg_stat_activity "
                "    WHERE application_name = %(app)s || claimed_by)))")
        with self._connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (CLAIM_LOCK,))
            rows = conn.execute(
                f"UPDATE alert_outbox SET claimed_by = %(me)s, claimed_until = %(until)s WHERE id IN ("
                f"SELECT id FROM alert_outbox WHERE {wanted} AND {free} AND id < ALL ("
                f"    SELECT id FROM alert_outbox WHERE {wanted} AND NOT {free}) "
                f"ORDER BY id LIMIT %(n)s FOR UPDATE) RETURNING {ALERT_COLUMNS}",
                {"me": self.origin, "until": now + LEASE_S, "key": key, "now": now,
                 "dead": now + LEASE_S - DEAD_CLAIM_S, "app": APP_NAME,
                 "n": min(limit, CLAIM)}).fetchall()
        return sorted(rows)

    def alert_trying(self, alert_id: int, key: str) -> str | None:
        """A delivery to the URL ``key`` starts now (alert_tried ends it): the URLs that have the
        row so far, and this dashboard's claim renewed for LEASE_S. None when this dashboard no
        longer holds the row: its claim ran out (the server was away, or the sends before it were
        slow) and another dashboard took it, which sends it and the younger ones after it."""
        with self._connection() as conn:
            row = conn.execute(
                "UPDATE alert_outbox SET trying = %s, claimed_until = %s WHERE id = %s AND "
                "claimed_by = %s AND sent IS NULL AND NOT (%s = ANY(string_to_array(done, ' '))) "
                "RETURNING done", (key, self.clock() + LEASE_S, alert_id, self.origin, key)).fetchone()
        return None if row is None else row[0]

    def alert_tried(self, alert_id: int, done: str, sent: float | None, error: str | None) -> None:
        """Record one try and give up the claim."""
        with self._connection() as conn:
            conn.execute("UPDATE alert_outbox SET tries = tries + 1, done = %s, sent = %s, trying = '', "
                         "last_error = COALESCE(%s, last_error), claimed_by = NULL, "
                         "claimed_until = NULL WHERE id = %s", (done, sent, error, alert_id))

    def alert_list(self, limit: int) -> list[tuple]:
        """The newest ``limit`` rows, newest first (ALERT_COLUMNS)."""
        return self._all(f"SELECT {ALERT_COLUMNS} FROM alert_outbox ORDER BY id DESC LIMIT %s", (limit,))

    def alert_row(self, alert_id: int) -> tuple | None:
        """One outbox row (ALERT_COLUMNS), or None."""
        return self._one(f"SELECT {ALERT_COLUMNS} FROM alert_outbox WHERE id = %s", (alert_id,))

    def last_alerts(self, since: float) -> list[tuple[str, str, float]]:
        """(site, kind, newest created) of the alerts queued after ``since``."""
        return self._all("SELECT site, kind, MAX(created) FROM alert_outbox WHERE created > %s "
                         "GROUP BY site, kind", (since,))

    def prune_alerts(self, before: float) -> None:
        """Forget sent alerts older than ``before``."""
        with self._connection() as conn:
            conn.execute("DELETE FROM alert_outbox WHERE sent IS NOT NULL AND created < %s", (before,))

    def last_seqs(self) -> dict[str, int]:
        """Each site's highest journal seq kept."""
        return dict(self._all("SELECT site, MAX(seq) FROM events GROUP BY site", ()))

    def recent_events(self, since: float) -> list[JournalEvent]:
        """Every site's events from ``since`` on, in time order."""
        rows = self._all("SELECT site, seq, ts, kind, detail FROM events WHERE ts >= %s "
                         "ORDER BY ts, seq", (since,))
        return [event_from_row(*row) for row in rows]

    def lead_alerts(self) -> None:
        """Stand for running the alert rules: ``leading`` says when this dashboard got the lock."""
        self._want_lead = True

    def leading(self, look: bool = True) -> bool:
        """True while this dashboard holds the rules' lock (its session ends with the process);
        looked at most once a second, and only by the caller that says ``look`` (the rules'
        thread): the MQTT and listening threads read the last answer, never wait for a server."""
        if not self._want_lead:
            return False
        if not look:
            return self._leader is not None
        now = time.monotonic()
        with self._lead_lock:
            if now - self._lead_checked < 1.0:
                return self._leader is not None
            self._lead_checked = now
            return self._check_lead()

    def _check_lead(self, again: bool = True) -> bool:
        fresh = self._leader is None or self._leader.closed
        try:
            if self._leader is None or self._leader.closed:
                self._leader = psycopg.connect(self.location, autocommit=True, connect_timeout=5)
                if not _value(self._leader.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,))):
                    self._leader.close()
                    self._leader = None
                    return False
                logger.info("this dashboard now runs the alert rules")
            else:
                self._leader.execute("SELECT 1")
            return True
        except psycopg.Error as exc:
            if self._leader is not None:
                self._leader.close()
            self._leader = None
            if isinstance(exc, psycopg.OperationalError):
                if not fresh and again:   # a session the restart ended: a new one at once
                    return self._check_lead(again=False)
                self.reach.lost(exc)     # said once; the lock is taken again when it is back
            else:
                logger.warning("the alert rules' lock is lost (%s)", _first_line(exc))
            return False

    def close(self) -> None:
        """Commit what is queued, stop the threads, close every connection."""
        self.flush()
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(5)
        if self._leader is not None:
            self._leader.close()
        self.pool.close()


def _runs(statements: list[tuple[str, tuple]]) -> Iterator[tuple[str, list[tuple]]]:
    """Consecutive statements with the same SQL, grouped: (sql, [params, ...]) in order."""
    run: list[tuple] = []
    last = ""
    for sql, params in statements:
        if run and sql != last:
            yield last, run
            run = []
        last = sql
        run.append(params)
    if run:
        yield last, run


def _state_ts(state_json: str) -> float:
    """The ``ts`` of a state's JSON (0 when it has none)."""
    try:
        ts = json.loads(state_json).get("ts", 0.0)
    except (ValueError, AttributeError):
        return 0.0
    return float(ts) if isinstance(ts, (int, float)) else 0.0


def _notices(origin: str, states: list[str], events: list[tuple[str, int]],
             forgotten: list[str]) -> Iterator[str]:
    """The payloads telling the other dashboards what one transaction wrote, each short enough
    for pg_notify."""
    items = [("s", s) for s in states] + [("e", list(k)) for k in events] + [("f", s) for s in forgotten]
    notice: dict[str, list] = {}
    size = 0
    for key, value in items:
        cost = len(json.dumps(value)) + 1
        if notice and size + cost > NOTIFY_BYTES:
            yield json.dumps({"o": origin, **notice}, separators=(",", ":"))
            notice, size = {}, 0
        notice.setdefault(key, []).append(value)
        size += cost
    if notice:
        yield json.dumps({"o": origin, **notice}, separators=(",", ":"))
