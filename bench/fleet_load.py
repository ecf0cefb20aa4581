"""The fleet at region size: N rooms through a TLS bridge into one central dashboard.

Brokers as shipped (firmware_config/mosquitto: siaga-central.conf/.acl, siaga-bridge.conf) with a
throwaway CA; the rooms are simulated on one region broker whose one bridge carries every room
(on site each Pi has its own bridge and queue: this is the harder case for the bridge). Prints:
rooms on the page after the first round of states (one every --period s each), an event burst,
a region-wide blackout (every room loses power within 10 s and publishes its state, power_lost
and notice_sent at once): events landed once, lost before any replay, the time until every room
shows on battery; GET /api/sites and / p95, RSS and CPU of `siaga dashboard`; then a replay of
5,000 events by a real edge journal (seconds until the dashboard holds them all).
Usage: python bench/fleet_load.py --sites 2000 [--period 30] [--central-queue 1000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

import paho.mqtt.client as paho
import psutil
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.dashboard_load import counter, summary, timed_gets  # noqa: E402
from edge.journal import Journal  # noqa: E402
from edge.replay import Replayer  # noqa: E402
from protocol.messages import EdgeCommand, JournalEvent, decode, to_json  # noqa: E402
from siaga.servers import Mosquitto, free_port, stop_process  # noqa: E402
from tests.dashboard_support import snapshot, start_dashboard, write_config  # noqa: E402
from tests.fleet_support import (CENTRAL_DASHBOARD, bridge_config, central_broker,  # noqa: E402
                                 with_login)

REGION = ("region-bench", "region-pw")
REGION_ACL = f"user {REGION[0]}\ntopic write siaga/+/edge/#\ntopic read siaga/+/edge/command"


# paho numbers QoS 1 messages with 16-bit ids: with 65,535 unacknowledged in one client, a new
# publish() finds its id taken and is refused (rc MQTT_ERR_QUEUE_SIZE, nothing sent). A 30,000-room
# blackout is 90,000 messages from this one simulator, so it waits below this many (on site every
# room has its own client and its bridge its own queue).
MAX_OUTSTANDING = 50000


class Rooms(threading.Thread):
    """Every room's state once per ``period`` s (spread evenly), with its journal's seq."""

    def __init__(self, client: paho.Client, sites: list[str], period: float) -> None:
        super().__init__(daemon=True)
        self.client, self.sites, self.period = client, sites, period
        self.seq = dict.fromkeys(sites, 0)
        self.room = dict.fromkeys(sites, "ready")
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.sent = self.acked = self.refused = 0   # QoS 1 messages handed to paho / PUBACKed / refused
        self.acked_at = 0.0                          # time.monotonic() of the newest PUBACK
        self.watch, self.watched_at = 0, 0.0         # when the broker had acked the first ``watch``
        self._room_for = threading.Condition()
        client.on_publish = self._on_publish

    def _on_publish(self, client: paho.Client, userdata: object, mid: int, reason: object,
                    properties: object) -> None:
        with self._room_for:
            self.acked += 1
            self.acked_at = time.monotonic()
            if self.watch and self.acked >= self.watch and not self.watched_at:
                self.watched_at = self.acked_at    # one connection: PUBACKs come in order
            self._room_for.notify_all()

    def publish(self, topic: str, payload: str, retain: bool = False) -> None:
        """Publish at QoS 1, waiting while MAX_OUTSTANDING are unacknowledged; a refusal is counted."""
        with self._room_for:
            self._room_for.wait_for(lambda: self.sent - self.acked < MAX_OUTSTANDING, 60)
            self.sent += 1
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            with self._room_for:
                self.sent -= 1
                self.refused += 1

    def drained(self, timeout: float) -> bool:
        """Wait until the broker has acknowledged every message handed over; False on timeout."""
        with self._room_for:
            return self._room_for.wait_for(lambda: self.acked >= self.sent, timeout)

    def event(self, site: str, kind: str) -> None:
        """One journal event of ``site`` with its next seq."""
        with self.lock:
            self.seq[site] += 1
            event = JournalEvent(site=site, seq=self.seq[site], ts=time.time(), kind=kind)
        self.publish(f"siaga/{site}/edge/event", to_json(event))

    def state(self, site: str) -> None:
        """The room's state now."""
        state = replace(snapshot(site, self.room[site], name=f"Kantor {site}"), seq=self.seq[site])
        self.publish(f"siaga/{site}/edge/state", to_json(state), retain=True)

    def run(self) -> None:
        start, step, n = time.monotonic(), self.period / len(self.sites), 0
        while not self.stop.is_set():
            delay = start + n * step - time.monotonic()
            if delay > 0 and self.stop.wait(delay):
                break
            self.state(self.sites[n % len(self.sites)])
            n += 1


