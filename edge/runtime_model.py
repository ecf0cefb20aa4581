"""Runtime measured, not claimed (CONTRACT §6.1): learn each UPS from its own discharges. Pure.

On battery the edge records (monotonic time, charge, load). When the discharge ends, it is
learned from if it lasted ``MIN_SECONDS`` or more and the charge fell ``MIN_FALL_PCT`` points or
more. One discharge gives one rate: the charge's fall per second between the first and the last
step *down* of the charge's running minimum, at the time-weighted load over that span. Why:

- cheap units (Megatec/Q*) report the charge in 5 % steps: a per-sample slope is 0 or a cliff;
  the span between the first and last step is exact for a staircase and for a smooth fall alike;
- the charge jumps *up* when the load drops (the battery's voltage recovers): the running
  minimum ignores a rise instead of reading it as a charge gained;
- the load changes mid-cut (the stages shut the meeting PC down: 35 -> 10 %): the rate is timed
  only while the load is the cut's own (within ``LOAD_CHANGE_PCT`` points or a third), so the
  learned load is the meeting's, not an average with the PC off that the report would take for
  the usual load, and a charge read from the voltage, which rises when the load drops, is not
  timed across the rise;
- a charge read from the battery's voltage (blazer, nutdrv_qx) *sags* at once when the load
  comes on the battery (100 -> 70 % in a poll or two), which is no charge used: steps in the
  first ``SETTLE_S`` are not timed, and the sag (the charge before the cut less the timed line
  carried back to the cut's start) is learned beside the rate, in proportion to the load, so a
  full charge read on mains lasts ``(100 - sag - low point) / rate``, not ``(100 - low) / rate``.

The model of a UPS is ``rate = k * load ** exponent`` (pct/s against load %), fitted to its last
``KEEP_FIT`` discharges: the exponent from a log-log line when the loads differ by half or more,
else 1 (drain proportional to load); k the median of ``rate / load ** exponent``, or the newest
cut's where it is larger (a battery that aged drains faster at once). The estimate is
``(charge - low point) / rate(load)``, the charge as the battery will read it under the load
(less the sag until it is read on battery); the low point is ``battery.charge.low`` where the
UPS reports it, else the charge at which it last said LB, else 10 %.
"""

from __future__ import annotations

import functools
import math
import statistics
from dataclasses import dataclass, replace

from edge.power import UpsReading

MIN_SECONDS = 30.0
MIN_FALL_PCT = 10.0
DEFAULT_LOW_PCT = 10.0
MAX_LOAD_PCT = 150.0       # a UPS carries up to ~100 %; more is a misread register (562020 ...)
KEEP = 48                  # discharges kept per UPS (months of history for the report)
KEEP_FIT = 5               # ... of which the newest fit the model: the battery as it is now
EXPONENT_RANGE = (0.5, 1.5)
MIN_SPAN_S = 10.0          # first-to-last step span below this: too few steps to tell a rate
SETTLE_S = 15.0            # a step this soon after the cut began may be the sag: not timed
LOAD_CHANGE_PCT = 10.0     # a load this far from the cut's (or a third of it): timing stops


@dataclass(frozen=True)
class Discharge:
    """One learned discharge: the charge's fall rate at a load, and when (wall clock)."""

    ts: float
    rate_pct_s: float
    load_pct: float
    seconds: float
    fall_pct: float
    sag_pct: float = 0.0       # how far the charge dropped at once when the load came on it


@dataclass(frozen=True)
class UpsModel:
    """What Siaga knows of one UPS's battery; ``serial``/``battery_date`` say which battery."""

    serial: str = ""
    battery_date: str = ""
    lb_charge_pct: float | None = None      # the charge at which it last said LB
    discharges: tuple[Discharge, ...] = ()

    @functools.cached_property
    def _fitted(self) -> tuple[float, float] | None:
        """The fit, once per model (a model changes only by becoming a new one)."""
        recent = self.discharges[-KEEP_FIT:]
        if not recent:
            return None
        exponent = _exponent(recent)
        ks = [d.rate_pct_s / d.load_pct ** exponent for d in recent]
        # A battery that has aged drains faster at once, and the median of the last five would
        # go on showing the old runtime for two more cuts: the newest cut counts when it says
        # the battery drains faster than the median (a new battery: --forget-runtime).
        return max(statistics.median(ks), ks[-1]), exponent

    def fit(self) -> tuple[float, float] | None:
        """(k, exponent) of ``rate = k * load ** exponent``, or None before the first discharge."""
        return self._fitted

    def rate(self, load_pct: float) -> float | None:
        """The charge's fall in pct/s at ``load_pct``, or None when unknown."""
        fitted = self._fitted
        if fitted is None or not 0 < load_pct <= MAX_LOAD_PCT:
            return None
        k, exponent = fitted
        return k * load_pct ** exponent

    def sag(self, load_pct: float) -> float:
        """The points a charge read on mains drops at once on battery at ``load_pct`` (the
        battery's voltage under the load: in proportion to it), from the newest discharges."""
        recent = self.discharges[-KEEP_FIT:]
        if not recent:
            return 0.0
        return max(0.0, statistics.median(d.sag_pct / d.load_pct for d in recent) * load_pct)

    def usual_load(self) -> float | None:
        """The median load of the discharges learned from."""
        return statistics.median(d.load_pct for d in self.discharges) if self.discharges else None


