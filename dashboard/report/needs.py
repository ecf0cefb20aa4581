"""The needs report beyond the contract's four sections: UPS health, power quality, the PC, and
the "what to buy" list. Pure: facts (dashboard/report/facts.py), the latest state and history samples in.

Every item of the buy list is derived from a number the report prints, with the rule beside it.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from dashboard.report.facts import SiteFacts, covered, median, monthly_runtimes, number
from dashboard.report.runtime import FULL_CHARGE_PCT
from protocol.durations import Span, whole_minutes

SAG_V = 198.0      # PLN 220 V -10 %
SWELL_V = 231.0    # PLN 220 V +5 %
MAINS_MIN_V = 100.0  # below this a UPS on battery reports no input, not a sag
SAGS_FOR_AVR = 3   # this many sags in the range argue for an online UPS or an AVR
COMPARABLE_LOAD_PCT = 10.0  # runtimes within this many load points of the usual load compare
# The meeting PC's requirement: a 2-hour recording converted within the 15 minutes between two
# meetings, i.e. 8 minutes of meeting converted per minute.
RECORDING_MIN, BETWEEN_MEETINGS_MIN = 120, 15
NEED_SPEED = RECORDING_MIN / BETWEEN_MEETINGS_MIN


class Sample(NamedTuple):
    """One history bucket of a site (dashboard database only): the load and runtime are the
    bucket's last values, the voltage its lowest and highest (a sag inside a minute counts)."""

    ts: float
    load: float | None
    voltage_min: float | None
    voltage_max: float | None
    runtime: float | None
    on_battery: bool


def _ups_views(state: dict[str, Any] | None) -> list[dict[str, Any]]:
    ups = (state or {}).get("ups")
    return [u for u in ups if isinstance(u, dict)] if isinstance(ups, list) else []


def _nominal_w(state: dict[str, Any] | None) -> float | None:
    """The UPS's rated real power where the snapshot carries it (W = VA x 0.6 when only VA)."""
    for u in _ups_views(state):
        watts = number(u.get("realpower_nominal"))
        if watts:
            return watts
        va = number(u.get("power_nominal"))
        if va:
            return va * 0.6
    return None


def ups_health(facts: SiteFacts, state: dict[str, Any] | None, samples: list[Sample] | None,
               zone: ZoneInfo) -> dict[str, Any]:
    """Load during meetings, runtime now, battery flags, self-tests, runtime by month."""
    loads = [o.load_pct for o in facts.outages if o.load_pct is not None]
    loads += [s.load for s in samples or () if s.load is not None and covered(s.ts, facts.busy)]
    load = median(loads)
    nominal = _nominal_w(state)
    power = (state or {}).get("power") or {}
    dates = [u.get("battery_date") for u in _ups_views(state) if isinstance(u.get("battery_date"), str)]
    failed = [t for t in facts.selftests if not t[1]]
    return {
        "load_pct": None if load is None else round(load, 1),
        "load_max_pct": None if not loads else round(max(loads), 1),
        "load_w": None if load is None or nominal is None else round(load / 100 * nominal),
        "runtime_now_s": number(power.get("runtime_s")) if isinstance(power, dict) else None,
        "battery_date": dates[0] if dates else None,
        "replace_battery": facts.replace_battery,
        "selftests": len(facts.selftests), "selftests_failed": len(failed),
        "runtime_by_month": runtime_by_month(facts, load, zone),
    }


def runtime_by_month(facts: SiteFacts, load: float | None, zone: ZoneInfo) -> list[dict[str, Any]]:
    """The median runtime the UPS claimed when power was lost, per month, at full charge (where
    known) and loads near the usual one.

    A falling line at the same load is a tired battery. The claim, not ``power_lost.runtime_s``:
    that is the smaller of claim and measurement since v1.2, so the month Siaga first measured
    the battery would read as a battery tiring (25 min, then 11).
    """
    months: dict[str, list[float]] = {}
    for o in facts.outages:
        if o.claimed_s is None or (load is not None and o.load_pct is not None
                                   and abs(o.load_pct - load) > COMPARABLE_LOAD_PCT) \
                or (o.charge_pct is not None and o.charge_pct < FULL_CHARGE_PCT):
            continue
        month = dt.datetime.fromtimestamp(o.start, zone).strftime("%Y-%m")
        months.setdefault(month, []).append(o.claimed_s)
    return monthly_runtimes(months)


def power_quality(samples: list[Sample] | None) -> dict[str, Any]:
    """Input voltage min/max and the number of sags (< 198 V) and swells (> 231 V), each a run
    of consecutive samples; ``known`` False when there is no voltage history. The lowest is
    rounded down to a tenth and the highest up, so a sag never reads as its threshold (197.96 V
    is 197.9, not 198.0, beside "1 sag below 198 V")."""
    mains = [(s.voltage_min, s.voltage_max) for s in samples or () if not s.on_battery
             and s.voltage_min is not None and s.voltage_max is not None and s.voltage_max >= MAINS_MIN_V]
    # Below MAINS_MIN_V is the cut itself (an outage, journaled as one), not a sag.
    lows = [low for low, _ in mains if low >= MAINS_MIN_V]
    highs = [high for _, high in mains]
    if not mains:
        return {"known": False, "min_v": None, "max_v": None, "sags": 0, "swells": 0}
    return {"known": True, "min_v": _tenth(min(lows), math.floor) if lows else None,
            "max_v": _tenth(max(highs), math.ceil),
            "sags": _runs(lows, lambda v: v < SAG_V), "swells": _runs(highs, lambda v: v > SWELL_V)}


