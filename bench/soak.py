"""Soak (issue 12 item 5): N compressed outages against the real servers, random faults thrown in.

    python bench/soak.py --outages 100 [--seed 1] [--fault-rate 0.3]

One room on real upsd + dummy-ups and mosquitto, the real `siaga edge`, `siaga agent` (its
shutdown only writes a line) and `siaga dashboard` processes. Each outage: power lost, notice,
sometimes wrap-up and shutdown, power back; a fault from the matrix (tests/faults.py) is thrown
in at a random point of some outages (seeded: the same seed gives the same run). At the end:
every outage journaled whole (power_lost .. power_restored, at most one notice/wrap-up/shutdown,
a cancel for every outage), seq contiguous, the dashboard's database equal to the journal
(events lost = journal events it does not have), RSS of each daemon at its start and at the end.
Figures are printed; with --doc FILE they also replace the soak section of that document
(between its SOAK markers, e.g. docs/reliability.md).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from siaga.servers import Mosquitto, Upsd, free_port, stop_process  # noqa: E402
from tests.agent_helpers import SITE  # noqa: E402
from tests.dashboard_support import write_config as dashboard_config  # noqa: E402
from tests.faults import Rig, clear, inject  # noqa: E402
from tests.faults_cell import outage_problems  # noqa: E402
from tests.waiting import wait_until  # noqa: E402

SOAK_FAULTS = ("upsd_killed", "driver_killed", "broker_restarted", "agent_restarted",
               "edge_sigkill", "journal_full", "journal_readonly", "clock_forward_1h",
               "clock_back_1h")
SOAK_POLICY_NOTICE_S = 1


class Soak:
    """The rig plus a `siaga dashboard` process, and the bookkeeping of one run."""

    def __init__(self, tmp: Path, seed: int, fault_rate: float) -> None:
        self.tmp, self.rng, self.fault_rate = tmp, random.Random(seed), fault_rate
        self.upsd, self.broker = Upsd(tmp / "nut").start(), Mosquitto(tmp / "mosquitto").start()
        self.rig = Rig(tmp, self.upsd, self.broker)
        self.rig.start(with_disk=True)
        dash = tmp / "dashproc"
        dash.mkdir()
        config = dashboard_config(dash, mqtt_port=self.broker.port, listen=f"127.0.0.1:{free_port()}")
        self.dash_db = dash / "dashboard.sqlite3"
        with open(dash / "dashboard.log", "ab") as log:
            self.dashboard = subprocess.Popen([sys.executable, "-m", "siaga", "dashboard", "-c",
                                               str(config)], stdout=log, stderr=subprocess.STDOUT)
        self.rss: dict[str, dict[int, list[int]]] = {"edge": {}, "agent": {}, "dashboard": {}}
        self.faults: list[str] = []
        self.told_shutdown = 0

    def jkinds(self) -> list[str]:
        return [r[2] for r in self.rig.journal_rows()]

    def wait_count(self, kind: str, n: int, timeout: float = 30) -> None:
        wait_until(lambda: self.jkinds().count(kind) >= n, timeout, what=f"{n} x {kind}",
                   context=lambda: f"journal tail {self.jkinds()[-12:]}")

    def sample_rss(self) -> None:
        for name, proc in (("edge", self.rig.edge), ("agent", self.rig.agent),
                           ("dashboard", self.dashboard)):
            try:
                rss = psutil.Process(proc.pid).memory_info().rss
            except psutil.Error:
                continue
            self.rss[name].setdefault(proc.pid, [rss, rss])[1] = rss

    def maybe_fault(self, where: str, plan: tuple[str | None, str]) -> None:
        fault, at = plan
        if fault is None or at != where:
            return
        inject(self.rig, fault)
        time.sleep(1.0)
        clear(self.rig, fault)
        if fault.startswith("clock_"):
            self.rig.clock_file.write_text("0")   # NTP steps it back: no offset piles up
        self.faults.append(fault)

    def outage(self, i: int) -> None:
        """Outage number ``i`` (1-based), start to end."""
        rng = self.rng
        plan = (rng.choice(SOAK_FAULTS) if rng.random() < self.fault_rate else None,
                rng.choice(("lost", "notice", "end")))
        depth = rng.choice((0, 0, 1, 2))
        self.rig.ups(ups_status="OB DISCHRG", battery_runtime="1500")
        self.wait_count("power_lost", i)
        self.maybe_fault("lost", plan)
        self.wait_count("notice_sent", i)
        self.maybe_fault("notice", plan)
        if depth >= 1:
            self.rig.ups(battery_runtime="250")
            self.wait_count("wrapup_sent", self.jkinds().count("wrapup_sent") + 1)
        if depth >= 2:
            self.rig.ups(ups_status="OB DISCHRG LB")
            self.wait_count("shutdown_sent", self.told_shutdown + 1)
            self.told_shutdown += 1
            time.sleep(rng.uniform(0, 4))    # sometimes the PC's grace runs out first
        self.rig.ups(ups_status="OL CHRG", battery_runtime="1800")
        self.wait_count("power_restored", i)
        self.wait_count("cancel_sent", i)
        self.maybe_fault("end", plan)
        self.rig.watch.wait(lambda: self.rig.room().get("room") == "ready", 45, "ready")
        self.sample_rss()

    def dashboard_rows(self) -> list[tuple]:
        with sqlite3.connect(self.dash_db) as db:
            rows = db.execute("SELECT seq, ts, kind, detail FROM events WHERE site = ? "
                              "ORDER BY seq", (SITE,)).fetchall()
        return [(s, t, k, json.loads(d)) for s, t, k, d in rows]

    def close(self) -> None:
        stop_process(self.dashboard)
        self.rig.close()
        self.broker.stop()
        self.upsd.stop()


def run(outages: int, seed: int, fault_rate: float) -> dict:
    """The soak; its figures."""
    tmp = Path(tempfile.mkdtemp(prefix="siaga-soak-"))
    soak = Soak(tmp, seed, fault_rate)
    started = time.monotonic()
    done = 0
    try:
        for i in range(1, outages + 1):
            soak.outage(i)
            done = i
            if i % 10 == 0:
                print(f"  {i} outages, {time.monotonic() - started:.0f} s", flush=True)
        elapsed = time.monotonic() - started
        try:
            wait_until(lambda: soak.dashboard_rows() == soak.rig.journal_rows(), 60,
                       what="the dashboard's database equals the journal")
        except AssertionError:
            pass
        journal, held = soak.rig.journal_rows(), soak.dashboard_rows()
        kinds = [r[2] for r in journal]
        return {"outages": done, "seconds": elapsed, "per_hour": done / elapsed * 3600,
                "faults": len(soak.faults), "fault_kinds": sorted(set(soak.faults)),
                "events": len(journal),
                "events_lost": len({r[0] for r in journal} - {r[0] for r in held}),
                "differ": sum(1 for a, b in zip(journal, held) if a != b),
                "seq_contiguous": [r[0] for r in journal] == list(range(1, len(journal) + 1)),
                "outage_problems": outage_problems(kinds),
                "whole_outages": min(kinds.count("power_lost"), kinds.count("power_restored")),
                "shutdown_sent": kinds.count("shutdown_sent"), "pc_shutdowns": soak.rig.shutdowns(),
                "rss": soak.rss, "tracebacks": soak.rig.logs().count("Traceback")}
    finally:
        soak.close()


def mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def report(f: dict) -> str:
    """The figures, as lines for the terminal and the document."""
    lines = [f"- outages: {f['outages']} in {f['seconds']:.0f} s = **{f['per_hour']:.0f} outages/hour** "
             f"sustained; 1,000 outages take ~{1000 / f['per_hour'] * 60:.0f} min",
             f"- faults thrown in: {f['faults']} ({', '.join(f['fault_kinds'])})",
             f"- journal: {f['events']} events, seq contiguous: {f['seq_contiguous']}; whole outages "
             f"{f['whole_outages']}/{f['outages']}; problems: {f['outage_problems'] or 'none'}",
             f"- **events lost: {f['events_lost']}** (journal events missing from the dashboard's "
             f"database); events that differ: {f['differ']}",
             f"- shutdowns sent {f['shutdown_sent']}, PC shutdowns run {f['pc_shutdowns']} "
             f"(at most one per outage that sent one); tracebacks in logs: {f['tracebacks']}"]
    for name, pids in f["rss"].items():  # per process: after its first outage, and at the end
        parts = [f"pid {pid}: {mb(a)} -> {mb(b)}" for pid, (a, b) in pids.items()]
        lines.append(f"- RSS {name} ({len(pids)} process(es), a restart is a new one): "
                     + "; ".join(parts))
    return "\n".join(lines)


def write_doc(doc: Path, args: argparse.Namespace, text: str) -> None:
    """Replace what lies between the document's SOAK markers with this run's figures."""
    begin, end = "<!-- SOAK BEGIN -->", "<!-- SOAK END -->"
    head, rest = doc.read_text(encoding="utf-8").split(begin, 1)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    body = (f"Run {when}: `python bench/soak.py --outages {args.outages} --seed {args.seed} "
            f"--fault-rate {args.fault_rate}`\n\n{text}")
    doc.write_text(f"{head}{begin}\n{body}\n{end}{rest.split(end, 1)[1]}", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outages", type=int, default=20)  # make bench: ~2 min
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault-rate", type=float, default=0.3)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--doc", help="write the figures into this document's SOAK section")
    args = parser.parse_args()
    figures = run(args.outages, args.seed, args.fault_rate)
    text = report(figures)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, default=str))
    if args.doc:
        write_doc(Path(args.doc), args, text)
    bad = (figures["events_lost"] or figures["differ"] or not figures["seq_contiguous"]
           or figures["outage_problems"] or figures["pc_shutdowns"] > figures["shutdown_sent"]
           or figures["tracebacks"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
