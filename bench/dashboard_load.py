"""Dashboard at fleet size: 500 sites publishing a state every 10 s, plus a burst of 1,000 events.

Runs `siaga dashboard` as a process against its own mosquitto (siaga.servers) on loopback, on a
database that already holds a history: 30 days of hours for every site and 7 days of minutes for
the first ``--full-history`` sites (written before the start, as the dashboard keeps them). Then
prints: whether ingest keeps up (every site's newest state visible, publish -> API latency, the
event burst's drain time), the p50/p95/max of GET /api/sites, GET /, a room page and the history
API at 500 sites while the states keep coming, and the dashboard's RSS and CPU.
Usage: python bench/dashboard_load.py [--sites 500] [--seconds 40] [--events 1000] [--full-history 20]
       [--broker-queue 10000]  (siaga.conf's value; mosquitto's default of 1,000 drops bursts)
"""

from __future__ import annotations

import argparse
import http.client
import json
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import paho.mqtt.client as paho
import psutil
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dashboard.store import history  # noqa: E402
from dashboard.store.database import SqliteDatabase as Database  # noqa: E402
from dashboard.web.overview import PAGE_ROOMS  # noqa: E402
from protocol.messages import JournalEvent, to_json  # noqa: E402
from siaga.servers import Mosquitto, free_port, stop_process  # noqa: E402
from tests.dashboard_support import snapshot, start_dashboard, write_config  # noqa: E402

ROOMS = ("ready",) * 14 + ("attention", "on_battery", "wrapup", "fault")


