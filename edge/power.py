"""What the UPSes say, and how much of it Siaga believes (CONTRACT §5.3). Pure, no I/O.

Real drivers lie. NUT's device dump library holds Megatec-protocol units whose driver sets FSD
on every poll while on mains, APCs that say LB while charging on mains, units reporting OL and
DISCHRG (and OB) together, and runtimes of 0 or 65535. Shutting a meeting PC down on mains ends
the meeting for nothing, so a flag counts only where it can be true:

- LB and FSD count only together with OB (FSD on mains is journaled as ``ups_fsd_on_mains``),
  and FSD not at all from a UPS that said it on mains and has said it ever since;
- a runtime of 0 or below, 65535 or above, or over 24 h is unknown (then charge decides);
- OB and OL together count as on battery only if DISCHRG or a falling charge says so.

``judge`` applies these rules to one reading; ``power`` takes the UPSes feeding the PC together,
following a runtime estimate for a UPS that cannot be read mid-outage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

UNREADABLE_REASONS = ("refused", "timeout", "unknown_ups", "driver_not_connected", "data_stale",
                      "starting", "access_denied", "protocol_error")
MAX_RUNTIME_S = 24 * 3600
RUNTIME_SENTINEL_S = 65535  # 0xFFFF and above: what drivers report when they do not know


def believable_runtime(value: float | None) -> float | None:
    """The runtime in seconds, or None when a driver cannot mean it (<= 0, >= 65535, > 24 h)."""
    if value is None or value <= 0 or value >= RUNTIME_SENTINEL_S or value > MAX_RUNTIME_S:
        return None
    return value


@dataclass(frozen=True)
class UpsReading:
    """One poll of one UPS. ``error`` non-empty means it could not be read: never "on battery"."""

    name: str
    ts: float
    powers_pc: bool = True
    error: str = ""            # "" or one of UNREADABLE_REASONS
    error_detail: str = ""     # a sentence for people: 'connection refused by 127.0.0.1:3493'
    status: str = ""           # ups.status as upsd said it, e.g. "OB DISCHRG"
    charge_pct: float | None = None
    runtime_s: float | None = None   # None when missing or not believable (see believable_runtime)
    load_pct: float | None = None
    input_voltage: float | None = None
    battery_date: str = ""     # "YYYY-MM-DD" (battery.date or battery.mfr.date), "" = unknown
    test_result: str = ""
    realpower_nominal: float | None = None   # W, ups.realpower.nominal
    power_nominal: float | None = None       # VA, ups.power.nominal
    charge_low_pct: float | None = None      # battery.charge.low: the UPS's own low point
    serial: str = ""           # device.serial (or ups.serial): a replaced UPS has another
    driver: str = ""           # driver.name (siaga check: runtimecal for nutdrv_qx, blazer_*)

    @property
    def reachable(self) -> bool:
        """True when the reading holds real values."""
        return not self.error

    @property
    def flags(self) -> frozenset[str]:
        """The words of ups.status."""
        return frozenset(self.status.split())

    @property
    def on_battery(self) -> bool:
        """OB as the driver says it (``judge`` decides whether to believe it)."""
        return "OB" in self.flags

    @property
    def low_battery(self) -> bool:
        """LB as the driver says it."""
        return "LB" in self.flags

    @property
    def forced_shutdown(self) -> bool:
        """FSD as the driver says it."""
        return "FSD" in self.flags

    @property
    def self_test(self) -> bool:
        """CAL or a test in progress: OB then is a test, not an outage."""
        return "CAL" in self.flags or "progress" in self.test_result.lower()

    @property
    def replace_battery(self) -> bool:
        """RB: the battery needs replacing."""
        return "RB" in self.flags

    @property
    def overload(self) -> bool:
        """OVER: the load is above what the UPS can carry."""
        return "OVER" in self.flags


class Verdict(NamedTuple):
    """What Siaga believes of one readable UPS."""

    name: str
    on_battery: bool
    low_battery: bool
    forced: bool
    fsd_on_mains: bool
    runtime_s: float | None


def judge(r: UpsReading, charge_at_ob_ol: float | None, fsd_liar: bool = False) -> Verdict:
    """One reading -> what counts. ``charge_at_ob_ol``: the charge when OB+OL was first seen.

    ``fsd_liar``: the UPS said FSD on mains and has kept saying it since. Its FSD on battery is
    then the same stuck bit (Megatec units whose driver sets FSD on every poll), not an order:
    believing it would send the wrap-up and the shutdown at the first second of any flicker.
    Its runtime, charge and LB still decide.
    """
    flags = r.flags
    ob = "OB" in flags and not r.self_test
    if ob and "OL" in flags and "DISCHRG" not in flags:
        falling = (charge_at_ob_ol is not None and r.charge_pct is not None
                   and r.charge_pct < charge_at_ob_ol)
        ob = falling
    fsd = "FSD" in flags
    return Verdict(name=r.name, on_battery=ob, low_battery=ob and "LB" in flags,
                   forced=ob and fsd and not fsd_liar, fsd_on_mains=fsd and not ob,
                   runtime_s=believable_runtime(r.runtime_s))


def ob_ol_charges(readings: tuple[UpsReading, ...], before: dict[str, float]) -> dict[str, float]:
    """The charge each UPS had when it first said OB and OL together (kept while it says so)."""
    now = {}
    for r in readings:
        if r.reachable and {"OB", "OL"} <= r.flags and r.charge_pct is not None:
            now[r.name] = before.get(r.name, r.charge_pct)
        elif not r.reachable and r.name in before:
            now[r.name] = before[r.name]
    return now


class Estimate(NamedTuple):
    """A runtime for a UPS that cannot be read: its last runtime minus the time since."""

    ups: str
    runtime_s: float
    from_s: float


def estimates(readings: tuple[UpsReading, ...], last: dict[str, tuple[float, float]],
              mono: float, since: float) -> tuple[Estimate, ...]:
    """For each unreadable UPS feeding the PC whose runtime was read on battery in this outage
    (``last``: name -> (runtime_s, monotonic time of that reading); ``since``: the outage's
    start, monotonic). A runtime read before the outage says nothing of the battery now."""
    out = []
    for r in readings:
        if r.powers_pc and not r.reachable and r.name in last:
            runtime, at = last[r.name]
            if at >= since:
                out.append(Estimate(r.name, max(0.0, runtime - (mono - at)), runtime))
    return tuple(out)


def last_runtimes(readings: tuple[UpsReading, ...], verdicts: dict[str, Verdict],
                  before: dict[str, tuple[float, float]], mono: float,
                  learned: dict[str, float] | None = None) -> dict[str, tuple[float, float]]:
    """Remember each UPS's last runtime on battery the stages used (claim or learned, the
    smaller) and when it was read; an estimate counts down from it. A runtime read on mains is
    no start for a countdown: it is what the UPS would give if cut then (110 s while it
    recharges after a cut, 1800 s when full), and the UPS went on charging after it."""
    now = dict(before)
    for r in readings:
        if not r.reachable:
            continue  # keep its last runtime on battery: the estimate starts from it
        runtime = usable_runtime(r, (learned or {}).get(r.name))[0] \
            if verdicts[r.name].on_battery else None
        if runtime is not None:
            now[r.name] = (runtime, mono)
        else:
            now.pop(r.name, None)  # on mains, or runtime unknown: an old value would mislead
    return now


def usable_runtime(r: UpsReading, learned: float | None) -> tuple[float | None, str | None]:
    """(runtime, source) the stages use for one readable UPS (CONTRACT §6.1): the smaller of
    the UPS's claim and Siaga's measurement where both exist, the one that exists otherwise.
    Many firmware runtimes are simply wrong, and a charge-only UPS claims none at all."""
    claim = believable_runtime(r.runtime_s)
    if claim is not None and (learned is None or claim <= learned):
        return claim, "ups"
    if learned is not None:
        return learned, "learned"
    return None, None


class PowerView(NamedTuple):
    """The UPSes that feed the PC, taken together."""

    on_battery: bool
    low_battery: bool
    forced: bool
    charge_pct: float | None
    runtime_s: float | None
    unreadable: tuple[str, ...]
    on_battery_ups: tuple[str, ...]
    on_mains_ups: tuple[str, ...] = ()      # readable, feeding the PC, believed on mains
    load_pct: float | None = None
    estimated: tuple[Estimate, ...] = ()
    runtime_source: str | None = None        # "ups" | "learned" | "estimated" | None (§6.1)
    runtime_learned_s: float | None = None   # the smallest learned runtime of the leading UPSes
    runtime_claimed_s: float | None = None   # the smallest runtime the leading UPSes claim


def power(readings: tuple[UpsReading, ...], verdicts: dict[str, Verdict],
          guesses: tuple[Estimate, ...] = (), learned: dict[str, float] | None = None) -> PowerView:
    """The feeding UPSes together: the weakest charge and runtime lead (estimates included);
    each UPS's runtime is the smaller of its claim and its learned runtime (``learned``).

    While any of them is on battery, only those on battery lead: a UPS on mains beside them says
    what it would give if cut (110 s while it recharges after an earlier cut), not what the PC
    has left, and its low runtime would skip the flicker guard of a one-poll flicker of the
    other. On mains they all count (what the page shows; each UPS's own values stay in its view).
    """
    learned = learned or {}
    feeding = [r for r in readings if r.powers_pc and r.reachable]
    judged = [verdicts[r.name] for r in feeding]
    leading = [r for r in feeding if verdicts[r.name].on_battery] or feeding
    charges = [r.charge_pct for r in leading if r.charge_pct is not None]
    usable = [usable_runtime(r, learned.get(r.name)) for r in leading]
    runtimes: list[tuple[float, str | None]] = [(value, source) for value, source in usable
                                                if value is not None]
    runtimes += [(g.runtime_s, "estimated") for g in guesses]
    lowest = min(runtimes, key=lambda pair: pair[0]) if runtimes else (None, None)
    measured = [learned[r.name] for r in leading if r.name in learned]
    claimed = [v for v in (verdicts[r.name].runtime_s for r in leading) if v is not None]
    loads = [r.load_pct for r in feeding if r.load_pct is not None]
    return PowerView(
        on_battery=any(v.on_battery for v in judged),
        low_battery=any(v.low_battery for v in judged),
        forced=any(v.forced for v in judged),
        charge_pct=min(charges) if charges else None,
        runtime_s=lowest[0],
        unreadable=tuple(r.name for r in readings if r.powers_pc and not r.reachable),
        on_battery_ups=tuple(v.name for v in judged if v.on_battery),
        on_mains_ups=tuple(v.name for v in judged if not v.on_battery),
        load_pct=max(loads) if loads else None,  # the most loaded UPS runs out first
        estimated=guesses,
        runtime_source=lowest[1],
        runtime_learned_s=min(measured) if measured else None,
        runtime_claimed_s=min(claimed) if claimed else None,
    )
