"""One group's overview at national size, in one process (no broker, no database server): the
cost of GET /groups/<group> itself, apart from the load of the run around it.

A store of --sites rooms in groups of --group-size, every state taken as another dashboard on
PostgreSQL hands it over (JSON, built into message types only when a page needs it); then, before
each request, the states a dashboard hears meanwhile: quiet (--quiet states whose time only is
new, the steady 83 states/s of 10,000 rooms) or blackout (--blackout rooms each going on battery).
Prints p50/p95/max of wall time and of the request thread's CPU time for GET /groups/<group>,
GET /api/sites?group= and GET /sites/<room> of the group. With --unseen N, dashboard.sites lists
every room and N more of the group that never report (each a "never reported" card).

Usage: python bench/group_page.py [--sites 10000] [--group-size 300] [--requests 60] [--unseen 0]
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
from dashboard.web.app import create_app  # noqa: E402
from protocol.config import load_config  # noqa: E402
from protocol.messages import to_json  # noqa: E402
from tests.dashboard_support import snapshot, write_config  # noqa: E402


def site_ids(sites: int, size: int) -> list[str]:
    """kantor-000-000 ... as bench/fleet_postgres.py names them (group g000 = kantor-000-*)."""
    return [f"kantor-{i // size:03d}-{i % size:03d}" for i in range(sites)]


def heard(store: Store, sites: list[str], room: str) -> None:
    """``sites`` send a new state, taken as another dashboard stored it."""
    now = time.time()
    states = [(s, to_json(snapshot(s, room, now=now, name=f"Kantor {s}")).decode()) for s in sites]
    store._heard(Heard(states=states))   # noqa: SLF001 - the shared store's own entry point


def timed(client, path: str) -> tuple[float, float]:
    """(wall ms, CPU ms of this thread) of one GET."""
    w, c = time.perf_counter(), time.thread_time()
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)
    answer.get_data()
    return (time.perf_counter() - w) * 1000, (time.thread_time() - c) * 1000


def summary(times: list[tuple[float, float]]) -> str:
    out = []
    for i, what in ((0, "wall"), (1, "CPU")):
        q = statistics.quantiles([t[i] for t in times], n=100)
        out.append(f"{what} p50 {q[49]:.1f} p95 {q[94]:.1f} max {max(t[i] for t in times):.1f} ms")
    return "; ".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=10000)
    ap.add_argument("--group-size", type=int, default=300)
    ap.add_argument("--requests", type=int, default=60)
    ap.add_argument("--quiet", type=int, default=25, help="states heard between two requests")
    ap.add_argument("--blackout", type=int, default=300, help="rooms on battery between two requests")
    ap.add_argument("--unseen", type=int, default=0, help="rooms of the group in dashboard.sites that never report")
    args = ap.parse_args()
    sites = site_ids(args.sites, args.group_size)
    groups = sorted({s.rsplit("-", 1)[0] for s in sites})
    table = ", ".join(f'"g{g[7:]}" = ["{g}-*"]' for g in groups)
    group = f"g{groups[len(groups) // 2][7:]}"
    members = [s for s in sites if s.startswith(groups[len(groups) // 2])]
    unseen = [f"{groups[len(groups) // 2]}-never-{k:03d}" for k in range(args.unseen)]
    listed = "sites = [" + ", ".join(f'"{s}"' for s in sites + unseen) + "]\n" if unseen else ""
    with tempfile.TemporaryDirectory(prefix="siaga-group-page-") as tmp:
        config = load_config(write_config(Path(tmp), dashboard=f"{listed}groups = {{{table}}}"))
        store = Store(config.dashboard.database, stale_after_s=900)
        store.max_sites = max(store.max_sites, args.sites)   # as on PostgreSQL (SHARED_MAX_SITES)
        heard(store, sites, "ready")
        client = create_app(config, store).test_client()
        for path in (f"/groups/{group}", f"/api/sites?group={group}", f"/sites/{members[0]}"):
            timed(client, path)
        print(f"{args.sites} rooms, groups of {args.group_size}; {group}: {len(members)} rooms"
              + (f" and {len(unseen)} never reported" if unseen else ""))
        for label, path in (("GET /groups/" + group, f"/groups/{group}"),
                            ("GET /api/sites?group=" + group, f"/api/sites?group={group}"),
                            ("GET /sites/" + members[0], f"/sites/{members[0]}")):
            quiet, out = [], []
            for n in range(args.requests):
                heard(store, [sites[(n * args.quiet + k) % len(sites)] for k in range(args.quiet)], "ready")
                quiet.append(timed(client, path))
            for n in range(args.requests):
                start = n * args.blackout % len(sites)
                heard(store, sites[start:start + args.blackout], "on_battery")
                out.append(timed(client, path))
            heard(store, sites, "ready")
            print(f"  {label}: quiet ({args.quiet} states between requests): {summary(quiet)}")
            print(f"  {label}: blackout ({args.blackout} rooms on battery between requests): {summary(out)}")
        store.close()


if __name__ == "__main__":
    main()
