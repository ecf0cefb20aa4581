"""The national view: N `siaga dashboard` processes on one PostgreSQL, one MQTT v5 shared
subscription, against one SQLite dashboard in the same run (issue 23).

One mosquitto (no bridge: the bridge was measured by bench/fleet_load.py) and one PostgreSQL
(Debian's, started here with its default durability: fsync and synchronous_commit on). The
rooms are simulated by one publisher: a first round of states, then one state from each room
every --period s; then a blackout (every room loses power within --blackout-s: power_lost,
notice_sent and its state). Prints per setup: events landed / published (and replays asked),
seconds from the last room publishing until the last group shows every room on battery on every
dashboard (and whether every room did), GET /api/sites?group= and /groups/<group> p95 on each
dashboard, the RSS of each dashboard and of PostgreSQL. The broker has the queue sizes of
firmware_config/mosquitto/siaga-central.conf; where a lost event went is told apart: refused by
the simulator's client, dropped by the broker (its log), not taken by a dashboard (/metrics).

Usage: python bench/fleet_postgres.py [--sites 30000] [--dashboards 3] [--period 120]
       [--sqlite-sites 5000] [--group-size 300]
"""

from __future__ import annotations

import argparse
import http.client
import json
import sqlite3
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import paho.mqtt.client as paho
import psutil
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.dashboard_load import summary, timed_gets  # noqa: E402
from bench.fleet_load import Commands, Rooms, wait_for  # noqa: E402
from siaga.servers import Mosquitto, free_port, stop_process  # noqa: E402
from tests.dashboard_support import start_dashboard, write_config  # noqa: E402
from tests.postgres_support import start_postgres  # noqa: E402


CENTRAL_CONF = Path(__file__).resolve().parent.parent / "firmware_config/mosquitto/siaga-central.conf"


def central_queues() -> str:
    """The queue and in-flight limits the docs recommend for the central broker (docs/fleet.md)."""
    keep = ("max_queued_messages ", "max_queued_bytes ", "max_inflight_messages ")
    return "".join(line + "\n" for line in CENTRAL_CONF.read_text().splitlines() if line.startswith(keep))


def group_sites(sites: int, size: int) -> dict[str, list[str]]:
    """Groups of ``size`` rooms named like an agency's: g000 -> kantor-000-000 ..."""
    groups: dict[str, list[str]] = {}
    for i in range(sites):
        g = f"g{i // size:03d}"
        groups.setdefault(g, []).append(f"kantor-{i // size:03d}-{i % size:03d}")
    return groups


def api_group(base: str, group: str) -> list[dict] | None:
    """The group's sites; None when the dashboard does not answer within 30 s (too busy)."""
    try:
        with urllib.request.urlopen(f"{base}/api/sites?group={group}", timeout=30) as answer:
            return json.load(answer)["sites"]
    except OSError:
        return None


def all_on_battery(base: str) -> tuple[int, int]:
    """(rooms on battery, rooms) on one dashboard's /api/sites."""
    with urllib.request.urlopen(base + "/api/sites", timeout=120) as answer:
        sites = json.load(answer)["sites"]
    return sum(s["room"] == "on_battery" for s in sites), len(sites)


def taken(base: str, kind: str) -> float:
    """Messages of ``kind`` a dashboard took from the broker (/metrics: every room's metrics, slow
    at 10,000): "event", or "older" (a room's state older than one it held, dropped)."""
    with urllib.request.urlopen(base + "/metrics", timeout=300) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith(f'siaga_dashboard_messages_total{{kind="{kind}"}}'):
                return float(line.split()[-1])
    return 0.0


def stored(location: str) -> tuple[int, int]:
    """(events, distinct (site, seq)) in the database."""
    if location.startswith("postgresql://"):
        with psycopg.connect(location) as conn:
            return conn.execute("SELECT count(*), count(DISTINCT (site, seq)) FROM events").fetchone()
    with sqlite3.connect(f"file:{location}?mode=ro", uri=True, timeout=30) as conn:
        return conn.execute("SELECT COUNT(*), COUNT(DISTINCT site || '/' || seq) FROM events").fetchone()


def cpu_s(processes: list[psutil.Process]) -> float:
    """User and system CPU seconds of ``processes`` and the children they reaped."""
    total = 0.0
    for proc in processes:
        try:
            times = proc.cpu_times()
        except psutil.Error:   # a PostgreSQL backend that ended: its time went to the postmaster
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def postgres_processes(data: Path) -> list[psutil.Process]:
    """The postmaster of the PostgreSQL whose data is in ``data`` (started here), then its
    backends and helpers."""
    for proc in psutil.process_iter(["username", "cmdline"]):
        if proc.info["username"] == "postgres" and str(data) in " ".join(proc.info["cmdline"] or []):
            return [proc, *proc.children(recursive=True)]
    return []


