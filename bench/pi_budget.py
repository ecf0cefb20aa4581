"""A small Pi's budget: memory and CPU of the whole Pi stack at rest and during a power cut.

Starts what a room's Pi runs, on free loopback ports in a temporary directory: upsd with the
dummy-ups driver (for the USB UPS's driver), mosquitto, `siaga edge` (mock GPIO, the installed
siaga.toml's poll interval) and `siaga dashboard`. After a warm-up it samples every process
once a second: at rest (mains, nobody looking at the page) for --rest seconds, then during a
cut (the UPS on battery, its runtime falling, the room page fetched every 2 s as IT would watch
it) for --cut seconds. Prints RSS (resident memory, shared libraries counted in each process)
and USS (memory only that process holds), and CPU as % of one core, per process and in total.
Every process started is stopped by its PID at the end.

Targets: the stack under 150 MB RSS (a Pi Zero 2 W has 512 MB for everything), the edge alone
under 1 % of one core at rest. Figures only: no assert. Run inside scripts/pi_arm64.py's arm64
root (--budget) the CPU is qemu's emulation of it, not a Pi's.
Usage: python bench/pi_budget.py [--rest 60] [--cut 30]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from siaga.servers import UPSD_PASSWORD, UPSD_USER, Mosquitto, Upsd, free_port, stop_process  # noqa: E402

SITE = "budget-rr1"
TARGET_STACK_MB, TARGET_EDGE_CPU = 150.0, 1.0
WARMUP_S = 10.0


class Stack:
    """The five programs of a room's Pi, started here."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.upsd = Upsd(directory / "nut")
        self.broker = Mosquitto(directory / "mosquitto", extra="max_queued_messages 10000")
        self.programs: dict[str, subprocess.Popen] = {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.runtime = 1800.0

    def start(self) -> None:
        self.upsd.start(values={"battery.runtime": "1800"})
        self.broker.start()
        d = self.directory
        (d / "nut.password").write_text(UPSD_PASSWORD + "\n")
        (d / "siaga.toml").write_text(
            f'[site]\nid = "{SITE}"\nname = "Budget - Ruang Rapat 1"\n\n'
            f'[mqtt]\nhost = "127.0.0.1"\nport = {self.broker.port}\n\n'
            f'[[ups]]\nname = "meeting"\nport = {self.upsd.port}\nusername = "{UPSD_USER}"\n'
            'password_file = "nut.password"\npowers_pc = true\n\n'
            f'[edge]\njournal = {json.dumps(str(d / "journal.sqlite3"))}\npcs = []\n\n'
            '[gpio]\npin_factory = "mock"\n\n'
            f'[dashboard]\nlisten = "127.0.0.1:{self.port}"\n'
            f'database = {json.dumps(str(d / "dashboard.sqlite3"))}\n')
        for name in ("edge", "dashboard"):
            with open(d / f"{name}.log", "ab") as log:
                self.programs[name] = subprocess.Popen(
                    [sys.executable, "-m", "siaga", name, "-c", str(d / "siaga.toml")], cwd=d,
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True)
        deadline = time.monotonic() + 180   # emulated, the dashboard takes a while to import
        while self.room() != "ready":
            dead = [n for n, p in self.programs.items() if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"{dead or 'the page'} did not come up; logs in {d}")
            time.sleep(0.5)

    def room(self) -> str:
        try:
            with urllib.request.urlopen(f"{self.url}/api/sites/{SITE}", timeout=5) as answer:
                return (json.load(answer).get("state") or {}).get("room", "")
        except (OSError, ValueError):
            return ""

    def processes(self) -> dict[str, psutil.Process]:
        procs = {"upsd": self.upsd.upsd, "dummy-ups": self.upsd.drivers["meeting"],
                 "mosquitto": self.broker.proc, "siaga edge": self.programs["edge"],
                 "siaga dashboard": self.programs["dashboard"]}
        return {name: psutil.Process(p.pid) for name, p in procs.items()}

    def cut_tick(self, seconds_on_battery: float) -> None:
        """On battery: the runtime falls 10 s a second (to see the stages' work, not reach them)."""
        self.upsd.set(ups_status="OB", battery_runtime=str(int(max(600, 1800 - 10 * seconds_on_battery))))

    def stop(self) -> None:
        for proc in self.programs.values():
            stop_process(proc)
        self.broker.stop()
        self.upsd.stop()


def sample(procs: dict[str, psutil.Process], seconds: float, tick=None) -> dict[str, dict]:
    """CPU % of one core over ``seconds`` and RSS/USS (max of the per-second samples)."""
    first = {n: p.cpu_times() for n, p in procs.items()}
    peak = {n: {"rss": 0, "uss": 0} for n in procs}
    start = time.monotonic()
    while (elapsed := time.monotonic() - start) < seconds:
        if tick:
            tick(elapsed)
        for n, p in procs.items():
            mem = p.memory_full_info()
            peak[n]["rss"] = max(peak[n]["rss"], mem.rss)
            peak[n]["uss"] = max(peak[n]["uss"], mem.uss)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - start - elapsed)))
    wall = time.monotonic() - start
    out = {}
    for n, p in procs.items():
        t0, t1 = first[n], p.cpu_times()
        cpu = (t1.user + t1.system) - (t0.user + t0.system)
        out[n] = {"cpu_pct": 100 * cpu / wall, "rss_mb": peak[n]["rss"] / 2**20,
                  "uss_mb": peak[n]["uss"] / 2**20}
    return out


