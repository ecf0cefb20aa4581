"""The agent's cost on the meeting PC, and how fast it acks.

Starts a private mosquitto (siaga.servers) and `siaga agent` as a real process with telemetry
every 5 s, then prints:
  - idle CPU (% of one core) and RSS over 60 s (targets: <= 0.5 %, <= 40 MB),
  - ack latency p50/p95/max over 100 commands (publish -> ack received, QoS 1, loopback),
  - the cost of one process scan, full and incremental, in this process,
  - the banner window process (started on the first banner, then kept hidden) under Xvfb.

    .venv/bin/python bench/agent_idle.py [--seconds 60] [--commands 100]
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.telemetry import ProcessScanner  # noqa: E402
from protocol.config import MqttConfig  # noqa: E402
from protocol.mqtt import MqttLink  # noqa: E402
from siaga.servers import Mosquitto, stop_process  # noqa: E402

SITE, PC = "bench-site", "bench-pc"
BASE = f"siaga/{SITE}/pc/{PC}"


class Edge:
    """Plays the edge: counts statuses, sends commands, times acks."""

    def __init__(self, port: int) -> None:
        self.statuses: list[float] = []
        self.acks: dict[str, float] = {}
        self.cond = threading.Condition()
        self.link = MqttLink(MqttConfig(port=port), "bench-edge", subscriptions=(f"{BASE}/#",),
                             on_message=self.on_message)
        self.link.start()
        self.link.connected.wait(5)

    def on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        now = time.perf_counter()
        with self.cond:
            if topic.endswith("/status") and not retained:
                self.statuses.append(now)
            elif topic.endswith("/ack"):
                self.acks.setdefault(json.loads(payload)["id"], now)
            self.cond.notify_all()

    def ack_latency(self) -> float:
        """Send one "test" command, wait for its ack; seconds."""
        cid = uuid.uuid4().hex
        now = time.time()
        cmd = {"v": 1, "id": cid, "ts": now, "expires": now + 120, "kind": "test"}
        sent = time.perf_counter()
        self.link.publish(f"{BASE}/command", json.dumps(cmd), expiry_s=120)
        with self.cond:
            if not self.cond.wait_for(lambda: cid in self.acks, timeout=5):
                raise TimeoutError("no ack within 5 s")
            return self.acks[cid] - sent


def stop_agent(agent: subprocess.Popen | None, edge: "Edge | None") -> None:
    """Stop the agent as systemd would (TERM, then KILL after 10 s) and the bench's edge link."""
    if agent is not None and agent.poll() is None:
        agent.send_signal(signal.SIGTERM)
        try:
            agent.wait(10)
        except subprocess.TimeoutExpired:
            stop_process(agent)
    if edge is not None:
        edge.link.stop()


def write_config(directory: Path, port: int) -> Path:
    marker = directory / "shutdown.marker"
    shutdown = [sys.executable, "-c", f"open({str(marker)!r}, 'w')"]   # harmless, never sent
    path = directory / "agent.toml"
    path.write_text(
        f'[site]\nid = "{SITE}"\n\n[mqtt]\nhost = "127.0.0.1"\nport = {port}\n\n'
        f'[agent]\npc_id = "{PC}"\ninterval_s = 5\nbanner = false\n'
        f'recordings_dir = {json.dumps(str(directory))}\n'
        f'shutdown_command = {json.dumps(shutdown)}\n')
    return path


def measure_idle(agent: psutil.Process, seconds: float) -> tuple[float, float, float]:
    """(% of one core, RSS MB at the end, peak RSS MB) over ``seconds``."""
    cpu0, wall0 = sum(agent.cpu_times()[:2]), time.perf_counter()
    peak = 0.0
    while time.perf_counter() - wall0 < seconds:
        peak = max(peak, agent.memory_info().rss)
        time.sleep(1)
    cpu = sum(agent.cpu_times()[:2]) - cpu0
    wall = time.perf_counter() - wall0
    rss = agent.memory_info().rss
    return 100 * cpu / wall, rss / 2 ** 20, max(peak, rss) / 2 ** 20


