"""The UPS's runtime as claimed and as measured, for the needs report (CONTRACT §6.1). Pure.

Everything here comes from journal events only (``power_lost``, ``runtime_learned``), never from
the dashboard's last state or history: the dashboard database and one edge journal hold the same
events, so they give the same numbers and the same verdict.

- ``runtime_claimed_s``: the median ``battery.runtime`` the UPS claimed when the power failed,
  at full charge (95 % or more, where the charge is known) and a load near the usual one;
- ``runtime_measured_s``: the edge's model from the newest ``runtime_learned`` (rate = k x
  load^exponent), from 100 % less the sag (``sag_pct``: how far a charge read from the battery's
  voltage drops at once on battery, in proportion to the load) to its low point, at the usual
  load (the median load of the discharges it learned from); each UPS from its own events, and of the UPSes that feed the PC
  (named by ``power_lost``) the one that runs out first (``measured_ups``);
- ``battery_wh_needed``: runtime needed x load in W / (EFFICIENCY x DEPTH_OF_DISCHARGE);
- a battery is tired when its measured runtime at a comparable load, month by month, has fallen
  by a fifth (to TIRED of its first month or less): that UPS's months, never another's.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from dashboard.report.facts import Outage, median, monthly_runtimes, number

EFFICIENCY = 0.85          # a line-interactive UPS's inverter turns 85 % of the battery into AC
DEPTH_OF_DISCHARGE = 0.8   # a lead-acid battery used to 80 % keeps its life; deeper ages it fast
FULL_CHARGE_PCT = 95.0
COMPARABLE_LOAD_PCT = 10.0
TIRED = 0.8                # a fifth less runtime at the same load
WH_STEP = 10


def claimed(outages: list[Outage], usual_load: float | None) -> float | None:
    """The median runtime claimed at the start of outages, at full charge and the usual load."""
    values = [o.claimed_s for o in outages if o.claimed_s is not None
              and (o.charge_pct is None or o.charge_pct >= FULL_CHARGE_PCT)
              and not _far(o.load_pct, usual_load)]
    value = median(values)
    return None if value is None else round(value, 1)


def _far(load: float | None, usual: float | None) -> bool:
    return load is not None and usual is not None and abs(load - usual) > COMPARABLE_LOAD_PCT


class Learned(TypedDict):
    """The numbers of one runtime_learned detail the report reads."""

    k: float
    exponent: float
    low_pct: float
    load_pct: float
    rate_pct_per_min: float
    discharges: float
    load_w: float | None
    sag_pct: float


def _learned(detail: dict[str, Any]) -> Learned | None:
    """A runtime_learned detail's numbers, or None when it lacks one the report needs."""
    values: dict[str, float] = {}
    for key in ("k", "exponent", "low_pct", "load_pct", "rate_pct_per_min", "discharges"):
        if (value := number(detail.get(key))) is None:
            return None
        values[key] = value
    if values["k"] <= 0 or values["load_pct"] <= 0 \
            or values["rate_pct_per_min"] <= 0 or not 0 <= values["low_pct"] < 100:
        return None
    return Learned(k=values["k"], exponent=values["exponent"], low_pct=values["low_pct"],
                   load_pct=values["load_pct"], rate_pct_per_min=values["rate_pct_per_min"],
                   discharges=values["discharges"], load_w=number(detail.get("load_w")),
                   sag_pct=max(0.0, number(detail.get("sag_pct")) or 0.0))   # none before v1.2.x


def _points(d: Learned, load: float) -> float:
    """The charge points from 100 % to the low point at ``load``, less the sag there."""
    return max(0.0, 100.0 - d["low_pct"] - d["sag_pct"] * load / d["load_pct"])


def _full(d: Learned, load: float) -> float:
    """Seconds from 100 % to the low point at ``load`` by the model in ``d``."""
    return _points(d, load) / (d["k"] * load ** d["exponent"])


def _own(d: Learned, load: float) -> float:
    """The same from this discharge's own rate, carried to ``load`` with the model's exponent."""
    rate = d["rate_pct_per_min"] / 60 * (load / d["load_pct"]) ** d["exponent"]
    return _points(d, load) / rate