def start_dashboards(tmp: Path, broker: Mosquitto, location: str, count: int,
                     groups: dict[str, list[str]], size: int) -> tuple[list, list[str]]:
    """``count`` dashboards on ``location``; (processes, base URLs)."""
    table = ", ".join(f'"{g}" = ["kantor-{g[1:]}-*"]' for g in groups)
    procs, bases = [], []
    for n in range(count):
        directory = tmp / f"dashboard-{n}"
        directory.mkdir()
        port = free_port()
        config = write_config(directory, mqtt_port=broker.port, listen=f"127.0.0.1:{port}",
                              database=location, dashboard=f"stale_after_s = 900\ngroups = {{{table}}}")
        bases.append(f"http://127.0.0.1:{port}")
        procs.append(start_dashboard(config, bases[-1], directory / "dashboard.log"))
    return procs, bases


def first_round(rooms: Rooms, sites: list[str], bases: list[str], seconds: float) -> float | None:
    """Every room's state once, spread over ``seconds``; seconds until every dashboard shows all."""
    t = time.monotonic()
    for i, site in enumerate(sites):
        delay = t + seconds * i / len(sites) - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        rooms.state(site)
    done = wait_for(lambda: all(all_on_battery(b)[1] >= len(sites) for b in bases), 300, 5.0)
    return done


def blackout(rooms: Rooms, sites: list[str], groups: dict[str, list[str]], bases: list[str],
             seconds: float) -> None:
    """Every room loses power within ``seconds``; how long until the pages show it."""
    t = time.monotonic()
    refused = rooms.refused
    for i, site in enumerate(sites):
        delay = t + seconds * i / len(sites) - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        rooms.room[site] = "on_battery"
        rooms.event(site, "power_lost")
        rooms.event(site, "notice_sent")
        rooms.state(site)
    last_call = time.monotonic()
    published = last_call - t
    with rooms._room_for:   # noqa: SLF001 - the time the broker has the blackout's last message
        rooms.watch, rooms.watched_at = rooms.sent, 0.0
        if rooms.acked >= rooms.watch:
            rooms.watched_at = last_call
    last = list(groups)[-1]
    def shown(base: str) -> bool:
        sites = api_group(base, last)
        return bool(sites) and all(s["room"] == "on_battery" for s in sites)
    done = wait_for(lambda: all(shown(b) for b in bases), 300, 0.1)
    drained = rooms.drained(120)   # a busy machine: the simulator itself lags
    acked = rooms.watched_at - last_call if rooms.watched_at else None
    after_ack = done + last_call - rooms.watched_at if done is not None and rooms.watched_at else None
    full = [all_on_battery(b) for b in bases]
    # The last group is the last published, not always the last stored: a room of an earlier
    # group may still wait in another dashboard's queue. Every room on every page, to a second:
    since = time.monotonic() - last_call
    everywhere = None if done is None else wait_for(
        lambda: all(all_on_battery(b)[0] == len(sites) for b in bases), 300, 1.0)
    everywhere = None if everywhere is None else since + everywhere
    print(f"  blackout: {len(sites)} rooms published in {published:.1f} s; the broker acknowledged "
          f"its last message {acked and round(acked, 2)} s after the last publish() call"
          f"{'' if drained else ' (NOT ALL acknowledged within 120 s)'}; publishes refused by the "
          f"simulator's client: {rooms.refused - refused}; the last group on battery on every "
          f"dashboard {done and round(done, 2)} s after the last room published, "
          f"{after_ack and round(after_ack, 2)} s after the broker had its last message; "
          f"then rooms on battery per dashboard: {', '.join(f'{a}/{n}' for a, n in full)}; every "
          f"room on battery on every dashboard {everywhere and round(everywhere, 1)} s after the "
          f"last room published (checked once a second)")


