"""The whole needs report as one JSON-ready dict (CONTRACT §5.8 plus the needs sections). Pure.

Sites are reduced one at a time (their events are an iterator, read lazily by the caller), so a
year of 500 rooms is never in memory as events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from dashboard.report import needs
from dashboard.report.facts import SiteFacts, SpanSums, Totals, Window, numbers, site_facts
from dashboard.report.runtime import office_runtime, runtime_numbers


@dataclass
class SiteInput:
    """One site as a reader hands it in; ``samples`` is None when there is no history source."""

    site: str
    name: str
    events: Iterable[tuple[float, str, str, dict[str, Any]]]   # facts.Ev or plain tuples
    state: dict[str, Any] | None = None
    samples: list[needs.Sample] | None = None
    facts: SiteFacts | None = None   # the site already reduced by its reader (pgdata): no events


@dataclass(frozen=True)
class Policy:
    """The two policy keys the report reads from the ``-c`` file."""

    wrapup_at_runtime_s: float = 300.0
    disk_low_gb: float = 5.0


def build(inputs: Iterable[SiteInput], win: Window, zone: ZoneInfo, policy: Policy,
          office: SpanSums | None = None) -> dict[str, Any]:
    """The report: office totals over every input site, and the same keys per site. ``office``:
    the spans' numbers over every site when the reader added them up (pgdata)."""
    per_site: dict[str, dict[str, Any]] = {}
    totals = Totals(spans=office)
    for inp in inputs:
        f = inp.facts if inp.facts is not None else site_facts(inp.site, inp.events, win)
        per_site[inp.site] = _site(inp, f, zone, policy)
        totals.add(f)     # the site's spans are dropped here: the office keeps arrays of times
    whole = numbers(totals, zone, policy.wrapup_at_runtime_s)
    whole["ups"].update(_office_ups(per_site))
    whole["ups"].update(office_runtime([{**s["ups"], "site": site} for site, s in per_site.items()]))
    whole["power_quality"] = _office_quality([s["power_quality"] for s in per_site.values()])
    free = [s["pc"]["disk_free_gb"] for s in per_site.values() if s["pc"]["disk_free_gb"] is not None]
    days = [s["pc"]["days_left"] for s in per_site.values() if s["pc"]["days_left"] is not None]
    whole["pc"] = {"disk_free_gb": min(free, default=None), "days_left": min(days, default=None)}
    report = {"v": 1, "from": win.first.isoformat(), "to": win.last.isoformat(),
              "today": win.today.isoformat(),
              "sites": per_site, **whole,
              "events": sum(s["events"] for s in per_site.values())}
    report["buy"] = needs.buy_list(report, per_site, policy.disk_low_gb)
    return report


def _site(inp: SiteInput, f: SiteFacts, zone: ZoneInfo, policy: Policy) -> dict[str, Any]:
    s = numbers(Totals(spans=f.spans).add(f), zone, policy.wrapup_at_runtime_s)
    s["ups"].update(needs.ups_health(f, inp.state, inp.samples, zone))
    s["ups"].update(runtime_numbers(f.outages, f.learned, s["ups"]["runtime_needed_s"], zone))
    if s["ups"]["measured_load_w"] is not None:   # the edge's measured watts, else load x rating
        s["ups"]["load_w"] = s["ups"]["measured_load_w"]
    s["power_quality"] = needs.power_quality(inp.samples)
    s["pc"] = needs.pc_disk(inp.state)
    s["name"] = inp.name or inp.site
    s["events"] = f.events
    s["selftests"] = [{"ts": ts, "ok": ok, "detail": detail} for ts, ok, detail in f.selftests[-5:]]
    return s


def _office_ups(per_site: dict[str, dict[str, Any]]) -> dict[str, Any]:
    ups = [s["ups"] for s in per_site.values()]
    loads = [u["load_pct"] for u in ups if u["load_pct"] is not None]
    return {"load_pct": max(loads, default=None),
            "replace_battery": sum(u["replace_battery"] for u in ups),
            "selftests": sum(u["selftests"] for u in ups),
            "selftests_failed": sum(u["selftests_failed"] for u in ups),
            "short_rooms": sorted(site for site, s in per_site.items()
                                  if s["ups"]["runtime_needed_s"] is not None
                                  and ((have := needs.runtime_have(s["ups"])[0]) is None
                                       or not needs.lasts(have, s["ups"]["runtime_needed_s"])))}


def _office_quality(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The rooms' power quality together. A room whose only mains reading is the minute the
    power failed has a highest voltage and no lowest (needs.power_quality): the office's
    lowest is over the rooms that have one."""
    known = [p for p in parts if p["known"]]
    if not known:
        return needs.power_quality(None)
    lows = [p["min_v"] for p in known if p["min_v"] is not None]
    return {"known": True, "min_v": min(lows, default=None),
            "max_v": max(p["max_v"] for p in known),
            "sags": sum(p["sags"] for p in known), "swells": sum(p["swells"] for p in known)}
