"""What seeing meetings by their captures costs the meeting PC (issue 19).

Starts a private PulseAudio (as the tests do) with a program named ``chrome`` recording a
stream titled "Meet - ...", then prints:
  - the detector's cost per status interval (process list -> captures -> rule), wall and CPU
    in µs, the CPU including the ``pactl`` it runs, and that CPU as % of one core at the
    default interval (5 s); target < 1 %;
  - the same without an audio server (the fallback to process names);
  - with ``--before DIR`` (a checkout of the code before this change, e.g. a git worktree of
    main): the agent's idle CPU (its own + its children's) and RSS, before and after, each a real
    ``siaga agent`` process on its own mosquitto, both with the audio server in reach.

    .venv/bin/python bench/meeting_detect.py [--calls 200] [--seconds 60] [--before DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from agent_idle import Edge, stop_agent, write_config  # noqa: E402
from agent.telemetry import Telemetry  # noqa: E402
from protocol.config import AgentSection  # noqa: E402
from siaga.servers import Mosquitto  # noqa: E402
from tests.pulse import PulseAudio  # noqa: E402

INTERVAL_S = AgentSection().interval_s


def cpu_s() -> float:
    """CPU seconds of this process and its reaped children (pactl)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def detector_cost(calls: int) -> tuple[float, float, str]:
    """(median wall µs, mean CPU µs, what it saw) of ``Telemetry.meeting`` per call."""
    telemetry = Telemetry("bench-pc", AgentSection(pc_id="bench-pc"))
    running = telemetry.scanner.running()
    seen = telemetry.meeting(running, time.time())
    walls = []
    cpu0 = cpu_s()
    for _ in range(calls):
        t0 = time.perf_counter()
        running = telemetry.scanner.running()
        telemetry.meeting(running, time.time())
        walls.append(time.perf_counter() - t0)
    cpu = (cpu_s() - cpu0) / calls
    return statistics.median(walls) * 1e6, cpu * 1e6, repr(seen)


def agent_idle(code: Path, env: dict[str, str], seconds: float) -> tuple[float, float]:
    """(% of one core incl. children, RSS MB) of ``siaga agent`` from ``code`` over ``seconds``."""
    with tempfile.TemporaryDirectory(prefix="siaga-meeting-bench-") as tmp:
        directory = Path(tmp)
        broker = Mosquitto(directory / "mosquitto").start()
        edge = agent = None
        try:
            edge = Edge(broker.port)
            with open(directory / "agent.log", "wb") as log:
                agent = subprocess.Popen(
                    # edge.cli: the shim the new layout keeps, so an old checkout runs too
                    [sys.executable, "-m", "edge.cli", "agent", "-c",
                     str(write_config(directory, broker.port))],
                    cwd=code, env={**env, "PYTHONPATH": str(code)}, stdout=log,
                    stderr=subprocess.STDOUT)
            with edge.cond:
                if not edge.cond.wait_for(lambda: edge.statuses, timeout=20):
                    raise TimeoutError("the agent sent no status; see its log")
            time.sleep(2)
            proc = psutil.Process(agent.pid)
            times0, wall0 = proc.cpu_times(), time.perf_counter()
            time.sleep(seconds)
            times1, wall = proc.cpu_times(), time.perf_counter() - wall0
            rss = proc.memory_info().rss / 2 ** 20
            cpu = sum(times1[:4]) - sum(times0[:4])   # user, system, children_user, children_system
            return 100 * cpu / wall, rss
        finally:
            stop_agent(agent, edge)
            broker.stop()


def main() -> int:
    """Run the benchmark and print its figures."""
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--calls", type=int, default=200)
    args.add_argument("--seconds", type=float, default=60)
    args.add_argument("--before", type=Path, help="a checkout of the code before issue 19")
    opts = args.parse_args()
    with tempfile.TemporaryDirectory(prefix="siaga-pulse-bench-") as tmp:
        pulse = PulseAudio(Path(tmp) / "pulse").start()
        try:
            pulse.record("chrome", "Google Chrome", "Meet - abc-defg-hij")
            time.sleep(1)
            saved = dict(os.environ)
            os.environ.update(pulse.env)
            wall, cpu, seen = detector_cost(opts.calls)
            print(f"detector with PulseAudio (one Meet capture), {opts.calls} calls: wall "
                  f"{wall:.0f} µs (median), CPU {cpu:.0f} µs incl. pactl -> "
                  f"{100 * cpu / 1e6 / INTERVAL_S:.3f} % of one core at interval_s = "
                  f"{INTERVAL_S:g} s (target < 1 %); saw {seen}")
            os.environ["PULSE_SERVER"] = f"unix:{tmp}/nobody"
            wall, cpu, seen = detector_cost(opts.calls)
            print(f"detector without an audio server (fallback by process): wall {wall:.0f} µs, "
                  f"CPU {cpu:.0f} µs -> {100 * cpu / 1e6 / INTERVAL_S:.3f} % of one core")
            os.environ.clear()
            os.environ.update(saved)
            if opts.before:
                env = {**os.environ, **pulse.env}
                for label, code in (("before", opts.before.resolve()), ("after", ROOT)):
                    pct, rss = agent_idle(code, env, opts.seconds)
                    print(f"agent idle {label} ({code}), {opts.seconds:.0f} s, telemetry every "
                          f"5 s, audio server in reach: CPU {pct:.2f} % of one core (own + "
                          f"children), RSS {rss:.1f} MB")
        finally:
            pulse.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
