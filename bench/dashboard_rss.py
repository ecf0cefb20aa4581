"""The dashboard's RSS over many outages, without the edge (issue 24 item B).

    python bench/dashboard_rss.py [--outages 1000] [--cache-kib N]

A real `siaga dashboard` process on its own mosquitto, with alerts to a real HTTP receiver, fed
the journal events and states of ``--outages`` compressed outages (the soak's mix: power lost,
notice and its ack, sometimes wrap-up, shutdown and pc_off, power back, cancel) as fast as it
takes them. After every 100 outages, once its database holds them all, it prints the process's
RSS. bench/soak.py does the same with the whole rig and faults, ~6 s an outage; this takes a
fraction of a second an outage, so variants can be compared: ``--cache-kib N`` starts the
dashboard with dashboard.store.database.CACHE_KIB set to N (2000 is SQLite's own default);
``--maps`` prints the largest mappings' RSS; DASH_RSS_HOOK=FILE runs FILE's code first in the
dashboard (a tracemalloc hook that dumps a snapshot on SIGUSR1, say).
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from protocol.messages import JournalEvent  # noqa: E402
from siaga.servers import Mosquitto, free_port, stop_process  # noqa: E402
from tests.alert_receiver import Receiver  # noqa: E402
from tests.dashboard_support import SAMPLE_DETAIL, Client, snapshot, write_config  # noqa: E402
from tests.waiting import wait_until  # noqa: E402

SITE = "soak-rr1"


def outage_kinds(rng: random.Random) -> list[str]:
    """One outage's journal kinds, as the soak's depths make them."""
    depth = rng.choice((0, 0, 1, 2))
    kinds = ["power_lost", "notice_sent", "pc_ack"]
    if depth >= 1:
        kinds += ["wrapup_sent", "pc_ack"]
    if depth >= 2:
        kinds += ["shutdown_sent", "pc_ack", "pc_off"]
    return kinds + ["power_restored", "cancel_sent"]


def detail(kind: str) -> dict:
    from protocol.messages import EventKind
    return {f: SAMPLE_DETAIL[f] for f in EventKind(kind).fields}


def maps(pid: int, i: int) -> None:
    """The process's RSS by mapping (heap, anonymous arenas, files), largest first."""
    sizes: dict[str, int] = {}
    name = ""
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        parts = line.split()
        if "-" in parts[0] and not parts[0].endswith(":"):
            name = parts[5] if len(parts) > 5 else "[anon]"
        elif parts[0] == "Rss:":
            sizes[name] = sizes.get(name, 0) + int(parts[1])
    top = sorted(sizes.items(), key=lambda kv: -kv[1])[:6]
    print(f"  maps at {i}: " + ", ".join(f"{Path(n).name} {kib / 1024:.1f}" for n, kib in top))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outages", type=int, default=1000)
    parser.add_argument("--cache-kib", type=int, help="CACHE_KIB for this run (default: the code's)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--maps", action="store_true", help="print the largest mappings' RSS")
    parser.add_argument("--no-alerts", action="store_true", help="no [alerts] section")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="siaga-dashrss-"))
    broker = Mosquitto(tmp / "mosquitto").start()
    receiver = Receiver(free_port()).start()
    (tmp / "alerts.urls").write_text(receiver.url + "\n")
    config = write_config(tmp, mqtt_port=broker.port, listen=f"127.0.0.1:{free_port()}",
                          dashboard="" if args.no_alerts else
                          '\n[alerts]\nurls_file = "alerts.urls"\nretry_max_s = 2\n')
    patch = "" if args.cache_kib is None else \
        f"import dashboard.store.database as d; d.CACHE_KIB = {args.cache_kib}; "
    if os.environ.get("DASH_RSS_HOOK"):   # a file of code run first in the dashboard (tracemalloc)
        patch += f"exec(open({os.environ['DASH_RSS_HOOK']!r}).read()); "
    code = patch + "import sys; from siaga.cli import main; sys.exit(main())"
    with open(tmp / "dashboard.log", "ab") as log:
        dash = subprocess.Popen([sys.executable, "-c", code, "dashboard", "-c", str(config)],
                                stdout=log, stderr=subprocess.STDOUT)
    edge = Client(broker.port)
    rng, seq, ts = random.Random(args.seed), 0, time.time() - args.outages * 20
    db = tmp / "dashboard.sqlite3"

    def held() -> int:
        try:
            with sqlite3.connect(db) as conn:
                return conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        except sqlite3.Error:
            return -1

    def subscribed() -> bool:   # its state kept: the dashboard hears the room from now on
        try:
            with sqlite3.connect(db) as conn:
                return bool(conn.execute("SELECT 1 FROM latest").fetchone())
        except sqlite3.Error:
            return False

    started = time.monotonic()
    try:
        deadline = time.monotonic() + 60
        while not subscribed() and time.monotonic() < deadline:
            edge.publish(f"siaga/{SITE}/edge/state", snapshot(SITE, "ready", now=ts), retain=True)
            time.sleep(0.2)
        first = None
        for i in range(1, args.outages + 1):
            for kind in outage_kinds(rng):
                seq += 1
                ts += 1.5
                room = "ready" if kind in ("power_restored", "cancel_sent") else "on_battery"
                edge.publish(f"siaga/{SITE}/edge/event",
                             JournalEvent(site=SITE, seq=seq, ts=ts, kind=kind, detail=detail(kind)))
                edge.publish(f"siaga/{SITE}/edge/state", snapshot(SITE, room, now=ts), retain=True)
            if i % 10 == 0:   # no faster than it takes them (the broker drops past its queue)
                wait_until(lambda: held() == seq, 120, what=f"{seq} events in the database")
            if i % 100 == 0 or i == 1:
                wait_until(lambda: held() == seq, 120, what=f"{seq} events in the database")
                time.sleep(1.0)   # the alerts of the last outage go out
                rss = psutil.Process(dash.pid).memory_info().rss
                first = rss if i == 100 else first
                drift = "" if first is None else f", since outage 100 {(rss - first) / 1e6:+.2f} MB"
                if os.environ.get("DASH_RSS_HOOK"):
                    os.kill(dash.pid, __import__("signal").SIGUSR1)
                    time.sleep(3)
                if args.maps:
                    maps(dash.pid, i)
                print(f"outage {i}: RSS {rss / 1e6:.2f} MB{drift}; database "
                      f"{db.stat().st_size / 1e6:.2f} MB; {time.monotonic() - started:.0f} s",
                      flush=True)
    finally:
        edge.close()
        stop_process(dash)
        receiver.stop()
        broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
