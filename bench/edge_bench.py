"""Edge daemon figures: OB -> state snapshot latency over 20 flips, and idle CPU/RSS on mains.

Runs `siaga edge` as a process against its own upsd + dummy-ups and mosquitto on loopback.
Usage: python bench/edge_bench.py [--flips 20] [--idle 60] [--poll 1.0]
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from siaga.servers import Mosquitto, Upsd, stop_process  # noqa: E402
from tests.observer import Observer  # noqa: E402


class FastPoller(threading.Thread):
    """Asks upsd for ups.status every 5 ms and notes when it first says each value."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port, self.changes, self.stop = port, [], threading.Event()

    def run(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader, last = sock.makefile("rb"), None
        while not self.stop.is_set():
            sock.sendall(b"GET VAR meeting ups.status\n")
            line = reader.readline().decode()  # VAR meeting ups.status "OL"
            value = line.rsplit('"', 2)[-2] if line.count('"') >= 2 else line.strip()
            if value != last:
                self.changes.append((time.time(), value))
                last = value
            time.sleep(0.005)

    def when(self, status: str, after: float) -> float:
        return next(t for t, v in self.changes if v == status and t >= after)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--flips", type=int, default=20)
    ap.add_argument("--idle", type=float, default=60)
    ap.add_argument("--poll", type=float, default=1.0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="siaga-bench-"))
    upsd, broker = Upsd(tmp / "nut").start(), Mosquitto(tmp / "mqtt").start()
    config = tmp / "siaga.toml"
    config.write_text(f'[site]\nid = "bench"\n[mqtt]\nport = {broker.port}\n[[ups]]\nname = "meeting"\n'
                      f'port = {upsd.port}\n[edge]\npoll_interval_s = {args.poll}\n'
                      f'journal = "{tmp}/journal.sqlite3"\npcs = []\n[gpio]\npin_factory = "mock"\n')
    edge = subprocess.Popen([sys.executable, "-m", "siaga", "edge", "-c", str(config)],
                            stdout=open(tmp / "edge.log", "wb"), stderr=subprocess.STDOUT)
    watch = Observer(broker.port, "siaga/bench/edge/state")
    poller = FastPoller(upsd.port)
    poller.start()
    try:
        watch.wait_room("ready", 20)
        idle(edge, args.idle)
        latency(upsd, watch, poller, args.flips, args.poll)
    finally:
        poller.stop.set()
        watch.close()
        stop_process(edge)
        broker.stop()
        upsd.stop()


def idle(edge: subprocess.Popen, seconds: float) -> None:
    proc = psutil.Process(edge.pid)
    time.sleep(2)
    before, t0 = proc.cpu_times(), time.monotonic()
    time.sleep(seconds)
    after, wall = proc.cpu_times(), time.monotonic() - t0
    cpu = (after.user + after.system - before.user - before.system) / wall * 100
    rss = proc.memory_info().rss / 2**20
    print(f"edge idle on mains over {wall:.0f} s: CPU {cpu:.2f} % of a core, RSS {rss:.1f} MB")


def latency(upsd: Upsd, watch: Observer, poller: FastPoller, flips: int, poll: float) -> None:
    delays = []
    for _ in range(flips):
        mark = time.time()
        upsd.set(ups_status="OB")
        watch.wait_room("on_battery", 10)
        seen = next(t for t, topic, p, _ in reversed(watch.messages)
                    if json.loads(p)["room"] == "on_battery")
        delays.append(seen - poller.when("OB", mark))
        upsd.set(ups_status="OL")
        watch.wait_room("ready", 10)
        time.sleep(random.uniform(0, poll))  # land at a different phase of the poll each time
    print(f"OB -> snapshot latency over {flips} flips at poll {poll} s: "
          f"p50 {statistics.median(delays):.3f} s, p95 {pct(delays, 95):.3f} s, "
          f"max {max(delays):.3f} s")


if __name__ == "__main__":
    main()
