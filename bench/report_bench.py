"""`siaga report` at fleet size: 500 rooms x 1 year of events (~10 per room per day) in a
dashboard database; the wall time and peak memory (RSS) of the report as JSON and as HTML.

Target (issue 8): under 10 s and 300 MB each on the 2-core test machine; over PostgreSQL
(issue 23), 5,000 rooms x 1 year under 10 s.
Usage: python bench/report_bench.py [--rooms 500] [--days 365] [--db PATH (kept, reused)] [--pdf]
       [--postgres]   (the same database copied into a PostgreSQL started here: the national view)
       [--postgres --in-postgres]   (the year made by PostgreSQL itself with generate_series: the
                      same day shape, no SQLite file, no copy; 5,000 rooms in minutes, not hours)
       [--url postgresql://...]   (a PostgreSQL database made before by --in-postgres --keep)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from dashboard.store.database import SqliteDatabase as Database  # noqa: E402

ZONE = ZoneInfo("Asia/Jakarta")
FIRST = dt.date(2025, 11, 1)


def day_events(rng: random.Random, midnight: float) -> list[tuple[float, str, dict]]:
    """One room's day: two meetings, each followed by a conversion, and an outage every other day."""
    out = []
    for hour in (9, 13):
        start = midnight + hour * 3600 + rng.uniform(0, 1800)
        end = start + rng.uniform(2400, 7200)
        out += [(start, "meeting_started", {"pc": "pc"}), (end, "meeting_ended", {"pc": "pc"}),
                (end + 5, "conversion_started", {"pc": "pc"}),
                (end + 5 + rng.uniform(120, 1500), "conversion_ended", {"pc": "pc"})]
    if rng.random() < 0.5:
        lost = midnight + rng.uniform(0, 86000)
        length = rng.expovariate(1 / 900)
        out += [(lost, "power_lost", {"ups": "meeting", "load_pct": rng.uniform(20, 60),
                                      "runtime_s": 1800, "charge_pct": 100}),
                (lost + 5, "notice_sent", {"pcs": ["pc"], "runtime_s": 1700}),
                (lost + length + 5, "power_restored", {"duration_s": round(length + 5, 1)})]
    return sorted(out)


def make_database(path: Path, rooms: int, days: int) -> int:
    """The dashboard's own schema (dashboard.database), filled in bulk; returns the event count."""
    Database(str(path)).close()
    rng, total = random.Random(8), 0
    conn = sqlite3.connect(path)
    with conn:
        for r in range(rooms):
            site, rows, seq = f"room-{r:03d}", [], 0
            for d in range(days):
                midnight = dt.datetime.combine(FIRST + dt.timedelta(days=d), dt.time(), ZONE).timestamp()
                for ts, kind, detail in day_events(rng, midnight):
                    seq += 1
                    rows.append((site, seq, ts, kind, json.dumps(detail)))
            conn.executemany("INSERT INTO events (site, seq, ts, kind, detail) VALUES (?, ?, ?, ?, ?)", rows)
            total += len(rows)
    conn.close()
    return total


# One room's day as make_database's day_events, made by PostgreSQL (random() seeded by setseed):
# two meetings each followed by a conversion, and an outage on half the days (power_lost,
# notice_sent, power_restored; its length exponential with a 900 s mean).
_GENERATE = """
INSERT INTO events (site, seq, ts, kind, detail)
SELECT 'room-' || lpad(r::text, 4, '0'), row_number() OVER (PARTITION BY r ORDER BY ts, k), ts, kind, detail
FROM (
  SELECT r, day, %(first)s::float8 + day * 86400 AS midnight, random() AS m1, random() AS l1,
         random() AS c1, random() AS m2, random() AS l2, random() AS c2, random() AS o,
         random() AS ol, random() AS olen, random() AS load
  FROM generate_series(0, %(rooms)s - 1) r, generate_series(0, %(days)s - 1) day
) d, LATERAL (VALUES
  (midnight + 9*3600 + m1*1800, 1, 'meeting_started', '{"pc": "pc"}'),
  (midnight + 9*3600 + m1*1800 + 2400 + l1*4800, 2, 'meeting_ended', '{"pc": "pc"}'),
  (midnight + 9*3600 + m1*1800 + 2400 + l1*4800 + 5, 3, 'conversion_started', '{"pc": "pc"}'),
  (midnight + 9*3600 + m1*1800 + 2400 + l1*4800 + 125 + c1*1380, 4, 'conversion_ended', '{"pc": "pc"}'),
  (midnight + 13*3600 + m2*1800, 5, 'meeting_started', '{"pc": "pc"}'),
  (midnight + 13*3600 + m2*1800 + 2400 + l2*4800, 6, 'meeting_ended', '{"pc": "pc"}'),
  (midnight + 13*3600 + m2*1800 + 2400 + l2*4800 + 5, 7, 'conversion_started', '{"pc": "pc"}'),
  (midnight + 13*3600 + m2*1800 + 2400 + l2*4800 + 125 + c2*1380, 8, 'conversion_ended', '{"pc": "pc"}'),
  (CASE WHEN o < 0.5 THEN midnight + ol*86000 END, 9, 'power_lost',
   json_build_object('ups', 'meeting', 'load_pct', 20 + load*40, 'runtime_s', 1800,
                     'charge_pct', 100)::text),
  (CASE WHEN o < 0.5 THEN midnight + ol*86000 + 5 END, 10, 'notice_sent',
   '{"pcs": ["pc"], "runtime_s": 1700}'),
  (CASE WHEN o < 0.5 THEN midnight + ol*86000 - ln(1 - olen)*900 + 5 END, 11, 'power_restored',
   json_build_object('duration_s', round((-ln(1 - olen)*900 + 5)::numeric, 1))::text)
) AS x(ts, k, kind, detail)
WHERE ts IS NOT NULL
"""


