"""The dashboard's own cost per room's state, without the broker: what its MQTT thread spends in
Feed.on_message (read and check the state, keep it, queue its writes) for --sites rooms going on
battery, on the SQLite file and on PostgreSQL (the writes themselves are another thread's).
Prints the thread's CPU per state message, the best of three rounds.

Usage: python bench/feed_bench.py [--sites 10000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dashboard.store.feed import Feed  # noqa: E402
from dashboard.store.store import Store  # noqa: E402
from protocol.config import load_config  # noqa: E402
from protocol.messages import to_json  # noqa: E402
from tests.dashboard_support import outage_snapshot, snapshot, write_config  # noqa: E402
from tests.postgres_support import start_postgres  # noqa: E402


def per_state(database: str, directory: Path, sites: list[str]) -> float:
    """Microseconds of the calling thread's CPU per state, the best of three rounds."""
    feed_config = load_config(write_config(directory, database=database))
    store = Store(database, sites="+")
    store.max_sites = max(store.max_sites, len(sites))
    feed = Feed(feed_config, store)
    now = time.time()
    for site in sites:
        feed.on_message(f"siaga/{site}/edge/state", to_json(snapshot(site, "ready", now=now)), False)
    best = []
    for r in range(3):
        messages = [(f"siaga/{s}/edge/state", to_json(outage_snapshot(s, now + 5 + r))) for s in sites]
        cpu = time.thread_time()
        for topic, payload in messages:
            feed.on_message(topic, payload, False)
        best.append((time.thread_time() - cpu) / len(messages) * 1e6)
        if hasattr(store.db, "flush"):
            store.db.flush()
    store.close()
    return min(best)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=10000)
    n = ap.parse_args().sites
    sites = [f"kantor-{i // 300:03d}-{i % 300:03d}" for i in range(n)]
    with tempfile.TemporaryDirectory(prefix="siaga-feed-") as tmp:
        sqlite = Path(tmp) / "sqlite"
        sqlite.mkdir()
        print(f"SQLite, {n} rooms: {per_state(str(sqlite / 'dashboard.sqlite3'), sqlite, sites):.0f} us "
              "of the feed thread's CPU per state")
        server = start_postgres(settings=("fsync=off",))
        try:
            shared = Path(tmp) / "pg"
            shared.mkdir()
            print(f"PostgreSQL, {n} rooms: {per_state(server.new_database('feed'), shared, sites):.0f} us "
                  "of the feed thread's CPU per state")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
