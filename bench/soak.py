"""Soak (issue 12 item 5): N compressed outages against the real servers, random faults thrown in.

    python bench/soak.py --outages 100 [--seed 1] [--fault-rate 0.3]

One room on real upsd + dummy-ups and mosquitto, the real `siaga edge`, `siaga agent` (its
shutdown only writes a line) and `siaga dashboard` processes. Each outage: power lost, notice,
sometimes wrap-up and shutdown, power back; a fault from the matrix (tests/faults.py) is thrown
in at a random point of some outages (seeded: the same seed gives the same run). At the end:
every outage journaled whole (power_lost .. power_restored, at most one notice/wrap-up/shutdown,
a cancel for every outage), seq contiguous, the dashboard's database equal to the journal
(events lost = journal events it does not have), the alerts IT got (a real HTTP receiver behind
the dashboard's Apprise json:// URL: each outage's alerts exactly once), and the RSS of each
daemon at the start, the middle and the end of the run, with its drift after outage 100.
Figures are printed; with --doc FILE they also replace the soak section of that document
(between its SOAK markers, e.g. docs/reliability.md).
"""

from __future__ import annotations

import argparse
from collections import Counter
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
from tests.alert_receiver import Receiver  # noqa: E402
from tests.dashboard_support import write_config as dashboard_config  # noqa: E402
from tests.faults import CALENDAR_FAULTS, Rig, clear, inject  # noqa: E402
from tests.faults_cell import expected_alerts, outage_problems  # noqa: E402
from tests.waiting import wait_until  # noqa: E402

SOAK_FAULTS = ("upsd_killed", "driver_killed", "broker_restarted", "agent_restarted",
               "edge_sigkill", "journal_full", "journal_readonly", "clock_forward_1h",
               "clock_back_1h", "runtime_missing", "runtime_truncated", "runtime_old_version",
               "calendar_down", "calendar_slow", "calendar_html")