def api_sites(url: str) -> list[dict]:
    return json.load(urllib.request.urlopen(url + "/api/sites", timeout=30))["sites"]


def wait_for(check, timeout: float, every: float = 0.5) -> float | None:
    """Seconds until ``check()`` is true, None if never within ``timeout``."""
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        if check():
            return time.monotonic() - t
        time.sleep(every)
    return None


def stored_events(db: Path) -> tuple[int, int]:
    """(events, distinct (site, seq)) in the dashboard's database."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return conn.execute("SELECT COUNT(*), COUNT(DISTINCT site || '/' || seq) FROM events").fetchone()


class Commands:
    """Edge commands that came down the bridge: replays asked, per site."""

    def __init__(self, port: int, replayer_for: dict[str, Replayer]) -> None:
        self.replays: dict[str, int] = {}
        self.replayer_for = replayer_for
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-commands")
        self.client.on_connect = lambda c, u, f, r, p: c.subscribe("siaga/+/edge/command", qos=1)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client, userdata, msg) -> None:
        site = msg.topic.split("/")[1]
        command = decode(EdgeCommand, msg.payload)
        if command.kind == "replay":
            self.replays[site] = self.replays.get(site, 0) + 1
            if site in self.replayer_for:
                self.replayer_for[site].take(command)


def main() -> None:
    """Run the load and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=2000)
    ap.add_argument("--period", type=float, default=30.0)
    ap.add_argument("--burst", type=int, default=1000)
    ap.add_argument("--central-queue", type=int, default=0,
                    help="override the central broker's max_queued_messages (1000 = mosquitto's default)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="siaga-fleet-bench-") as tmp:
        run(Path(tmp), args)


def start_brokers(tmp: Path, args: argparse.Namespace) -> tuple[Mosquitto, Mosquitto]:
    """(central, region): the region's bridge as shipped, with "+" for the site."""
    extra = f"max_queued_messages {args.central_queue}" if args.central_queue else ""
    fleet = central_broker(tmp, [], extra=extra, acl_extra=REGION_ACL, users=dict([REGION]))
    fleet.central.start()
    bridge = bridge_config("+", f"127.0.0.1:{fleet.tls_port}", fleet.certs["ca.crt"], REGION[1])
    bridge = bridge.replace("remote_username +", f"remote_username {REGION[0]}")
    bridge = bridge.replace("siaga-bridge-+", "siaga-bridge-region")
    # One bridge for every room: its queue must hold the whole region's burst.
    region = Mosquitto(tmp / "region", extra=f"{bridge}\nmax_queued_messages 200000\n").start()
    return fleet.central, region


def run(tmp: Path, args: argparse.Namespace) -> None:
    """The benchmark in ``tmp``."""
    central, region = start_brokers(tmp, args)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = None
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5, client_id="bench-rooms")
    client.max_queued_messages_set(0)
    client.max_inflight_messages_set(100)
    journal = Journal(tmp / "replay-journal.sqlite3")
    try:
        config = with_login(write_config(tmp, mqtt_port=central.port, listen=f"127.0.0.1:{port}"),
                            *CENTRAL_DASHBOARD)
        proc = start_dashboard(config, url, tmp / "dashboard.log")
        dash = psutil.Process(proc.pid)
        client.connect("127.0.0.1", region.port)
        client.loop_start()
        # The replay room at the end counts as one of --sites (the store keeps at most 5,000).
        sites = [f"kantor-{i:04d}" for i in range(args.sites - 1)]
        rooms = Rooms(client, sites, args.period)
        replayers: dict[str, Replayer] = {}
        commands = Commands(region.port, replayers)
        cpu0, t0 = dash.cpu_times(), time.monotonic()
        for site in sites:
            rooms.event(site, "edge_started")
        rooms.start()
        took = wait_for(lambda: len(api_sites(url)) >= len(sites), args.period + 60, 2.0)
        print(f"rooms: {args.sites}, a state from each every {args.period:g} s "
              f"({args.sites / args.period:.0f} states/s) through the TLS bridge; all on the page "
              f"after {took and round(took, 1)} s")
        burst(rooms, sites, args.burst)
        blackout(rooms, sites, url)
        expected = 3 * len(sites) + args.burst
        time.sleep(3)
        total, distinct = stored_events(tmp / "dashboard.sqlite3")
        print(f"events: {expected} published; {distinct} landed ({total - distinct} twice in the "
              f"store: 0 by its key); duplicates dropped {counter(url, 'duplicate'):.0f}; "
              f"rooms that needed a replay: {len(commands.replays)}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        print("GET /api/sites:", summary(timed_gets(conn, "/api/sites", 100)))
        print("GET / (overview):", summary(timed_gets(conn, "/", 40)))
        cpu1, t1 = dash.cpu_times(), time.monotonic()
        busy = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / (t1 - t0) * 100
        print(f"dashboard RSS {dash.memory_info().rss / 2**20:.1f} MiB; CPU {busy:.0f} % of one "
              f"core on average over {t1 - t0:.0f} s")
        replay_5000(rooms, journal, replayers, client, url)
    finally:
        rooms.stop.set() if "rooms" in locals() else None
        client.loop_stop()
        stop_process(proc)
        journal.close()
        region.stop()
        central.stop()


def burst(rooms: Rooms, sites: list[str], count: int) -> None:
    """``count`` events at once (pc_online), one per room."""
    t = time.perf_counter()
    for i in range(count):
        rooms.event(sites[i % len(sites)], "pc_online")
    print(f"event burst: {count} events published in {time.perf_counter() - t:.2f} s")


def blackout(rooms: Rooms, sites: list[str], url: str) -> None:
    """Every room loses power within 10 s: state, power_lost and notice_sent at once."""
    t = time.monotonic()
    for i, site in enumerate(sites):
        delay = t + 10.0 * i / len(sites) - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        rooms.room[site] = "on_battery"
        rooms.event(site, "power_lost")
        rooms.event(site, "notice_sent")
        rooms.state(site)
    published = time.monotonic() - t
    done = wait_for(lambda: all(s["room"] == "on_battery" for s in api_sites(url)
                                if s["site"].startswith("kantor-")), 120, 0.5)
    print(f"blackout: {len(sites)} rooms published in {published:.1f} s; every room on battery "
          f"on the page {done and round(published + done, 1)} s after the first lost power, "
          f"{done and round(done, 1)} s after the last")


def replay_5000(rooms: Rooms, journal: Journal, replayers: dict[str, Replayer],
                client: paho.Client, url: str) -> None:
    """A room whose 5,000 events the dashboard never saw; its state says seq 5000."""
    site = "replay-bench"
    for i in range(5000):
        journal.append(site, time.time(), "pc_online", {"pc": "meeting-pc", "n": i})
    publish = lambda e: client.publish(f"siaga/{site}/edge/event", to_json(e), qos=1)  # noqa: E731
    replayers[site] = Replayer(journal, publish, lambda kind, detail, now: None)
    publish(journal.events_from(1, 1)[0])           # the dashboard knows the room from seq 1 ...
    state = replace(snapshot(site), seq=journal.last_seq())
    client.publish(f"siaga/{site}/edge/state", to_json(state), qos=1, retain=True)  # ... then 5000
    probe = f"{url}/api/sites/{site}/events?limit=1"

    def replayed() -> bool:
        try:   # 404 until the room's first event is stored
            events = json.load(urllib.request.urlopen(probe, timeout=10))["events"]
        except urllib.error.HTTPError:
            return False
        return bool(events) and events[0]["seq"] == 5000

    done = wait_for(replayed, 120, 0.2)
    print(f"replay: 4,999 missing events of one room back on the dashboard "
          f"{done and round(done, 1)} s after its state showed the gap (2 s grace included)")
    replayers[site].stop()


if __name__ == "__main__":
    main()
