"""Planners asking for big reports on a running `siaga dashboard`, while IT watches its pages.

A PostgreSQL with --rooms rooms x 1 year of events (bench/report_bench.py's year, made inside the
database), a real `siaga dashboard` on it, then --reports planners at once, each asking /report
for a different --days window. Meanwhile a watcher asks /api/sites every 0.5 s, as the overview
does. Prints, for each report request, its HTTP status and how long the page took to answer, when
each report was made (the page's job says done), and the watcher's answer times while the reports
were being made: the p50, the slowest and how many did not answer within 60 s.

Usage: python bench/report_page.py [--rooms 1000] [--reports 10] [--days 90] [--url postgresql://...]
(--url: a database made before, e.g. by `bench/report_bench.py --postgres --in-postgres --keep`)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from report_bench import FIRST, load, make_postgres  # noqa: E402
from siaga.servers import Mosquitto, free_port, stop_process  # noqa: E402
from tests.dashboard_support import start_dashboard, write_config  # noqa: E402
from tests.postgres_support import start_postgres  # noqa: E402


def get(url: str, timeout: float) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rooms", type=int, default=1000)
    ap.add_argument("--reports", type=int, default=10)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--url")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="siaga-report-page-") as tmp:
        tmp_path = Path(tmp)
        server = None
        if a.url:
            url = a.url
        else:
            server = start_postgres(settings=())
            url = server.new_database("report")
            t = time.perf_counter()
            n = make_postgres(url, a.rooms, 365)
            print(f"{a.rooms} rooms x 1 year: {n:,} events, made in {time.perf_counter() - t:.1f} s")
        broker = Mosquitto(tmp_path / "broker").start()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        config = write_config(tmp_path, mqtt_port=broker.port, listen=f"127.0.0.1:{port}", database=url)
        proc = start_dashboard(config, base, tmp_path / "dashboard.log")
        try:
            run(a, base)
        finally:
            stop_process(proc)
            broker.stop()
            if server is not None:
                server.stop()


def run(a: argparse.Namespace, base: str) -> None:
    print(load())
    windows = [(FIRST + dt.timedelta(days=7 * i), FIRST + dt.timedelta(days=7 * i + a.days - 1))
               for i in range(a.reports)]
    asked: dict[int, tuple[int, float, str]] = {}
    start = time.perf_counter()

    def ask(i: int) -> None:
        first, last = windows[i]
        t = time.perf_counter()
        status, body = get(f"{base}/report?from={first}&to={last}", timeout=900)
        asked[i] = (status, time.perf_counter() - t, body)

    askers = [threading.Thread(target=ask, args=(i,)) for i in range(a.reports)]
    for asker in askers:
        asker.start()
        time.sleep(0.05)
    watched: list[float | None] = []
    made: dict[int, float] = {}
    jobs: dict[int, str] = {}
    # Watch until every page has answered and every report it waits for is made.
    while any(asker.is_alive() for asker in askers) or len(made) < len(jobs):
        t = time.perf_counter()
        try:
            get(f"{base}/api/sites", timeout=60)
            watched.append(time.perf_counter() - t)
        except OSError:
            watched.append(None)
        jobs = {i: m.group(1) for i, (s, _, body) in list(asked.items())
                if s == 202 and (m := re.search(r'job=([A-Za-z0-9_-]+)"', body))}
        for i, job in jobs.items():
            if i not in made and json.loads(get(f"{base}/report/job/{job}", 60)[1]).get("done"):
                made[i] = time.perf_counter() - start
        time.sleep(max(0.0, 0.5 - (time.perf_counter() - t)))
    for i in range(a.reports):
        status, seconds, _ = asked[i]
        first, last = windows[i]
        done = made.get(i)
        print(f"  report {first}..{last}: HTTP {status} in {seconds:.1f} s"
              + (f", made {done:.1f} s after the first was asked" if done is not None else ""))
    answered = [w * 1000 for w in watched if w is not None]
    print(f"/api/sites every 0.5 s while the reports were asked ({len(watched)} requests): "
          f"p50 {statistics.median(answered):.0f} ms, slowest {max(answered):.0f} ms, "
          f"{watched.count(None)} without an answer within 60 s")
    print(load())


if __name__ == "__main__":
    main()