def table(title: str, figures: dict[str, dict]) -> None:
    print(f"\n{title}")
    print(f"  {'process':<17}{'RSS MB':>8}{'USS MB':>8}{'CPU %':>8}")
    for n, f in figures.items():
        print(f"  {n:<17}{f['rss_mb']:8.1f}{f['uss_mb']:8.1f}{f['cpu_pct']:8.2f}")
    total = {k: sum(f[k] for f in figures.values()) for k in ("rss_mb", "uss_mb", "cpu_pct")}
    print(f"  {'the stack':<17}{total['rss_mb']:8.1f}{total['uss_mb']:8.1f}{total['cpu_pct']:8.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rest", type=float, default=60.0, help="seconds sampled at rest")
    parser.add_argument("--cut", type=float, default=30.0, help="seconds sampled during the cut")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="siaga-budget-"))
    stack = Stack(directory)
    try:
        started = time.monotonic()
        stack.start()
        print(f"Pi budget on {platform.machine()}, Python {platform.python_version()}, "
              f"{psutil.cpu_count()} CPUs; the page was ready {time.monotonic() - started:.1f} s "
              f"after the start; warm-up {WARMUP_S:.0f} s", flush=True)
        time.sleep(WARMUP_S)
        procs = stack.processes()
        rest = sample(procs, args.rest)
        table(f"At rest on mains, {args.rest:.0f} s:", rest)
        last_fetch = [0.0]

        def during_cut(elapsed: float) -> None:
            stack.cut_tick(elapsed)
            if elapsed - last_fetch[0] >= 2.0:   # IT watching the room page
                last_fetch[0] = elapsed
                with urllib.request.urlopen(f"{stack.url}/sites/{SITE}", timeout=10) as page:
                    page.read()

        cut = sample(procs, args.cut, during_cut)
        room = stack.room()
        table(f"During a cut (on battery, page fetched every 2 s), {args.cut:.0f} s; room {room}:", cut)
        total_rss = max(sum(f["rss_mb"] for f in fig.values()) for fig in (rest, cut))
        edge_cpu = rest["siaga edge"]["cpu_pct"]
        print(f"\nTargets: the stack {total_rss:.1f} MB RSS (target < {TARGET_STACK_MB:.0f} MB: "
              f"{'met' if total_rss < TARGET_STACK_MB else 'NOT met'}); the edge at rest "
              f"{edge_cpu:.2f} % of one core (target < {TARGET_EDGE_CPU:.0f} %: "
              f"{'met' if edge_cpu < TARGET_EDGE_CPU else 'NOT met'})")
        if platform.machine() == "aarch64":
            print("(arm64 under qemu-user, as scripts/pi_arm64.py --budget runs it: the CPU and RSS "
                  "figures are qemu's, not a Pi's)")
    finally:
        stack.stop()
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