def run_setup(tmp: Path, label: str, location: str, dashboards: int, sites_n: int,
              args: argparse.Namespace, postgres_data: Path | None = None) -> None:
    """One setup: broker, dashboards, rooms, blackout, figures (``postgres_data``: the data
    directory of the PostgreSQL at ``location``, whose CPU is counted)."""
    print(f"{label}: {sites_n} rooms, {dashboards} dashboard(s), a state every {args.period:g} s "
          f"({sites_n / args.period:.0f} states/s)")
    broker = Mosquitto(tmp / "broker", extra=central_queues()).start()
    groups = group_sites(sites_n, args.group_size)
    sites = [s for members in groups.values() for s in members]
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5, client_id=f"bench-{label}")
    client.max_queued_messages_set(0)
    client.max_inflight_messages_set(1000)
    procs: list = []
    rooms = None
    try:
        procs, bases = start_dashboards(tmp, broker, location, dashboards, groups, args.group_size)
        time.sleep(1.0)
        client.connect("127.0.0.1", broker.port)
        client.loop_start()
        commands = Commands(broker.port, {})
        rooms = Rooms(client, sites, args.period)
        took = first_round(rooms, sites, bases, args.first_round_s)
        print(f"  first round over {args.first_round_s:g} s: every room on every dashboard "
              f"{took and round(took, 1)} s after it ended")
        rooms.start()
        time.sleep(args.settle_s)
        assert broker.proc is not None   # started above
        others = {"the broker": [psutil.Process(broker.proc.pid)],
                  "this bench (the rooms' simulator, the page checks)": [psutil.Process()]}
        if postgres_data is not None:
            others["PostgreSQL"] = postgres_processes(postgres_data)
        cpu = [cpu_s([psutil.Process(p.pid)]) for p in procs]
        cpu_others = {name: cpu_s(ps) for name, ps in others.items()}
        machine = psutil.cpu_times()
        t = time.monotonic()
        blackout(rooms, sites, groups, bases, args.blackout_s)
        wall = time.monotonic() - t
        used = [cpu_s([psutil.Process(p.pid)]) - c for p, c in zip(procs, cpu)]
        after = psutil.cpu_times()
        busy = sum(after[:3]) - sum(machine[:3])                       # user, nice, system
        idle = sum(getattr(after, f, 0) - getattr(machine, f, 0) for f in ("idle", "iowait"))
        print(f"  CPU of each dashboard from the blackout's start until every page showed it "
              f"({wall:.0f} s): {', '.join(f'{u:.1f} s' for u in used)}; "
              + ", ".join(f"{name} {cpu_s(ps) - cpu_others[name]:.1f} s" for name, ps in others.items())
              + f"; the machine's {psutil.cpu_count()} cores were busy {100 * busy / (busy + idle):.0f} % "
              f"of that time")
        time.sleep(5)
        total, distinct = stored(location)
        expected = 2 * len(sites)
        print(f"  events: {expected} published, {distinct} landed ({total - distinct} twice); "
              f"rooms asked for a replay: {len(commands.replays)} (the simulator keeps no journal)")
        events = sum(taken(b, "event") for b in bases)
        older = [taken(b, "older") for b in bases]
        dropped = [line for line in (broker.directory / "mosquitto.log").read_text().splitlines()
                   if "dropped" in line]
        print(f"  events taken by the dashboards (/metrics): {events:.0f}; states older than the "
              f"room's current one, dropped: {', '.join(f'{n:.0f}' for n in older)}; publishes refused by the "
              f"simulator's client in all: {rooms.refused}; broker log lines about dropped "
              f"messages: {len(dropped)}{' (' + dropped[0] + ')' if dropped else ''}")
        group = list(groups)[len(groups) // 2]
        for n, base in enumerate(bases):
            conn = http.client.HTTPConnection(base.removeprefix("http://").split(":")[0],
                                              int(base.rsplit(":", 1)[1]), timeout=60)
            api = summary(timed_gets(conn, f"/api/sites?group={group}", 100))
            page = summary(timed_gets(conn, f"/groups/{group}", 50))
            rss = psutil.Process(procs[n].pid).memory_info().rss / 2**20
            print(f"  dashboard {n}: /api/sites?group={group} ({args.group_size} rooms) {api}; "
                  f"/groups/{group} {page}; RSS {rss:.0f} MiB")
            conn.close()
    finally:
        if rooms is not None:
            rooms.stop.set()
        client.loop_stop()
        for proc in procs:
            stop_process(proc, 20)
        broker.stop()


def main() -> None:
    """Run both setups and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=30000)
    ap.add_argument("--dashboards", type=int, default=3)
    ap.add_argument("--period", type=float, default=120.0)
    ap.add_argument("--group-size", type=int, default=300)
    ap.add_argument("--first-round-s", type=float, default=60.0)
    ap.add_argument("--settle-s", type=float, default=20.0)
    ap.add_argument("--blackout-s", type=float, default=10.0)
    ap.add_argument("--sqlite-sites", type=int, default=5000, help="0: no SQLite comparison")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="siaga-pg-bench-") as name:
        tmp = Path(name)
        server = start_postgres(settings=())          # PostgreSQL's own durable defaults
        try:
            url = server.new_database("bench")
            (tmp / "pg").mkdir()
            run_setup(tmp / "pg", "PostgreSQL", url, args.dashboards, args.sites, args, server.data)
            pg = postgres_processes(server.data)
            print(f"  PostgreSQL postmaster RSS {sum(p.memory_info().rss for p in pg[:1]) / 2**20:.0f} MiB")
        finally:
            server.stop()
        if args.sqlite_sites:
            (tmp / "sqlite").mkdir()
            run_setup(tmp / "sqlite", "SQLite", str(tmp / "sqlite" / "dashboard.sqlite3"), 1,
                      args.sqlite_sites, args)


if __name__ == "__main__":
    main()
