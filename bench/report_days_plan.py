"""How fast PostgreSQL adds up a year of per-room-day rows: a feasibility figure for the plan in
docs/fleet.md ("How that could stay exactly the report it is"), which is NOT built. The rows are
synthetic, shaped like bench/report_bench.py's day (two meetings and two conversions a room and
day); nothing of Siaga's report runs here. Prints the time of each sum the report would need.

Usage: python bench/report_days_plan.py [--rooms 5000] [--days 365]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.postgres_support import start_postgres  # noqa: E402

MAKE = """CREATE TABLE days AS
  SELECT 'room-' || lpad(s::text, 5, '0') AS site, d AS day,
         (s * 7 + d) %% 5 AS meetings, ((s * 7 + d) %% 5) * 3600000000::bigint AS us,
         (s + d) %% 3 AS live, (s + d) %% 4 AS conversions, (s + d) %% 3 AS peak,
         ARRAY[d * 86400 + 28800 + (s %% 7) * 600, d * 86400 + 43200 + (s %% 5) * 900]::float8[] AS m_start,
         ARRAY[d * 86400 + 36000 + (s %% 11) * 300, d * 86400 + 50400 + (s %% 3) * 1200]::float8[] AS m_stop,
         ARRAY[600 + (s * d) %% 1800, 900 + (s + d) %% 2400]::float8[] AS conv
  FROM generate_series(0, %(rooms)s - 1) s, generate_series(0, %(days)s - 1) d"""

SWEEP = ("FROM days, LATERAL (SELECT x, 1 AS o, 1 AS dd FROM unnest(m_start) x UNION ALL "
         "SELECT x, 0, -1 FROM unnest(m_stop) x) e WHERE day < %(days)s")
QUERIES = [
    ("counts and lengths, per room and for the office",
     "SELECT site, sum(meetings), sum(us), sum(live), sum(conversions) FROM days "
     "WHERE day < %(days)s GROUP BY GROUPING SETS ((site), ())"),
    ("each room's peak (kept per day: the largest)",
     "SELECT site, max(peak) FROM days WHERE day < %(days)s GROUP BY site"),
    ("each room's peak (swept from the days' meetings)",
     "SELECT site, max(run) FROM (SELECT site, sum(dd) OVER (PARTITION BY site, day ORDER BY x, o "
     f"ROWS UNBOUNDED PRECEDING) AS run {SWEEP}) r GROUP BY site"),
    ("the office's peak (swept day by day over every room's meetings)",
     "SELECT max(run) FROM (SELECT sum(dd) OVER (PARTITION BY day ORDER BY x, o ROWS UNBOUNDED "
     f"PRECEDING) AS run {SWEEP}) r"),
    ("the middle conversion length, per room and for the office",
     "SELECT site, percentile_disc(0.5) WITHIN GROUP (ORDER BY v) FROM days, unnest(conv) v "
     "WHERE day < %(days)s GROUP BY GROUPING SETS ((site), ())"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rooms", type=int, default=5000)
    ap.add_argument("--days", type=int, default=365)
    args = ap.parse_args()
    params = {"rooms": args.rooms, "days": args.days}
    server = start_postgres(settings=("fsync=off",))
    try:
        with psycopg.connect(server.new_database("days"), autocommit=True) as conn:
            t = time.monotonic()
            conn.execute(MAKE, params)
            conn.execute("VACUUM ANALYZE days")
            print(f"{args.rooms} rooms x {args.days} days: {args.rooms * args.days} synthetic day rows "
                  f"made in {time.monotonic() - t:.1f} s")
            conn.execute("SET work_mem = '256MB'")   # as the report's own queries
            conn.execute("SET jit = off")
            for name, sql in QUERIES:
                t = time.monotonic()
                rows = conn.execute(sql, params).fetchall()
                print(f"  {name}: {time.monotonic() - t:.2f} s ({len(rows)} rows)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
