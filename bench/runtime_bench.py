"""Runtime learning figures: µs per tick of learning and estimating, and the estimate's error
after 1, 2 and 5 simulated cuts with realistic noise.

The simulated battery drains faster than in proportion to the load (Peukert: rate ~ load^1.15,
plus the UPS's own idle drain of 3 % of full load), so the model (k x load^a) is never exactly
right. Each cut: a load of 20-50 % that wanders +-3 points per poll, a poll every 1 s with one in
twenty missed, the charge reported in whole percent or in 5 % steps (Megatec units), a charge
that jumps up 3 points when the load drops, cuts of 2-20 min; a battery lasting 8-40 min at 35 %
load. The error is the learned runtime from 100 % at 35 % load against the true one.
Usage: python bench/runtime_bench.py [--ups 200] [--ticks 20000]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from edge.power import UpsReading  # noqa: E402
from edge.runtime_learner import Learning, learned_runtimes, observe  # noqa: E402
from edge.runtime_model import runtime_learned  # noqa: E402

LOW = 20.0
PEUKERT, IDLE = 1.15, 3.0


class Battery:
    """One simulated UPS: its true drain, and how its firmware reports the charge."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.c = (100 - LOW) / (60 * rng.uniform(8, 40))  # 8-40 min to the low point at 35 %
        self.step = rng.choice([1.0, 5.0])

    def rate(self, load: float) -> float:
        """True charge fall in pct/s at ``load``."""
        return self.c * ((load + IDLE) / 35) ** PEUKERT

    def truth(self, load: float) -> float:
        """True seconds from 100 % to the low point at ``load``."""
        return (100 - LOW) / self.rate(load)

    def reported(self, charge: float) -> float:
        return max(0.0, self.step * math.ceil(charge / self.step))


def reading(charge: float, load: float, status: str) -> UpsReading:
    return UpsReading("ups", 0.0, status=status, charge_pct=charge, load_pct=round(load),
                      charge_low_pct=LOW)


def simulate_cut(learning: Learning, b: Battery, t0: float) -> tuple[Learning, float]:
    """One cut; returns the learning and the time after it."""
    rng = b.rng
    load = rng.uniform(20, 50)
    seconds = rng.uniform(120, 1200)
    charge, t, bump = 100.0, 0.0, 0.0
    while t < seconds and charge > LOW:
        wander = load + rng.uniform(-3, 3)
        charge -= b.rate(wander)
        if rng.random() < 0.01:          # the load drops for a moment: the voltage recovers
            bump = 3.0
        bump = max(0.0, bump - 0.1)
        if rng.random() >= 0.05:         # a missed poll now and then
            shown = min(100.0, b.reported(charge + bump))
            learning, _ = observe(learning, (reading(shown, wander, "OB DISCHRG"),), t0 + t, t0 + t)
        t += 1.0
    learning, _ = observe(learning, (reading(b.reported(charge), load, "OL CHRG"),), t0 + t, t0 + t)
    return learning, t0 + t + 3600


def errors(n_ups: int, cuts: tuple[int, ...]) -> dict[int, list[float]]:
    """|learned - true| / true after each number of cuts, over ``n_ups`` simulated UPSes."""
    out: dict[int, list[float]] = {n: [] for n in cuts}
    for seed in range(n_ups):
        b = Battery(random.Random(seed))
        learning, t = Learning(), 0.0
        for n in range(1, max(cuts) + 1):
            learning, t = simulate_cut(learning, b, t)
            if n in cuts:
                model = learning.models.get("ups")
                got = runtime_learned(model, reading(100.0, 35.0, "OL"))
                if got is not None:
                    out[n].append(abs(got - b.truth(35.0)) / b.truth(35.0))
    return out


def tick_cost(ticks: int) -> dict[str, float]:
    """µs per tick (observe + learned_runtimes) on mains and on battery, with a learned model."""
    b = Battery(random.Random(1))
    learning, _ = simulate_cut(Learning(), b, 0.0)
    out = {}
    for what, status in (("on mains", "OL CHRG"), ("on battery", "OB DISCHRG")):
        runs = []
        for _ in range(5):
            state = learning
            started = time.perf_counter()
            for i in range(ticks):
                r = reading(100.0 - i * 0.002, 35.0, status)
                state, _ = observe(state, (r,), 1e5 + i, 1e5 + i)
                learned_runtimes(state, (r,))
            runs.append((time.perf_counter() - started) / ticks * 1e6)
        out[what] = statistics.median(runs)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ups", type=int, default=200, help="simulated UPSes")
    p.add_argument("--ticks", type=int, default=20000, help="ticks per cost run")
    args = p.parse_args()
    for what, us in tick_cost(args.ticks).items():
        print(f"learn + estimate, {what}: {us:.1f} µs per tick (one UPS)")
    for n, errs in errors(args.ups, (1, 2, 5)).items():
        errs.sort()
        p90 = errs[math.ceil(0.9 * len(errs)) - 1] if errs else float("nan")
        print(f"after {n} cut(s): {len(errs)}/{args.ups} UPSes learned; error median "
              f"{100 * statistics.median(errs):.1f} %, p90 {100 * p90:.1f} %, "
              f"max {100 * max(errs):.1f} %")


if __name__ == "__main__":
    main()