def scan_cost() -> tuple[int, float, float]:
    """(processes, ms of a full scan, ms of an incremental scan)."""
    scanner = ProcessScanner()
    t0 = time.perf_counter()
    names = scanner.running()
    full = time.perf_counter() - t0
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        scanner.running()
        times.append(time.perf_counter() - t0)
    return len(psutil.pids()), 1000 * full, 1000 * statistics.median(times) if names else 0.0


def banner_idle(seconds: float) -> str:
    """The hidden banner window process after its first banner: start time, RSS, idle CPU."""
    import os

    from agent.banner import Banner
    from agent.texts import banner_view
    from protocol.messages import PcCommand
    from siaga.servers import ServerMissing
    from tests.xvfb import start_xvfb
    try:
        xvfb, display = start_xvfb(Path(os.devnull))
    except ServerMissing:
        return "banner window: not measured (no Xvfb; apt install xvfb)"
    banner = None
    try:
        banner = Banner(True, env={**os.environ, "DISPLAY": display})
        cmd = PcCommand(id="b", ts=0, expires=1, kind="notice", chat_text="x", runtime_s=1500)
        started = time.perf_counter()
        banner.show(banner_view(cmd, "id"))
        if banner.wait_event("shown", timeout=20) is None:
            return "banner window: did not show"
        shown_ms = (time.perf_counter() - started) * 1000
        banner.close()
        banner.wait_event("closed", timeout=5)
        proc = psutil.Process(banner._proc.pid)
        cpu_pct, rss, _ = measure_idle(proc, seconds)
        return (f"banner window process: first banner shown {shown_ms:.0f} ms after the call; "
                f"then hidden over {seconds:.0f} s: CPU {cpu_pct:.2f} % of one core, RSS {rss:.1f} MB")
    finally:
        if banner is not None:
            banner.stop()
        stop_process(xvfb)


def main() -> int:
    """Run the benchmark and print its figures."""
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--seconds", type=float, default=60)
    args.add_argument("--commands", type=int, default=100)
    args.add_argument("--banner-seconds", type=float, default=30)
    opts = args.parse_args()
    with tempfile.TemporaryDirectory(prefix="siaga-agent-bench-") as tmp:
        directory = Path(tmp)
        broker = Mosquitto(directory / "mosquitto").start()
        edge = agent = None
        try:
            edge = Edge(broker.port)
            log = open(directory / "agent.log", "wb")
            agent = subprocess.Popen([sys.executable, "-m", "siaga", "agent", "-c",
                                      str(write_config(directory, broker.port))],
                                     cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            with edge.cond:
                if not edge.cond.wait_for(lambda: edge.statuses, timeout=20):
                    raise TimeoutError("the agent sent no status; see its log")
            time.sleep(2)  # let start-up settle
            first = len(edge.statuses)
            cpu_pct, rss, peak = measure_idle(psutil.Process(agent.pid), opts.seconds)
            reports = len(edge.statuses) - first
            latencies = sorted(edge.ack_latency() for _ in range(opts.commands))
            p50 = statistics.median(latencies) * 1000
            p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000
            print(f"agent idle over {opts.seconds:.0f} s, telemetry every 5 s "
                  f"({reports} reports): CPU {cpu_pct:.2f} % of one core "
                  f"(target <= 0.5 %), RSS {rss:.1f} MB, peak {peak:.1f} MB (target <= 40 MB)")
            print(f"ack latency over {len(latencies)} commands: p50 {p50:.2f} ms, "
                  f"p95 {p95:.2f} ms, max {latencies[-1] * 1000:.2f} ms (budget 200 ms)")
            count, full_ms, incr_ms = scan_cost()
            print(f"process scan of {count} processes: full {full_ms:.1f} ms, "
                  f"incremental {incr_ms:.2f} ms (median of 20)")
            print(banner_idle(opts.banner_seconds))
            log.close()
        finally:
            stop_agent(agent, edge)
            broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
