"""What Siaga's measurements mean for NUT's own runtime estimate (nutdrv_qx, blazer_*). Pure.

Megatec/Q* units report a charge and no runtime; nutdrv_qx and the blazer drivers estimate one
from ``runtimecal = <runtime at load A>,<A>,<runtime at load B>,<B>`` (full battery to empty)
and ``idleload`` (the battery drain at no load, in % of full load) in ups.conf, which people
type in by hand from a datasheet. Siaga has measured the battery: ``ups_conf_lines`` prints
what the measurements imply, so upsmon on every other machine estimates from the same facts.
"""

from __future__ import annotations

import statistics

from edge.runtime_model import UpsModel

QX_DRIVERS = ("nutdrv_qx", "blazer_usb", "blazer_ser")
DEFAULT_IDLELOAD = 10   # nutdrv_qx's own default
SPREAD = 1.5            # loads this far apart (max/min) tell an idle drain apart from the slope


def estimates_runtime(driver: str) -> bool:
    """True for the drivers that read runtimecal and idleload."""
    return driver in QX_DRIVERS or driver.startswith("blazer_")


def ups_conf_lines(name: str, model: UpsModel | None) -> list[str]:
    """``runtimecal`` and ``idleload`` lines for ``[name]`` in ups.conf; [] before a discharge."""
    if model is None:
        return []
    full_rate, half_rate = model.rate(100.0), model.rate(50.0)
    if full_rate is None or half_rate is None:   # both known or both not: the same fit
        return []
    full, half = 100.0 / full_rate, 100.0 / half_rate
    loads = [d.load_pct for d in model.discharges]
    idle = idle_load(model)
    basis = (f"# Siaga measured {len(loads)} discharge(s) of UPS \"{name}\" at "
             f"{min(loads):.0f}-{max(loads):.0f} % load")
    return [basis, f"runtimecal = {full:.0f},100,{half:.0f},50",
            f"idleload = {DEFAULT_IDLELOAD if idle is None else idle}" +
            ("  # the driver's default: every discharge was at a similar load" if idle is None else "")]


def idle_load(model: UpsModel) -> int | None:
    """The load at which a straight line through (load, rate) would still drain: the UPS's own
    consumption as % of full load; None when the loads are too alike to tell."""
    points = [(d.load_pct, d.rate_pct_s) for d in model.discharges[-10:]]
    loads = [p[0] for p in points]
    if len(points) < 2 or max(loads) < SPREAD * min(loads):
        return None
    mx, my = statistics.fmean(loads), statistics.fmean(p[1] for p in points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x in loads)
    if slope <= 0:
        return None
    return max(0, min(50, round((my - slope * mx) / slope)))
