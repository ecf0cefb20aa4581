"""`siaga dashboard --migrate-from OLD.sqlite3`: a regional dashboard's SQLite file into the
PostgreSQL of the national view (docs/fleet.md).

The old file is opened read-only. Everything is copied by its key, so running it again (or
after the regional dashboard kept writing) copies only what is new: events by (site, seq), the
last states (the newer one stays), chart minutes and hours merged (min of mins, max of maxes),
on-battery spans by (site, start), outbox rows by (site, kind, created) (a row copied before
takes the URLs that got it since, and "sent"), the login key only when the database has none yet.
"""

from __future__ import annotations

import logging
import sqlite3
import urllib.parse
from pathlib import Path
from typing import Iterator

from dashboard.store import history
from dashboard.store.postgres import MERGE, PostgresDatabase, _state_ts

logger = logging.getLogger(__name__)

CHUNK = 5000


class MigrationError(Exception):
    """The copy cannot be made; the message is one line for the user."""


def _open(path: str) -> sqlite3.Connection:
    if not Path(path).is_file():
        raise MigrationError(f"{path}: no such file")
    uri = "file:" + urllib.parse.quote(str(Path(path).resolve())) + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as exc:
        raise MigrationError(f"{path}: not a Siaga dashboard database ({exc})") from None
    if not {"events", "latest"} <= tables:
        conn.close()
        raise MigrationError(f"{path}: not a Siaga dashboard database (no events or latest table)")
    return conn


def _chunks(conn: sqlite3.Connection, sql: str) -> Iterator[list[tuple]]:
    cur = conn.execute(sql)
    while rows := cur.fetchmany(CHUNK):
        yield rows


def _has(conn: sqlite3.Connection, table: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (table,)).fetchone() is not None


def migrate(old: str, target: PostgresDatabase) -> dict[str, int]:
    """Copy ``old`` into ``target``; how many rows of each table were new there."""
    source = _open(old)
    counts = dict.fromkeys(("events", "states", "minutes", "hours", "battery", "alerts"), 0)
    try:
        with target.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            for rows in _chunks(source, "SELECT site, seq, ts, kind, detail FROM events"):
                cur.execute("INSERT INTO events (site, seq, ts, kind, detail) SELECT * FROM unnest("
                            "%s::text[], %s::bigint[], %s::float8[], %s::text[], %s::text[]) "
                            "ON CONFLICT DO NOTHING", [list(c) for c in zip(*rows)])
                counts["events"] += cur.rowcount
            for rows in _chunks(source, "SELECT site, state FROM latest"):
                cur.execute("INSERT INTO latest (site, state, ts) SELECT * FROM unnest(%s::text[], "
                            "%s::text[], %s::float8[]) ON CONFLICT (site) DO UPDATE SET state = "
                            "excluded.state, ts = excluded.ts WHERE latest.ts < excluded.ts",
                            ([r[0] for r in rows], [r[1] for r in rows],
                             [_state_ts(r[1]) for r in rows]))
                counts["states"] += cur.rowcount
            for table in ("minutes", "hours"):
                if _has(source, table):
                    for rows in _chunks(source, f"SELECT site, start, {', '.join(history.COLUMNS)} "
                                        f"FROM {table}"):
                        cur.executemany(MERGE[table], rows)
                        counts[table] += len(rows)
            if _has(source, "battery"):
                for rows in _chunks(source, "SELECT site, start, stop FROM battery"):
                    cur.executemany("INSERT INTO battery (site, start, stop) VALUES (%s, %s, %s) "
                                    "ON CONFLICT (site, start) DO UPDATE SET stop = "
                                    "COALESCE(excluded.stop, battery.stop)", rows)
                    counts["battery"] += len(rows)
            if _has(source, "alert_outbox"):
                counts["alerts"] = _alerts(source, cur)
            if _has(source, "meta"):
                row = source.execute("SELECT value FROM meta WHERE key = 'secret_key'").fetchone()
                if row:
                    cur.execute("INSERT INTO meta (key, value) VALUES ('secret_key', %s) "
                                "ON CONFLICT DO NOTHING", row)
    except sqlite3.Error as exc:
        raise MigrationError(f"{old}: cannot read: {exc}") from None
    finally:
        source.close()
    return counts


# A row copied before (the first run, while the regional dashboard still ran) takes what that
# dashboard did since: the URLs it reached, and "sent". Left unsent, the dashboards on PostgreSQL
# would send again an alert IT had already had (and late, after the power was back).
UPDATE_ALERT = ("UPDATE alert_outbox SET sent = COALESCE(alert_outbox.sent, %s), "
                "tries = GREATEST(alert_outbox.tries, %s), last_error = COALESCE(%s, last_error), "
                "done = array_to_string(ARRAY(SELECT DISTINCT k FROM unnest(string_to_array("
                "alert_outbox.done || ' ' || %s, ' ')) AS k WHERE k <> '' ORDER BY k), ' ') "
                "WHERE site = %s AND kind = %s AND created = %s")


def _alerts(source: sqlite3.Connection, cur) -> int:
    new = 0
    for rows in _chunks(source, "SELECT site, kind, created, title, body, sent, tries, last_error, "
                        "done FROM alert_outbox ORDER BY id"):
        for row in rows:
            cur.execute(UPDATE_ALERT, (row[5], row[6], row[7], row[8], row[0], row[1], row[2]))
            if cur.rowcount:
                continue
            cur.execute("INSERT INTO alert_outbox (site, kind, created, title, body, sent, tries, "
                        "last_error, done) SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s WHERE NOT "
                        "EXISTS (SELECT 1 FROM alert_outbox WHERE site = %s AND kind = %s AND "
                        "created = %s)", (*row, row[0], row[1], row[2]))
            new += cur.rowcount
    return new