class Fleet(threading.Thread):
    """Publishes every site's state once per ``period`` seconds, spread evenly over the period."""

    def __init__(self, client: paho.Client, sites: list[str], period: float = 10.0) -> None:
        super().__init__(daemon=True)
        self.client, self.sites, self.period = client, sites, period
        self.stop = threading.Event()
        self.last_ts: dict[str, float] = {}
        self.published = 0

    def run(self) -> None:
        start, step, n = time.monotonic(), self.period / len(self.sites), 0
        while not self.stop.is_set():
            site = self.sites[n % len(self.sites)]
            delay = start + n * step - time.monotonic()
            if delay > 0 and self.stop.wait(delay):
                break
            room = ROOMS[hash((site, n // len(self.sites))) % len(ROOMS)]
            state = snapshot(site, room, name=f"Kantor {site} - Ruang Rapat", charge=90.0 - n % 40)
            self.client.publish(f"siaga/{site}/edge/state", to_json(state), qos=1, retain=True)
            self.last_ts[site] = state.ts
            self.published += 1
            n += 1


def seed_history(database: Path, sites: list[str], full: int, now: float) -> None:
    """30 days of hours for every site, 7 days of minutes for the first ``full`` sites."""
    Database(str(database)).close()                       # the schema
    t = time.perf_counter()

    def rows(site: str, step: int, span: int, n: int):
        for k in range(span // step):
            start = history.floor_to(now - span, step) + k * step
            charge = 100.0 - (k + n) % 50
            yield (site, start, charge - 3, charge, charge - 1, 1700.0, 1800.0, 1750.0,
                   30.0, 40.0, 35.0, 0.0 if k % 97 == 0 else 215.0, 225.0, 220.0)

    marks = ", ".join("?" * (2 + len(history.COLUMNS)))
    with sqlite3.connect(database) as conn:
        for n, site in enumerate(sites):
            conn.executemany(f"INSERT INTO hours VALUES ({marks})", rows(site, 3600, 30 * 86400, n))
            if n < full:
                conn.executemany(f"INSERT INTO minutes VALUES ({marks})", rows(site, 60, 7 * 86400, n))
    conn.close()
    size = database.stat().st_size / 2**20
    print(f"history seeded in {time.perf_counter() - t:.1f} s: 30 days of hours x {len(sites)} sites, "
          f"7 days of minutes x {full} sites; database {size:.0f} MiB")


def timed_gets(conn: http.client.HTTPConnection, path: str, count: int) -> list[float]:
    """Milliseconds of ``count`` GETs of ``path`` on one keep-alive connection."""
    times = []
    for _ in range(count):
        t = time.perf_counter()
        conn.request("GET", path)
        answer = conn.getresponse()
        answer.read()
        assert answer.status == 200, (path, answer.status)
        times.append((time.perf_counter() - t) * 1000)
    return times


def summary(times: list[float]) -> str:
    """p50 / p95 / max in ms."""
    q = statistics.quantiles(times, n=100)
    return f"p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms, max {max(times):.1f} ms (n={len(times)})"


def counter(url: str, kind: str) -> float:
    """siaga_dashboard_messages_total{kind=...} from /metrics."""
    text = urllib.request.urlopen(url + "/metrics", timeout=10).read().decode()
    line = next((l for l in text.splitlines() if l.startswith(f'siaga_dashboard_messages_total{{kind="{kind}"}}')), "")
    return float(line.split()[-1]) if line else 0.0


def event_burst(client: paho.Client, url: str, sites: list[str], events: int) -> None:
    """Publish ``events`` journal events at once; print how long the dashboard takes to take them.

    Waits for the last one on a cheap endpoint (polling /metrics would load the server), then
    checks the total on /metrics once.
    """
    before = counter(url, "event")
    burst = [JournalEvent(site=sites[i % len(sites)], seq=i // len(sites) + 1, ts=time.time(),
                          kind="power_lost") for i in range(events)]
    last = burst[-1]
    t = time.perf_counter()
    infos = [client.publish(f"siaga/{e.site}/edge/event", to_json(e), qos=1) for e in burst]
    for info in infos:
        info.wait_for_publish(10)
    sent = time.perf_counter() - t
    probe = f"{url}/api/sites/{last.site}/events?limit=1"
    while time.perf_counter() - t < 60:
        try:
            if json.load(urllib.request.urlopen(probe, timeout=5))["events"][0]["seq"] == last.seq:
                break
        except (OSError, IndexError, KeyError):
            pass
        time.sleep(0.01)
    took = time.perf_counter() - t
    got = counter(url, "event") - before
    print(f"event burst: {events} published in {sent:.2f} s; the last one was on the API after "
          f"{took:.2f} s; events taken in: {got:.0f}")


def freshness(url: str, fleet: Fleet) -> tuple[int, int]:
    """(sites whose newest published state the API shows, sites published)."""
    shown = json.load(urllib.request.urlopen(url + "/api/sites", timeout=10))["sites"]
    published = dict(fleet.last_ts)
    return sum(1 for s in shown if s["ts"] >= published.get(s["site"], float("inf")) - 1e-6), len(published)


def latency(client: paho.Client, url: str, samples: int = 20) -> list[float]:
    """Publish -> visible on /api/sites/<site>, in ms, for a marker site."""
    times = []
    for i in range(samples):
        state = snapshot("probe", charge=float(i))
        t = time.perf_counter()
        client.publish("siaga/probe/edge/state", to_json(state), qos=1, retain=True)
        # Bounded: at --sites 5000 the store is full (MAX_SITES) and never shows the probe.
        while time.perf_counter() - t < 10:
            try:
                got = json.load(urllib.request.urlopen(url + "/api/sites/probe", timeout=5))
                if got["state"]["ts"] == state.ts:
                    break
            except OSError:
                pass
            time.sleep(0.002)
        else:
            print("publish -> /api/sites/<site>: the probe site never showed (store full?)")
            return []
        times.append((time.perf_counter() - t) * 1000)
        time.sleep(0.2)
    return times


def main() -> None:
    """Run the load and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--full-history", type=int, default=20,
                    help="sites with 7 days of minutes in the database (all have 30 days of hours)")
    ap.add_argument("--broker-queue", type=int, default=0,
                    help="the broker's max_queued_messages (0 = mosquitto's default, 1000)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="siaga-bench-") as tmp:
        run(Path(tmp), args)


def run(tmp: Path, args: argparse.Namespace) -> None:
    """The benchmark in ``tmp``."""
    queue = f"max_queued_messages {args.broker_queue}" if args.broker_queue else ""
    broker = Mosquitto(tmp / "mosquitto", extra=queue).start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = None
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5, client_id="bench-fleet")
    client.max_queued_messages_set(0)
    client.max_inflight_messages_set(100)
    try:
        sites = [f"kantor-{i:03d}" for i in range(args.sites)]
        seed_history(tmp / "dashboard.sqlite3", sites, args.full_history, time.time())
        proc = start_dashboard(write_config(tmp, mqtt_port=broker.port, listen=f"127.0.0.1:{port}"),
                               url, tmp / "dashboard.log")
        dash = psutil.Process(proc.pid)
        client.connect("127.0.0.1", broker.port)
        client.loop_start()
        fleet = Fleet(client, sites)
        cpu0, t0 = dash.cpu_times(), time.monotonic()
        fleet.start()
        time.sleep(10.5)                                    # one full round: every site known
        print(f"sites: {args.sites}, a state from each every 10 s ({args.sites / 10:.0f} states/s)")
        event_burst(client, url, sites, args.events)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        print("GET /api/sites:", summary(timed_gets(conn, "/api/sites", 300)))
        print(f"GET / (overview, at most {PAGE_ROOMS} rooms, problems first):", summary(timed_gets(conn, "/", 100)))
        print("GET /?view=table:", summary(timed_gets(conn, "/?view=table", 50)))
        print("GET /?all=1 (every room's card):", summary(timed_gets(conn, "/?all=1", 30)))
        print("GET /?q=...&state=ready (a search):", summary(timed_gets(conn, f"/?q={sites[1][:-1]}&state=ready", 50)))
        print("GET /sites/<site> (24 h charts):", summary(timed_gets(conn, f"/sites/{sites[0]}", 50)))
        print("GET /sites/<site>?range=7d:", summary(timed_gets(conn, f"/sites/{sites[0]}?range=7d", 30)))
        for range_name in history.RANGES:
            path = f"/api/sites/{sites[0]}/history?range={range_name}"
            print(f"GET {path.replace(sites[0], '<site>')}:", summary(timed_gets(conn, path, 30)))
        print("GET /api/changes:", summary(timed_gets(conn, "/api/changes?since=1", 200)))
        if probe := latency(client, url):
            print("publish -> /api/sites/<site>:", summary(probe))
        time.sleep(max(0.0, args.seconds - (time.monotonic() - t0)))
        fleet.stop.set()
        fleet.join()
        time.sleep(1.0)
        fresh, published = freshness(url, fleet)
        cpu1, t1 = dash.cpu_times(), time.monotonic()
        busy = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / (t1 - t0) * 100
        print(f"ingest kept up: {fresh}/{published} sites show their newest state; "
              f"{fleet.published} states published in {t1 - t0:.0f} s; bad messages {counter(url, 'bad'):.0f}")
        mem = dash.memory_info()
        print(f"dashboard RSS {mem.rss / 2**20:.1f} MiB; CPU {busy:.0f} % of one core on average "
              "(during the load and the measurements)")
    finally:
        client.loop_stop()
        stop_process(proc)
        broker.stop()


if __name__ == "__main__":
    main()
