"""The floor under the 30,000-room blackout (issue 23): what the MQTT traffic alone costs here.

The blackout of bench/fleet_postgres.py is 90,000 QoS 1 messages (each room: power_lost,
notice_sent, its state) published within 10 s. This script sends the same messages (same topics,
same payloads) from one paho client to mosquitto and takes them with N bare paho subscribers on
the dashboards' shared subscription, which only count them: no decoding, no store, no database.
It prints the CPU of the publisher, the broker and the subscribers, and when the last message
reached a subscriber. Whatever a dashboard does is on top of these figures.

Usage: python bench/mqtt_floor.py [--sites 30000] [--subscribers 3] [--seconds 10]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.fleet_load import MAX_OUTSTANDING  # noqa: E402
from siaga.servers import Mosquitto  # noqa: E402


def messages(sites: int) -> list[tuple[str, bytes, bool]]:
    """(topic, payload, retain) of every room's blackout, as fleet_postgres.py publishes them."""
    from dataclasses import replace

    from protocol.messages import JournalEvent, to_json
    from tests.dashboard_support import snapshot
    out = []
    now = time.time()
    for n in range(sites):
        site = f"room-{n:05d}"
        for seq, kind in ((1, "power_lost"), (2, "notice_sent")):
            event = JournalEvent(site=site, seq=seq, ts=now, kind=kind)
            out.append((f"siaga/{site}/edge/event", to_json(event), False))
        state = replace(snapshot(site, "on_battery", name=f"Kantor {site}"), seq=2)
        out.append((f"siaga/{site}/edge/state", to_json(state), True))
    return out


def subscriber(port: int, count: mp.Value, last: mp.Value, ready: mp.Event) -> None:
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)

    def on_connect(client, userdata, flags, reason, properties):
        client.subscribe([("$share/siaga-dashboard/siaga/+/edge/state", 1),
                          ("$share/siaga-dashboard/siaga/+/edge/event", 1)])

    def on_subscribe(client, userdata, mid, reasons, properties):
        ready.set()

    def on_message(client, userdata, message):
        with count.get_lock():
            count.value += 1
        last.value = time.time()

    client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
    client.connect("127.0.0.1", port)
    client.loop_forever()


def publisher(port: int, sites: int, seconds: float, started: mp.Value, done: mp.Value,
              ready: mp.Event, go: mp.Event) -> None:
    import threading

    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    payloads = messages(sites)
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    room = threading.Condition()
    state = {"sent": 0, "acked": 0}

    def on_publish(client, userdata, mid, reason, properties):
        with room:
            state["acked"] += 1
            room.notify_all()

    client.on_publish = on_publish
    client.connect("127.0.0.1", port)
    client.loop_start()
    ready.set()                 # payloads built, connected: measured from here
    go.wait()
    t = time.monotonic()
    started.value = time.time()
    for i, (topic, payload, retain) in enumerate(payloads):
        if i % 3 == 0:
            delay = t + seconds * (i // 3) / sites - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        with room:
            room.wait_for(lambda: state["sent"] - state["acked"] < MAX_OUTSTANDING, 60)
            state["sent"] += 1
        client.publish(topic, payload, qos=1, retain=retain)
    done.value = time.time()
    with room:
        room.wait_for(lambda: state["acked"] >= state["sent"], 120)
    client.loop_stop()
    client.disconnect()


def cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=30000)
    ap.add_argument("--subscribers", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    total = args.sites * 3
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="siaga-mqtt-floor-") as tmp:
        broker = Mosquitto(Path(tmp) / "broker").start()
        subs: list = []
        try:
            count, last = ctx.Value("l", 0), ctx.Value("d", 0.0)
            readies = [ctx.Event() for _ in range(args.subscribers)]
            subs = [ctx.Process(target=subscriber, args=(broker.port, count, last, r), daemon=True)
                    for r in readies]
            for p in subs:
                p.start()
            for r in readies:
                r.wait(30)
            started, done = ctx.Value("d", 0.0), ctx.Value("d", 0.0)
            ready, go = ctx.Event(), ctx.Event()
            pub = ctx.Process(target=publisher, daemon=True,
                              args=(broker.port, args.sites, args.seconds, started, done, ready, go))
            pub.start()
            ready.wait(300)
            procs = {"publisher": [psutil.Process(pub.pid)],
                     "broker": [psutil.Process(broker.proc.pid)],
                     "subscribers": [psutil.Process(p.pid) for p in subs]}
            before = {k: [cpu(p) for p in ps] for k, ps in procs.items()}
            go.set()
            deadline = time.monotonic() + 300
            while count.value < total and time.monotonic() < deadline:
                time.sleep(0.05)
            after = {k: [cpu(p) for p in ps] for k, ps in procs.items()}
            pub.join(60)
            spent = {k: [a - b for a, b in zip(after[k], before[k])] for k in procs}
            print(f"{args.sites} rooms, {total} QoS 1 messages published within {args.seconds:.0f} s "
                  f"(took {done.value - started.value:.1f} s), {args.subscribers} bare paho "
                  f"subscriber(s) on the shared subscription, {os.cpu_count()} cores, load average "
                  f"{os.getloadavg()[0]:.1f} before the end")
            print(f"  received {count.value} of {total}; the last {last.value - done.value:.2f} s "
                  f"after the last publish() call")
            print(f"  CPU: publisher {spent['publisher'][0]:.1f} s, broker {spent['broker'][0]:.1f} s, "
                  f"subscribers {', '.join(f'{s:.1f}' for s in spent['subscribers'])} s "
                  f"(together {sum(spent['subscribers']):.1f} s, "
                  f"{1e6 * sum(spent['subscribers']) / max(count.value, 1):.0f} us a message)")
        finally:
            for p in subs:
                p.terminate()
            broker.stop()


if __name__ == "__main__":
    main()
