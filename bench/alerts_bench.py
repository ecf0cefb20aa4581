"""Alerts: how soon IT hears of a power cut, and how fast a backlog drains when the uplink is back.

Runs `siaga dashboard` as a process with its own mosquitto (siaga.servers) and a real HTTP
receiver behind an Apprise json:// URL, all on loopback, then prints:
- the latency from publishing `notice_sent` (as an edge does) to the alert at the receiver,
  p50/p95/max over N outages;
- the time to drain M alerts queued while the receiver was down, from the receiver coming back
  (this includes the wait until the next retry, at most alerts.retry_max_s = 1 s here) and from
  the first alert to arrive.
Usage: python bench/alerts_bench.py [--outages 20] [--queued 500]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from protocol.messages import JournalEvent  # noqa: E402
from siaga.servers import Mosquitto, free_port, stop_process  # noqa: E402
from tests.alert_receiver import Receiver  # noqa: E402
from tests.dashboard_support import Client, start_dashboard, write_config  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"alerts_bench: {what} did not happen within {timeout} s")
        time.sleep(0.002)


def event(site: str, seq: int, kind: str, **detail) -> JournalEvent:
    return JournalEvent(site=site, seq=seq, ts=time.time(), kind=kind, detail=detail)


def latency(edge: Client, receiver: Receiver, outages: int) -> list[float]:
    """Seconds from publishing notice_sent to the alert's arrival, one per outage."""
    seconds, seq = [], 1
    for _ in range(outages):
        edge.publish("siaga/bench-rr1/edge/event", event("bench-rr1", seq, "power_lost"))
        before = len(receiver.received)
        sent = time.time()
        edge.publish("siaga/bench-rr1/edge/event",
                     event("bench-rr1", seq + 1, "notice_sent", runtime_s=1500))
        wait_for(lambda: len(receiver.received) > before, 10, "the power-lost alert")
        seconds.append(receiver.received[before][0] - sent)
        edge.publish("siaga/bench-rr1/edge/event",
                     event("bench-rr1", seq + 2, "power_restored", duration_s=60.0))
        wait_for(lambda: len(receiver.received) > before + 1, 10, "the restored alert")
        seq += 3
    return seconds


def unsent(url: str) -> int:
    request = urllib.request.Request(url + "/api/alerts?limit=1000",
                                     headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return sum(1 for a in json.load(answer)["alerts"] if a["sent"] is None)


def drain(edge: Client, receiver: Receiver, url: str, count: int) -> tuple[float, float]:
    """(seconds from the receiver's return, seconds from the first arrival) to deliver ``count``."""
    receiver.stop()
    receiver.received.clear()
    for n in range(count):
        edge.publish(f"siaga/queue-{n}/edge/event", event(f"queue-{n}", 1, "notice_sent"))
    wait_for(lambda: unsent(url) >= count, 60, f"{count} alerts in the outbox")
    back = time.time()
    receiver.start()
    wait_for(lambda: len(receiver.received) >= count, 120, f"{count} alerts at the receiver")
    return receiver.received[-1][0] - back, receiver.received[-1][0] - receiver.received[0][0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outages", type=int, default=20)
    parser.add_argument("--queued", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        broker = Mosquitto(directory / "mosquitto").start()
        receiver = Receiver(free_port()).start()
        (directory / "alerts.urls").write_text(receiver.url + "\n")
        (directory / "token").write_text(TOKEN + "\n")
        port = free_port()
        config = write_config(directory, mqtt_port=broker.port, listen=f"127.0.0.1:{port}",
                              dashboard='api_token_file = "token"\n[alerts]\nurls_file = '
                                        '"alerts.urls"\nquiet_repeat_s = 0\nretry_max_s = 1')
        url = f"http://127.0.0.1:{port}"
        proc = start_dashboard(config, url, directory / "dashboard.log")
        edge = Client(broker.port)
        try:
            time.sleep(1)  # the dashboard's subscription is up
            seconds = sorted(latency(edge, receiver, args.outages))
            p95 = seconds[max(0, round(0.95 * len(seconds)) - 1)]
            print(f"alert latency notice_sent -> receiver over {len(seconds)} outages: "
                  f"p50 {statistics.median(seconds) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
                  f"max {seconds[-1] * 1000:.1f} ms")
            from_back, from_first = drain(edge, receiver, url, args.queued)
            print(f"outbox of {args.queued} queued alerts drained in {from_back:.2f} s after the "
                  f"receiver came back ({from_first:.2f} s from the first to the last arrival, "
                  f"{args.queued / max(from_first, 1e-9):.0f} alerts/s)")
        finally:
            edge.close()
            stop_process(proc)
            receiver.stop()
            broker.stop()


if __name__ == "__main__":
    main()