def _exponent(recent: tuple[Discharge, ...]) -> float:
    """The slope of log(rate) on log(load); 1 when the loads are too alike to tell."""
    loads = [d.load_pct for d in recent]
    if len(recent) < 2 or max(loads) < 1.5 * min(loads):
        return 1.0
    xs = [math.log(d.load_pct) for d in recent]
    ys = [math.log(d.rate_pct_s) for d in recent]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return min(max(slope, EXPONENT_RANGE[0]), EXPONENT_RANGE[1])


def low_point(model: UpsModel | None, reading: UpsReading) -> float:
    """battery.charge.low, else the charge of the last LB, else 10 %."""
    if reading.charge_low_pct is not None:
        return reading.charge_low_pct
    if model is not None and model.lb_charge_pct is not None:
        return model.lb_charge_pct
    return DEFAULT_LOW_PCT


def runtime_learned(model: UpsModel | None, reading: UpsReading,
                    load_pct: float | None = None, trace: "Trace | None" = None) -> float | None:
    """Seconds until the low point at this reading's charge and load; None when not known.
    ``trace``: the discharge under way, if any. The charge counts as the battery will read it
    under the load: less the sag on mains, and on battery until the sag shows (the first poll
    on battery may still read the charge of before the cut). On battery the charge read last
    goes on falling at the rate until the UPS reads a lower one, by up to one step of it: many
    UPSes read it in steps of 5 or 10 points, or anew every 30 s (usbhid-ups), and the time
    left must not stand still between two readings."""
    load = reading.load_pct if load_pct is None else load_pct
    if model is None or not reading.reachable or reading.charge_pct is None or load is None:
        return None
    rate = model.rate(load)
    if rate is None or rate <= 0:
        return None
    charge = reading.charge_pct
    if not discharging(reading):
        charge -= model.sag(load)       # on mains: as it will read on battery
    elif trace is not None:
        if trace.start_charge is not None:
            charge = min(charge, trace.start_charge - model.sag(load))
        last = trace.latest
        if last is not None and trace.prev is not None and charge == last.charge_pct:
            charge -= min(last.drop, rate * (trace.prev[0] - last.mono))
    return max(0.0, (charge - low_point(model, reading)) / rate)


def full_runtime(model: UpsModel, load_pct: float, low_pct: float) -> float | None:
    """Seconds from a full charge to the low point at ``load_pct`` (the report's measure)."""
    rate = model.rate(load_pct)
    return None if not rate else max(0.0, 100.0 - model.sag(load_pct) - low_pct) / rate


@dataclass(frozen=True)
class Step:
    """A point where the running minimum of the charge stepped down; ``load_s`` is the
    integral of the load (%·s) from the first step to this one, ``loaded_s`` the seconds it
    covers (polls without a believable load leave gaps); ``drop`` how far it stepped."""

    mono: float
    charge_pct: float
    load_s: float = 0.0
    loaded_s: float = 0.0
    drop: float = 0.0


@dataclass(frozen=True)
class Trace:
    """The discharge being recorded, in running sums: constant memory and time per poll
    however long the cut (a per-poll list of samples costs ~100 µs a tick after an hour)."""

    started_mono: float
    start_charge: float | None = None         # the charge last read on mains before the cut
    first_charge: float | None = None
    low: float | None = None                  # the running minimum of the charge
    first: Step | None = None                 # the first step down (timed)
    last: Step | None = None                  # the latest step down (timed)
    latest: Step | None = None                # the latest step down, timed or not (after a change)
    ref_load: float | None = None             # the cut's load: the first believable after SETTLE_S
    changed: tuple[float, float] | None = None    # (ref_load, load) when the load changed: untimed
    load_s: float = 0.0                       # integral of the load since the first step
    loaded_s: float = 0.0
    prev: tuple[float, float | None] | None = None   # (mono, believable load) of the last poll
    any_load: float | None = None             # the last believable load seen
    lb: bool = False                          # LB was said during this discharge
    replaced: bool = False                    # the battery or UPS changed during it: learn nothing

    def add(self, mono: float, charge: float | None, load: float | None, lb: bool) -> "Trace":
        """The trace with one more poll."""
        load = load if load is not None and 0 < load <= MAX_LOAD_PCT else None
        load_s, loaded_s = self.load_s, self.loaded_s
        if self.first is not None and self.prev is not None and self.prev[1] is not None:
            load_s += self.prev[1] * (mono - self.prev[0])
            loaded_s += mono - self.prev[0]
        first, last, latest, low = self.first, self.last, self.latest, self.low
        settled = mono - self.started_mono >= SETTLE_S
        ref, changed = self.ref_load, self.changed
        if settled and load is not None:
            ref = load if ref is None else ref
            if changed is None and abs(load - ref) > max(LOAD_CHANGE_PCT, ref / 3):
                changed = (ref, load)
        if charge is not None and low is not None and charge < low and settled:
            step = latest = Step(mono, charge, load_s, loaded_s, low - charge)
            if changed is None:
                first, last = first or step, step
                if self.first is None:
                    load_s = loaded_s = 0.0
        return replace(self, latest=latest, ref_load=ref, changed=changed,
                       first_charge=self.first_charge if self.first_charge is not None
                       else charge, low=charge if low is None or (charge is not None and charge < low)
                       else low, first=first, last=last, load_s=load_s, loaded_s=loaded_s,
                       prev=(mono, load), any_load=load if load is not None else self.any_load,
                       lb=self.lb or lb)