def runtime_numbers(outages: list[Outage], learned: list[tuple[float, dict[str, Any]]],
                    need_s: float | None, zone: ZoneInfo) -> dict[str, Any]:
    """The runtime fields of one room's ``ups`` section: the measured ones are those of the UPS
    feeding the PC that runs out first (as the edge takes the smallest learned runtime of the
    feeding UPSes), each UPS measured from its own discharges only."""
    per_ups = [_measured(name, found, zone) for name, found in sorted(_feeding(outages, learned).items())]
    nothing: dict[str, Any] = {
        "runtime_measured_s": None, "measured_ups": None, "discharges": 0, "measured_load_pct": None,
        "measured_load_w": None, "runtime_measured_by_month": [], "battery_tired": False,
        "watts": None, "usual": median([o.load_pct for o in outages if o.load_pct is not None])}
    weakest = min(per_ups, key=lambda m: m["runtime_measured_s"], default=nothing)
    watts, usual = weakest.pop("watts"), weakest.pop("usual")
    return {"runtime_claimed_s": claimed(outages, usual), **weakest,
            "battery_wh_needed": battery_wh(need_s, watts)}


def _feeding(outages: list[Outage], learned: list[tuple[float, dict[str, Any]]]
             ) -> dict[str, list[tuple[float, Learned]]]:
    """Each UPS's runtime_learned numbers, oldest first, for the UPSes that feed the PC: those a
    power_lost of the range names (``detail.ups``: the feeding UPSes on battery, edge/power.py;
    a UPS with ``powers_pc = false``, the network switch's, is never named). Every UPS when no
    power_lost names one (a journal from before they did)."""
    found: dict[str, list[tuple[float, Learned]]] = {}
    for ts, raw in learned:
        if (d := _learned(raw)) is not None:
            name = raw.get("ups")
            found.setdefault(name if isinstance(name, str) else "", []).append((ts, d))
    feeding = {name for o in outages for name in o.ups}
    return {name: f for name, f in found.items() if not feeding or name in feeding}


def _measured(name: str, found: list[tuple[float, Learned]], zone: ZoneInfo) -> dict[str, Any]:
    """One UPS's measured runtime from its newest model at its usual load (the median load of
    the discharges it learned from), its months and whether its battery is tired."""
    usual = median([d["load_pct"] for _, d in found])
    assert usual is not None   # found is never empty
    months = _by_month(found, usual, zone)
    watts = median([d["load_w"] for _, d in found if d["load_w"]])
    return {"runtime_measured_s": round(_full(found[-1][1], usual)), "measured_ups": name,
            "discharges": int(found[-1][1]["discharges"]), "measured_load_pct": round(usual, 1),
            "measured_load_w": None if watts is None else round(watts),
            "runtime_measured_by_month": months,
            "battery_tired": len(months) >= 2 and months[-1]["runtime_s"] <= TIRED * months[0]["runtime_s"],
            "usual": usual, "watts": watts}


def battery_wh(need_s: float | None, watts: float | None) -> float | None:
    """The battery energy for ``need_s`` at ``watts``, up to the next WH_STEP Wh."""
    if need_s is None or not watts:
        return None
    wh = need_s / 3600 * watts / (EFFICIENCY * DEPTH_OF_DISCHARGE)
    return float(math.ceil(wh / WH_STEP) * WH_STEP)


def _by_month(found: list[tuple[float, Learned]], usual: float,
              zone: ZoneInfo) -> list[dict[str, Any]]:
    """Each month's median measured runtime at the usual load, from discharges near that load."""
    months: dict[str, list[float]] = {}
    for ts, d in found:
        if not _far(d["load_pct"], usual):
            month = dt.datetime.fromtimestamp(ts, zone).strftime("%Y-%m")
            months.setdefault(month, []).append(_own(d, usual))
    return monthly_runtimes(months)


def office_runtime(rooms: list[dict[str, Any]]) -> dict[str, Any]:
    """The office's ``ups`` runtime fields: the weakest room's claim and measurement, every
    discharge, the largest battery a room needs."""
    def least(key: str) -> float | None:
        values = [r[key] for r in rooms if r.get(key) is not None]
        return min(values) if values else None
    wh = [r["battery_wh_needed"] for r in rooms if r.get("battery_wh_needed") is not None]
    return {"runtime_claimed_s": least("runtime_claimed_s"),
            "runtime_measured_s": least("runtime_measured_s"),
            "discharges": sum(r.get("discharges", 0) for r in rooms),
            "battery_wh_needed": max(wh) if wh else None,
            "battery_tired": sorted(r["site"] for r in rooms if r.get("battery_tired"))}
