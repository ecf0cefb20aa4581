"""GET /metrics at national size, in one process: what one Prometheus scrape costs the dashboard.

A store of --sites rooms, every state taken as another dashboard on PostgreSQL hands it over (JSON,
built into message types only when something needs them). Prints the size of the exposition and
the CPU time of a scrape through the dashboard (dashboard/web/metrics.py), and of the same metrics
through prometheus_client's registry (tests/test_metrics.py's reference, how /metrics was written
before), both just after the states arrived and once more.

Usage: python bench/metrics_bench.py [--sites 10000] [--scrapes 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dashboard.store.postgres import Heard  # noqa: E402
from dashboard.store.store import Store  # noqa: E402
from dashboard.web.metrics import Metrics  # noqa: E402
from protocol.messages import to_json  # noqa: E402
from tests.dashboard_support import snapshot  # noqa: E402
from tests.test_metrics import reference_text  # noqa: E402


def heard(store: Store, sites: list[str]) -> None:
    """A new state from every site, as another dashboard stored it."""
    now = time.time()
    states = [(s, to_json(snapshot(s, "on_battery" if n % 7 == 0 else "ready", now=now)).decode())
              for n, s in enumerate(sites)]
    store._heard(Heard(states=states))   # noqa: SLF001 - the shared store's own entry point


def cpu(make) -> tuple[float, bytes]:
    """(CPU seconds of this thread, the body) of one scrape."""
    start = time.thread_time()
    body = make()
    return time.thread_time() - start, body


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=10000)
    ap.add_argument("--scrapes", type=int, default=5)
    args = ap.parse_args()
    sites = [f"kantor-{n:05d}" for n in range(args.sites)]
    with tempfile.TemporaryDirectory(prefix="siaga-metrics-") as tmp:
        store = Store(str(Path(tmp) / "dashboard.sqlite3"))
        store.max_sites = max(store.max_sites, args.sites)   # as on PostgreSQL (SHARED_MAX_SITES)
        ours = Metrics(store, lambda: True)
        for label, make in (("dashboard/web/metrics.py", ours.render),
                            ("prometheus_client", lambda: reference_text(store, True))):
            heard(store, sites)
            first, body = cpu(make)
            again = [cpu(make)[0] for _ in range(args.scrapes)]
            print(f"{args.sites} rooms, {label}: {len(body) / 1e6:.1f} MB, {body.count(10)} lines; "
                  f"CPU {first:.2f} s just after every room's new state, then p50 "
                  f"{statistics.median(again):.2f} s (max {max(again):.2f} s) over {args.scrapes} scrapes")
        store.close()


if __name__ == "__main__":
    main()