class Rejected(ValueError):
    """A discharge nothing may be learned from; ``code`` names why, the message for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def discharge_of(trace: Trace, end_mono: float, ts: float) -> Discharge:
    """The rate one finished discharge shows; Rejected when it cannot show one."""
    seconds = end_mono - trace.started_mono
    if trace.replaced:
        raise Rejected("replaced", "the battery or UPS was replaced during the discharge")
    if seconds < MIN_SECONDS:
        raise Rejected("short", f"the discharge lasted {seconds:.0f} s (at least "
                                f"{MIN_SECONDS:.0f} s are needed)")
    if trace.first_charge is None or trace.low is None:
        raise Rejected("no_charge", "the UPS reported no charge")
    fall = trace.first_charge - trace.low
    if fall < MIN_FALL_PCT:
        raise Rejected("no_fall", f"the charge fell {fall:g} points (at least "
                                  f"{MIN_FALL_PCT:g} are needed)")
    first, last = trace.first, trace.last
    if first is None or last is None or last.mono - first.mono < MIN_SPAN_S:
        timed = 0.0 if first is None or last is None else first.charge_pct - last.charge_pct
        raise _load_changed(trace, timed) if trace.changed else \
            Rejected("few_steps", "the charge stepped down too few times to time its fall")
    load = last.load_s / last.loaded_s if last.loaded_s > 0 else trace.any_load
    if load is None:
        raise Rejected("no_load", "the UPS reported no believable load (0, or over "
                                  f"{MAX_LOAD_PCT:g} %)")
    rate = (first.charge_pct - last.charge_pct) / (last.mono - first.mono)
    # The timed line carried back to the cut's start: what the charge would have read then under
    # the load. Below the charge before the cut by the sag (never more than the drop untimed).
    start = max(trace.start_charge or 0.0, trace.first_charge)
    at_start = first.charge_pct + rate * (first.mono - trace.started_mono)
    sag = min(max(0.0, start - at_start), start - first.charge_pct)
    if start - sag - last.charge_pct < MIN_FALL_PCT and trace.changed:
        raise _load_changed(trace, start - sag - last.charge_pct)
    if start - sag - last.charge_pct < MIN_FALL_PCT:
        raise Rejected("sag", f"the charge fell {fall:g} points, {sag:.0f} of them at once when "
                              "the load came on the battery (a charge read from the battery's "
                              f"voltage); at least {MIN_FALL_PCT:g} over time are needed")
    return Discharge(ts=ts, rate_pct_s=rate, load_pct=load, seconds=seconds, fall_pct=fall,
                     sag_pct=sag)


def _load_changed(trace: Trace, fall: float) -> Rejected:
    before, after = trace.changed or (0.0, 0.0)
    return Rejected("load_changed", f"the load changed from {before:.0f} % to {after:.0f} % "
                                    f"when the charge had fallen {fall:.0f} points at it (at "
                                    f"least {MIN_FALL_PCT:g} at one load are needed)")


def learn(model: UpsModel, discharge: Discharge) -> UpsModel:
    """The model with one more discharge (the oldest dropped beyond ``KEEP``)."""
    return replace(model, discharges=(model.discharges + (discharge,))[-KEEP:])


def same_battery(model: UpsModel, reading: UpsReading) -> bool:
    """False when device.serial or battery.date changed (an unknown value changes nothing)."""
    return not any(old and new and old != new for old, new in (
        (model.serial, reading.serial), (model.battery_date, reading.battery_date)))


def discharging(reading: UpsReading) -> bool:
    """On battery and really discharging: OB, no self-test; OB with OL only with DISCHRG."""
    flags = reading.flags
    if not reading.reachable or "OB" not in flags or reading.self_test:
        return False
    return "OL" not in flags or "DISCHRG" in flags
