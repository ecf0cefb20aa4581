"""`siaga report` at fleet size: 500 rooms x 1 year of events (~10 per room per day) in a
dashboard database; the wall time and peak memory (RSS) of the report as JSON and as HTML.

Target (issue 8): under 10 s and 300 MB each on the 2-core test machine.
Usage: python bench/report_bench.py [--rooms 500] [--days 365] [--db PATH (kept, reused)] [--pdf]
       [--postgres]   (the same database copied into a PostgreSQL started here: the national view)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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
    a = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="siaga-report-bench-"))
    db = Path(a.db) if a.db else work / "dashboard.sqlite3"
    if not db.exists():
        started = time.perf_counter()
        n = make_database(db, a.rooms, a.days)
        print(f"built {db}: {n:,} events, {a.rooms} rooms x {a.days} days "
              f"in {time.perf_counter() - started:.1f} s, {db.stat().st_size / 1e6:.0f} MB")
    server = None
    location = str(db)
    if a.postgres:
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
    try:
        for name, *args in runs:
            out = work / f"report.{args[1]}"
            seconds, rss, size = measure(config, a.days, *args, "-o", str(out))
            verdict = "ok" if seconds < 10 and rss < 300 else "OVER TARGET"
            print(f"{name:26s} {seconds:6.2f} s  peak RSS {rss:6.1f} MB  "
                  f"output {size / 1e3:8.1f} kB  [{verdict}]", flush=True)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work)     # the database too, unless it was given with --db


if __name__ == "__main__":
    main()