SOAK_POLICY_NOTICE_S = 1
WARMUP = 100       # RSS drift is judged after this many outages (caches, first imports)
class Soak:
    """The rig plus a `siaga dashboard` process, and the bookkeeping of one run."""

    def __init__(self, tmp: Path, seed: int, fault_rate: float) -> None:
        self.tmp, self.rng, self.fault_rate = tmp, random.Random(seed), fault_rate
        self.upsd, self.broker = Upsd(tmp / "nut").start(), Mosquitto(tmp / "mosquitto").start()
        self.rig = Rig(tmp, self.upsd, self.broker)
        self.rig.start(with_disk=True, with_calendar=True)
        self.lingering: str | None = None      # a calendar fault held until the next outage
        dash = tmp / "dashproc"
        dash.mkdir()
        self.receiver = Receiver(free_port()).start()     # IT's webhook
        (dash / "alerts.urls").write_text(self.receiver.url + "\n")
        config = dashboard_config(dash, mqtt_port=self.broker.port, listen=f"127.0.0.1:{free_port()}",
                                  dashboard='\n[alerts]\nurls_file = "alerts.urls"\nretry_max_s = 2\n')
        self.dash_db = dash / "dashboard.sqlite3"
        with open(dash / "dashboard.log", "ab") as log:
            self.dashboard = subprocess.Popen([sys.executable, "-m", "siaga", "dashboard", "-c",
                                               str(config)], stdout=log, stderr=subprocess.STDOUT)
        # per daemon: (outage number, pid, RSS) after every outage
        self.rss: dict[str, list[tuple[int, int, int]]] = {"edge": [], "agent": [], "dashboard": []}
        self.faults: list[str] = []
        self.fault_log: list[tuple[int, str, str, float]] = []   # (outage, fault, where, time)
        self.current = 0
        self.told_shutdown = 0

    def jkinds(self) -> list[str]:
        return [r[2] for r in self.rig.journal_rows()]

    def wait_count(self, kind: str, n: int, timeout: float = 30) -> None:
        wait_until(lambda: self.jkinds().count(kind) >= n, timeout, what=f"{n} x {kind}",
                   context=lambda: f"journal tail {self.jkinds()[-12:]}")

    def sample_rss(self, i: int) -> None:
        for name, proc in (("edge", self.rig.edge), ("agent", self.rig.agent),
                           ("dashboard", self.dashboard)):
            try:
                rss = psutil.Process(proc.pid).memory_info().rss
            except psutil.Error:
                continue
            self.rss[name].append((i, proc.pid, rss))

    def maybe_fault(self, where: str, plan: tuple[str | None, str]) -> None:
        fault, at = plan
        if fault is None or at != where:
            return
        self.fault_log.append((self.current, fault, where, time.time()))
        if fault in CALENDAR_FAULTS:   # held through the outage: the edge reads it every 30 s
            if self.lingering is None:
                inject(self.rig, fault)
                self.lingering = fault
                self.faults.append(fault)
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
        self.current = i
        plan = (rng.choice(SOAK_FAULTS) if rng.random() < self.fault_rate else None,
                rng.choice(("lost", "notice", "end")))
        depth = rng.choice((0, 0, 1, 2))
        if self.lingering is not None:   # the calendar is back before the next outage
            clear(self.rig, self.lingering)
            self.lingering = None
        self.rig.ups(ups_status="OB DISCHRG", battery_runtime="1500")
        self.wait_count("power_lost", i)
        self.maybe_fault("lost", plan)
        self.wait_count("notice_sent", i)
        self.maybe_fault("notice", plan)
        if depth >= 1:
            wrapups = self.jkinds().count("wrapup_sent")   # before the UPS says so: the edge may
            self.rig.ups(battery_runtime="250")             # journal it before we could count
            self.wait_count("wrapup_sent", wrapups + 1)
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
        self.sample_rss(i)

    def dashboard_rows(self) -> list[tuple]:
        with sqlite3.connect(self.dash_db) as db:
            rows = db.execute("SELECT seq, ts, kind, detail FROM events WHERE site = ? "
                              "ORDER BY seq", (SITE,)).fetchall()
        return [(s, t, k, json.loads(d)) for s, t, k, d in rows]

    def alerts(self) -> dict:
        """The outbox against the journal and what the receiver got: each outage alert once."""
        with sqlite3.connect(self.dash_db) as db:
            rows = db.execute("SELECT id, kind, body, sent, created FROM alert_outbox "
                              "ORDER BY id").fetchall()
        bodies = [m.get("message", "") for m in self.receiver.messages()]
        expected = expected_alerts(self.jkinds())
        queued = {k: sum(1 for r in rows if r[1] == k) for k in expected}
        got, sent = Counter(bodies), Counter(r[2] for r in rows)
        return {"expected": expected, "queued": queued, "rows": [(r[0], r[1], r[4]) for r in rows],
                "other": sorted({r[1] for r in rows} - set(expected)),
                "other_count": sum(1 for r in rows if r[1] not in expected),
                "received": len(bodies), "outbox": len(rows),
                "twice": sum(max(0, got[b] - n) for b, n in sent.items()),
                "never": sum(max(0, n - got[b]) for b, n in sent.items()),
                "stray": sum(n for b, n in got.items() if b not in sent)}

    def close(self) -> None:
        if self.lingering is not None:
            clear(self.rig, self.lingering)
        self.receiver.stop()
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
            if i % 50 == 0:   # progress for a long run: what is lost so far, memory now
                journal, held = soak.rig.journal_rows(), soak.dashboard_rows()
                a = soak.alerts()
                rss = ", ".join(f"{n} {mb(v[-1][2])}" for n, v in soak.rss.items() if v)
                print(f"  progress {i}: journal {len(journal)} events, the dashboard lacks "
                      f"{len({r[0] for r in journal} - {r[0] for r in held})}; alerts expected "
                      f"{sum(a['expected'].values())}, queued {sum(a['queued'].values())}, "
                      f"received {a['received']}, twice {a['twice']}; faults {len(soak.faults)}; "
                      f"RSS {rss}", flush=True)
        elapsed = time.monotonic() - started
        try:
            wait_until(lambda: soak.dashboard_rows() == soak.rig.journal_rows(), 60,
                       what="the dashboard's database equals the journal")
        except AssertionError:
            pass
        journal, held = soak.rig.journal_rows(), soak.dashboard_rows()
        kinds = [r[2] for r in journal]
        try:   # the last alerts reach the receiver
            wait_until(lambda: (a := soak.alerts())["queued"] == a["expected"] and not a["never"],
                       60, what="every alert delivered")
        except AssertionError:
            pass
        alerts = soak.alerts()
        return {"outages": done, "seconds": elapsed, "per_hour": done / elapsed * 3600,
                "faults": len(soak.faults), "fault_kinds": sorted(set(soak.faults)),
                "events": len(journal),
                "events_lost": len({r[0] for r in journal} - {r[0] for r in held}),
                "differ": sum(1 for a, b in zip(journal, held) if a != b),
                "seq_contiguous": [r[0] for r in journal] == list(range(1, len(journal) + 1)),
                "outage_problems": outage_problems(kinds),
                "whole_outages": min(kinds.count("power_lost"), kinds.count("power_restored")),
                "shutdown_sent": kinds.count("shutdown_sent"), "pc_shutdowns": soak.rig.shutdowns(),
                "rss": soak.rss, "alerts": alerts, "journal": [r[:3] for r in journal],
                "fault_log": soak.fault_log,
                "tracebacks": soak.rig.logs().count("Traceback") + (
                    soak.tmp / "dashproc" / "dashboard.log").read_text(errors="replace").count("Traceback")}
    finally:
        soak.close()


def mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def rss_lines(outages: int, samples: list[tuple[int, int, int]]) -> list[str]:
    """Start, middle, end of the run (whichever process ran then: a restart is a new one), and
    the drift after WARMUP: per process, its RSS at its first outage past WARMUP (or its second,
    if it started later: a process restarted at the end of an outage may still be importing at
    its first sample) to its last, the largest of them; and the process that lived longest."""
    at = {i: (pid, rss) for i, pid, rss in samples}
    points = [(what, i) for what, i in (("start", 1), ("middle", max(1, outages // 2)),
                                        ("end", outages)) if i in at]
    parts = [f"{what} (outage {i}, pid {at[i][0]}) {mb(at[i][1])}" for what, i in points]
    lives: dict[int, list[tuple[int, int]]] = {}
    for i, pid, rss in samples:
        lives.setdefault(pid, []).append((i, rss))
    drifts = []
    for pid, life in lives.items():
        after = [(i, rss) for i, rss in life[1:] if i >= WARMUP] if outages > WARMUP else life[1:]
        if len(after) >= 2:
            drifts.append((after[-1][1] - after[0][1], pid, after[0][0], after[-1][0]))
    longest = max(lives.items(), key=lambda kv: len(kv[1]))
    life = longest[1]
    out = ["; ".join(parts) + f"; {len(lives)} process(es)"]
    if drifts:
        worst = max(drifts, key=lambda d: abs(d[0]))
        out.append(f"largest drift after outage {WARMUP}: **{worst[0] / 1e6:+.1f} MB** (pid "
                   f"{worst[1]}, outages {worst[2]}-{worst[3]}); longest-lived pid {longest[0]}: "
                   f"{len(life)} outages, {mb(life[0][1])} -> {mb(life[-1][1])}")
    return out


def report(f: dict) -> str:
    """The figures, as lines for the terminal and the document."""
    a = f["alerts"]
    exactly = a["queued"] == a["expected"] and not (a["twice"] or a["never"] or a["stray"])
    lines = [f"- outages: {f['outages']} in {f['seconds']:.0f} s = **{f['per_hour']:.0f} outages/hour** "
             f"sustained; 1,000 outages take ~{1000 / f['per_hour'] * 60:.0f} min",
             f"- faults thrown in: {f['faults']} ({', '.join(f['fault_kinds'])})",
             f"- journal: {f['events']} events, seq contiguous: {f['seq_contiguous']}; **whole outages "
             f"{f['whole_outages']}/{f['outages']}**; problems: {f['outage_problems'] or 'none'}",
             f"- **events lost: {f['events_lost']}** (journal events missing from the dashboard's "
             f"database); events that differ: {f['differ']}",
             f"- alerts: **{'each outage alert exactly once' if exactly else 'NOT exactly once'}**: "
             f"the journal calls for {sum(a['expected'].values())} ({a['expected']}), the outbox "
             f"queued {sum(a['queued'].values())} ({a['queued']}); the receiver got {a['received']} "
             f"(delivered twice: {a['twice']}, never: {a['never']}, not from the outbox: "
             f"{a['stray']}); other alerts: {a['other_count']} {a['other'] or ''}",
             f"- shutdowns sent {f['shutdown_sent']}, PC shutdowns run {f['pc_shutdowns']} "
             f"(at most one per outage that sent one); tracebacks in logs: {f['tracebacks']}"]
    for name, samples in f["rss"].items():
        if samples:
            lines.append(f"- RSS {name}: " + "\n  ".join(rss_lines(f["outages"], samples)))
    return "\n".join(lines)


def commit() -> str:
    """The commit the run is made on (with "+ changes" when the tree differs from it)."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"`{head}`" + (" + uncommitted changes" if dirty else "")


def write_doc(doc: Path, args: argparse.Namespace, text: str) -> None:
    """Replace what lies between the document's SOAK markers with this run's figures."""
    begin, end = "<!-- SOAK BEGIN -->", "<!-- SOAK END -->"
    head, rest = doc.read_text(encoding="utf-8").split(begin, 1)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(args.started))
    body = (f"Run {when} on commit {args.commit}: `python bench/soak.py --outages {args.outages} "
            f"--seed {args.seed} --fault-rate {args.fault_rate}`\n\n{text}")
    doc.write_text(f"{head}{begin}\n{body}\n{end}{rest.split(end, 1)[1]}", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outages", type=int, default=20)  # make bench: ~2 min
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault-rate", type=float, default=0.3)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--doc", help="write the figures into this document's SOAK section")
    args = parser.parse_args()
    args.started, args.commit = time.time(), commit()
    print(f"soak: {args.outages} outages, seed {args.seed}, on commit {args.commit}", flush=True)
    figures = run(args.outages, args.seed, args.fault_rate)
    text = report(figures)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, default=str))
    if args.doc:
        write_doc(Path(args.doc), args, text)
    a = figures["alerts"]
    bad = (figures["events_lost"] or figures["differ"] or not figures["seq_contiguous"]
           or a["queued"] != a["expected"] or a["twice"] or a["never"] or a["stray"]
           or figures["outage_problems"] or figures["pc_shutdowns"] > figures["shutdown_sent"]
           or figures["tracebacks"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