def _tenth(volts: float, rounding: Any) -> float:
    """``volts`` to a tenth, rounded by ``rounding`` (math.floor or math.ceil)."""
    return rounding(round(volts * 10, 6)) / 10   # float noise must not move 197.6 to 197.5


def _runs(values: list[float], hit: Any) -> int:
    count, inside = 0, False
    for v in values:
        now = hit(v)
        count += now and not inside
        inside = now
    return count


def pc_disk(state: dict[str, Any] | None) -> dict[str, Any]:
    """The recording disk free now, per PC (the snapshot), and the days until the first is full
    at the growth the agent measured (``disk_used_gb_day``: CONTRACT §6.2); None while no PC
    has two days of history, or no disk grows."""
    pcs = [p for p in (state or {}).get("pcs") or () if isinstance(p, dict) and isinstance(p.get("id"), str)]
    found = {p["id"]: number(p.get("disk_free_gb")) for p in pcs}
    free = {k: v for k, v in found.items() if v is not None}
    left = [days_left(free.get(p["id"]), number(p.get("disk_used_gb_day"))) for p in pcs]
    days = [d for d in left if d is not None]
    return {"disk_free_gb": min(free.values()) if free else None, "per_pc": free,
            "days_left": min(days) if days else None}


def days_left(free_gb: float | None, gb_per_day: float | None) -> int | None:
    """Whole days until ``free_gb`` is used at ``gb_per_day`` (rounded down); None if unknown."""
    if free_gb is None or not gb_per_day or gb_per_day <= 0:
        return None
    return int(free_gb // gb_per_day)


def pc_requirement(speed: float | None) -> dict[str, Any]:
    """The buy list's PC line: the requirement, and whether the measured speed meets it."""
    return {"item": "pc_requirement", "need_speed": NEED_SPEED, "speed": speed,
            "recording_min": RECORDING_MIN, "between_min": BETWEEN_MEETINGS_MIN,
            "ok": None if speed is None else speed >= NEED_SPEED}


def buy_list(office: dict[str, Any], per_site: dict[str, dict[str, Any]],
             disk_low_gb: float) -> list[dict[str, Any]]:
    """What to buy, each item {"item", "reason", numbers...}, derived only from the numbers."""
    items: list[dict[str, Any]] = []
    for site, s in per_site.items():
        items += _ups_items(site, s)
    if office["power_quality"]["sags"] >= SAGS_FOR_AVR:
        items.append({"item": "avr", "sags": office["power_quality"]["sags"]})
    delayed = office["conversion"]["delayed_meetings"]
    if delayed:
        items.append({"item": "faster_pc", "delayed": delayed,
                      "meetings": office["meetings"]["count"]})
    if office["meetings"]["count"]:
        items.append(pc_requirement(office["conversion"].get("speed")))
        items.append({"item": "licences", "peak": office["meetings"]["peak_concurrent"]})
    for site, s in per_site.items():
        free = s["pc"]["disk_free_gb"]
        if free is not None and free < 2 * disk_low_gb:
            items.append({"item": "disk", "site": site, "free_gb": free, "limit_gb": 2 * disk_low_gb})
    return items


def runtime_have(ups: dict[str, Any]) -> tuple[float | None, str]:
    """(runtime today's UPS gives, where from): the measurement where there is one (a claim
    is never trusted over it), else the claim at the start of outages; both from journal
    events. Never the last state's runtime (``runtime_now_s``): one moment's, at that moment's
    load, and only the dashboard has it, so the verdict would depend on the source."""
    for key, basis in (("runtime_measured_s", "measured"), ("runtime_claimed_s", "claimed")):
        if ups.get(key) is not None:
            return ups[key], basis
    return None, ""


def lasts(have: float, need: float) -> bool:
    """Whether today's UPS carries the need, decided on the minutes the report prints (the
    runtime rounded down, the need rounded up), so a verdict never contradicts its reason: a
    UPS within the rounding is too short."""
    return whole_minutes(have, Span.AVAILABLE) >= whole_minutes(need, Span.NEEDED)


def _ups_items(site: str, s: dict[str, Any]) -> list[dict[str, Any]]:
    """A new UPS, a new battery, or nothing, for one room; the UPS in W, minutes and Wh."""
    need, ups = s["ups"]["runtime_needed_s"], s["ups"]
    have, basis = runtime_have(ups)
    items = []
    if ups["replace_battery"]:   # replace_battery events only: the last state is not a journal
        items.append({"item": "battery", "site": site, "flags": ups["replace_battery"]})
    if ups.get("battery_tired"):
        months = ups["runtime_measured_by_month"]
        items.append({"item": "battery_tired", "site": site, "first_s": months[0]["runtime_s"],
                      "last_s": months[-1]["runtime_s"], "load_pct": ups["measured_load_pct"]})
    if need is None:
        items.append({"item": "ups_no_data", "site": site})
    elif have is not None and lasts(have, need):
        items.append({"item": "ups_ok", "site": site, "need_min": whole_minutes(need, Span.NEEDED),
                      "have_min": whole_minutes(have, Span.AVAILABLE), "basis": basis})
    else:
        items.append({"item": "ups_buy", "site": site, "need_min": whole_minutes(need, Span.NEEDED),
                      "load_w": ups["load_w"], "basis": basis,
                      "battery_wh": ups.get("battery_wh_needed"),
                      "have_min": None if have is None else whole_minutes(have, Span.AVAILABLE)})
    return items