def make_postgres(url: str, rooms: int, days: int) -> int:
    """The year made inside PostgreSQL (the dashboard's schema); returns the event count."""
    import psycopg
    from dashboard.store.postgres import PostgresDatabase
    PostgresDatabase(url).close()
    first = dt.datetime.combine(FIRST, dt.time(), ZONE).timestamp()
    with psycopg.connect(url) as conn:
        conn.execute("SELECT setseed(0.8)")
        conn.execute(_GENERATE, {"first": first, "rooms": rooms, "days": days})
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE events")
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]


def load() -> str:
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def measure(config: Path, days: int, *args: str) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, output bytes) of one `siaga report` in a fresh process."""
    last = FIRST + dt.timedelta(days=days - 1)
    argv = ["report", "-c", str(config), "--from", FIRST.isoformat(), "--to", last.isoformat(), *args]
    code = ("import resource, sys, time; from siaga.cli import main; t = time.perf_counter(); "
            f"rc = main({argv!r}); s = time.perf_counter() - t; "
            "print(s, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, file=sys.stderr); "
            "sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"siaga report failed: {done.stderr.strip()}")
    seconds, rss = map(float, done.stderr.split()[-2:])
    out = Path(args[args.index("-o") + 1]).stat().st_size
    return seconds, rss, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rooms", type=int, default=500)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--db", help="database to build once and reuse")
    p.add_argument("--pdf", action="store_true", help="also the PDF of the office page")
    p.add_argument("--postgres", action="store_true",
                   help="copy the database into a PostgreSQL started here and report from that")
    p.add_argument("--in-postgres", action="store_true",
                   help="with --postgres: make the year inside PostgreSQL (generate_series)")
    p.add_argument("--keep", action="store_true", help="leave the PostgreSQL running; print its URL")
    p.add_argument("--url", help="report from this PostgreSQL database (made before) instead")
    p.add_argument("--only", help="only these formats, e.g. json,csv (a run at 5,000 rooms is long)")
    a = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="siaga-report-bench-"))
    db = Path(a.db) if a.db else work / "dashboard.sqlite3"
    if not db.exists() and not a.url and not a.in_postgres:
        started = time.perf_counter()
        n = make_database(db, a.rooms, a.days)
        print(f"built {db}: {n:,} events, {a.rooms} rooms x {a.days} days "
              f"in {time.perf_counter() - started:.1f} s, {db.stat().st_size / 1e6:.0f} MB")
    server = None
    location = str(db)
    if a.url:
        location = a.url
    elif a.postgres and a.in_postgres:
        from tests.postgres_support import start_postgres
        server = start_postgres(settings=())
        location = server.new_database("report")
        started = time.perf_counter()
        n = make_postgres(location, a.rooms, a.days)
        print(f"made in PostgreSQL: {n:,} events, {a.rooms} rooms x {a.days} days in "
              f"{time.perf_counter() - started:.1f} s ({load()})", flush=True)
    elif a.postgres:
        from dashboard.store.migrate import migrate
        from dashboard.store.postgres import PostgresDatabase
        from tests.postgres_support import start_postgres
        server = start_postgres(settings=())
        location = server.new_database("report")
        started = time.perf_counter()
        target = PostgresDatabase(location)
        counts = migrate(str(db), target)
        target.close()
        print(f"copied into PostgreSQL: {counts['events']:,} events in "
              f"{time.perf_counter() - started:.1f} s")
    config = work / "siaga.toml"
    config.write_text(f'[site]\nid = "bench"\n\n[[ups]]\nname = "meeting"\n\n'
                      f'[dashboard]\ndatabase = "{location}"\n')
    runs = [("json", "--format", "json"), ("html (office page)", "--format", "html"),
            ("html (+ a page per room)", "--format", "html", "--rooms"), ("csv", "--format", "csv")]
    if a.pdf:
        runs.append(("pdf (office page)", "--format", "pdf"))
    if a.only:
        runs = [r for r in runs if r[2] in a.only.split(",") and (r[2] != "html" or "--rooms" not in r)]
    try:
        for name, *args in runs:
            out = work / f"report.{args[1]}"
            seconds, rss, size = measure(config, a.days, *args, "-o", str(out))
            verdict = "ok" if seconds < 10 and rss < 300 else "OVER TARGET"
            print(f"{name:26s} {seconds:6.2f} s  peak RSS {rss:6.1f} MB  "
                  f"output {size / 1e3:8.1f} kB  [{verdict}]  ({load()})", flush=True)
    finally:
        if server is not None and a.keep:
            print(f"kept: {location} (stop: pg_ctl -D {server.data} stop)")
        elif server is not None:
            server.stop()
        shutil.rmtree(work)     # the database too, unless it was given with --db


if __name__ == "__main__":
    main()
