"""The needs report as people read it: HTML (A4, printable), PDF (WeasyPrint, from the same
HTML) and CSV. The numbers come from dashboard/report/build.py; this module only words them.

The HTML is rendered by its own Jinja environment (not Flask's), so `siaga report` and the
dashboard's /report page produce the same document; the page adds only a form and a print button.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from dashboard.report import sop
from dashboard.report.data import ReportError
from dashboard.report.texts import battery_age, day, num, row, text
from protocol.durations import Span, duration

HERE = Path(__file__).resolve().parent.parent   # dashboard/: templates/, static/
CSS_FILE = HERE / "static" / "report.css"
_ENV = Environment(loader=FileSystemLoader(HERE / "templates"),
                   autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
log = logging.getLogger(__name__)
CHART_W, CHART_H, CHART_TOP, CHART_BASE = 480, 86, 12, 70


# Row kinds that are durations, and how each is rounded (protocol/durations.py).
SPANS = {"s": Span.ELAPSED, "need": Span.NEEDED, "have": Span.AVAILABLE}


@dataclass(frozen=True)
class Row:
    """One line of a number table."""

    value: str
    meaning: str
    rule: str
    wraps: bool = False       # a value in words (the battery's date and age) may take lines


def _rows(lang: str, part: dict[str, Any], keys: list[tuple[str, str]], today: dt.date | None = None,
          **values: Any) -> list[Row]:
    """Rows for ``keys`` ("section.key", kind): kind "n" count, "s" seconds that passed, "need"
    seconds needed, "have" seconds available, "h" hours, ..., "age" a battery's date and its age
    on ``today``."""
    rows = []
    for key, kind in keys:
        section, name = key.split(".")
        value = part[section].get(name)
        rows.append(Row(_format(value, kind, lang, today), *row(lang, _worded(key, part, value), **values),
                        wraps=kind == "age"))
    return rows


# The nearest-rank 90th percentile of fewer outages than this is the longest one.
P90_FEW = 10
FEW = {"outages.p90_s": "outages.p90_s_few", "ups.runtime_needed_s": "ups.runtime_needed_s_few"}
# Count rows whose English takes the singular for 1 ("1 | time the mains power failed."): the
# key of that form (Indonesian does not inflect; it has the rule of its plural).
ONE = {"outages.count": "outages.count_one",
       "outages.during_meetings": "outages.during_meetings_one",
       "outages.shutdowns": "outages.shutdowns_one", "outages.bridged": "outages.bridged_one",
       "outages.unended": "outages.unended_one", "ups.discharges": "ups.discharges_one",
       "ups.replace_battery": "ups.replace_battery_one", "ups.selftests": "ups.selftests_one",
       "power_quality.sags": "power_quality.sags_one",
       "power_quality.swells": "power_quality.swells_one",
       "meetings.count": "meetings.count_one",
       "meetings.peak_concurrent": "meetings.peak_concurrent_one",
       "meetings.peak_live": "meetings.peak_live_one", "conversion.count": "conversion.count_one",
       "conversion.delayed_meetings": "conversion.delayed_meetings_one",
       "pc.days_left": "pc.days_left_one", "schedule.booked_count": "schedule.booked_count_one",
       "schedule.peak_booked": "schedule.peak_booked_one",
       "schedule.back_to_back": "schedule.back_to_back_one",
       "schedule.not_ready": "schedule.not_ready_one"}


def _worded(key: str, part: dict[str, Any], value: Any) -> str:
    """The text key of a row: the p90 of under 10 outages, and the runtime made from it, are
    worded as "every outage"; a count of 1 in its singular form."""
    if key in FEW and part["outages"]["count"] < P90_FEW:
        return FEW[key]
    return ONE[key] if key in ONE and value == 1 else key


def p90_reason(outages: dict[str, Any], lang: str) -> str:
    """Why the UPS must last this long, in words true to the number of outages."""
    n, p90 = outages["count"], duration(outages["p90_s"], lang, Span.ELAPSED)
    key = ("ups_p90" if n >= P90_FEW else "ups_p90_one" if n == 1 else "ups_p90_two" if n == 2
           else "ups_p90_all")
    return text(lang, key, n=num(n, lang), p90=p90)


def _format(value: Any, kind: str, lang: str, today: dt.date | None = None) -> str:
    if value is None:
        return text(lang, "no_data")
    if kind in SPANS:
        return duration(value, lang, SPANS[kind])
    if kind == "h":
        return num(value, lang, 1)
    if kind == "pct":
        return f"{num(value, lang)} %"
    if kind == "w":
        return f"{num(value, lang)} W"
    if kind == "wh":
        return f"{num(value, lang)} Wh"
    if kind == "v":   # to a tenth, as the JSON: 197.6 V must not read as the 198 V of a sag
        return f"{num(value, lang, 1)} V"
    if kind == "x":
        return num(value, lang, 1)
    if kind == "gb":
        return f"{num(value, lang, 1)} GB"
    if kind == "age":
        assert today is not None, "a battery's age is counted to the report's day"
        return battery_age(value, lang, today)
    return str(value) if isinstance(value, str) else num(value, lang)


def sections(part: dict[str, Any], lang: str, wrapup_s: float, today: dt.date) -> list[dict[str, Any]]:
    """The titled tables of one page (the office or one room); ``today``: the report's day."""
    out, ups, pq = part["outages"], part["ups"], part["power_quality"]
    outage_keys = [("outages.count", "n"), ("outages.during_meetings", "n"),
                   ("outages.total_s", "s"), ("outages.longest_s", "s"), ("outages.p90_s", "s"),
                   ("outages.shutdowns", "n"), ("outages.bridged", "n")]
    if out.get("unended"):
        outage_keys.append(("outages.unended", "n"))
    ups_keys = _ups_keys(ups)
    meetings_known = part["meetings"].get("known", True)
    return [
        {"title": text(lang, "sec_outages"), "rows": _rows(lang, part, outage_keys),
         "chart": hour_chart(out["by_hour"], lang)},
        {"title": text(lang, "sec_ups"), "months": _months(ups.get("runtime_by_month"), lang),
         "measured_months": _months(ups.get("runtime_measured_by_month"), lang),
         "rows": _rows(lang, part, ups_keys, today, wrapup=sop.minutes(wrapup_s, lang),
                       failed=num(ups.get("selftests_failed", 0), lang))},
        {"title": text(lang, "sec_quality"), "no_data": not pq["known"],
         "rows": _rows(lang, part, [("power_quality.min_v", "v"), ("power_quality.max_v", "v"),
                                    ("power_quality.sags", "n"), ("power_quality.swells", "n")])},
        {"title": text(lang, "sec_meetings"), "no_data": not meetings_known,
         "rows": _meeting_rows(part, lang)},
        {"title": text(lang, "sec_schedule"), "no_data": not part["schedule"]["booked"]["count"],
         "rows": _rows(lang, {"schedule": _flat_schedule(part["schedule"])}, [
             ("schedule.booked_count", "n"), ("schedule.booked_hours", "h"),
             ("schedule.peak_booked", "n"), ("schedule.back_to_back", "n"),
             ("schedule.not_ready", "n")])},
        {"title": text(lang, "sec_pc"),
         "rows": ([] if not meetings_known else _rows(lang, part, [
             ("conversion.count", "n"), ("conversion.median_s", "s"), ("conversion.longest_s", "s"),
             ("conversion.speed", "x"), ("conversion.delayed_meetings", "n")])) +
         _rows(lang, part, [("pc.disk_free_gb", "gb"), ("pc.days_left", "n")])},
    ]


def _flat_schedule(schedule: dict[str, Any]) -> dict[str, Any]:
    """The schedule section with ``booked`` spread out into two rows."""
    booked = schedule["booked"]
    return {**schedule, "booked_count": booked["count"], "booked_hours": booked["hours"]}


def _months(rows: list[dict[str, Any]] | None, lang: str) -> list[dict[str, str]]:
    """The runtime-by-month table: "Sep 2026", "31 mnt", number of outages."""
    return [{"month": day(f"{r['month']}-01", lang).split(" ", 1)[1],
             "runtime": duration(r["runtime_s"], lang, Span.AVAILABLE), "n": num(r["n"], lang)}
            for r in rows or ()]


def _ups_keys(ups: dict[str, Any]) -> list[tuple[str, str]]:
    """The UPS rows: per room more than for the office (runtime now, watts, battery date)."""
    keys = [("ups.runtime_needed_s", "need")]
    keys += [("ups.runtime_now_s", "have")] if "runtime_now_s" in ups else []
    keys += [("ups.runtime_claimed_s", "have"), ("ups.runtime_measured_s", "have"),
             ("ups.discharges", "n"), ("ups.battery_wh_needed", "wh")]
    keys += [("ups.load_pct", "pct")] + ([("ups.load_w", "w")] if "load_w" in ups else [])
    keys += [("ups.replace_battery", "n"), ("ups.selftests", "n")]
    return keys + ([("ups.battery_date", "age")] if "battery_date" in ups else [])


def hour_chart(by_hour: list[int], lang: str) -> dict[str, Any]:
    """Bars of outages per hour of day, as SVG geometry (no script needed to draw it), each
    with its count as the reader writes numbers."""
    top = max(by_hour, default=0) or 1
    step = CHART_W / 24
    bars = []
    for hour, count in enumerate(by_hour):
        height = (CHART_BASE - CHART_TOP) * count / top
        bars.append({"x": round(hour * step + 2, 1), "y": round(CHART_BASE - height, 1),
                     "w": round(step - 4, 1), "h": round(height, 1), "count": count, "hour": hour,
                     "label": num(count, lang)})
    return {"w": CHART_W, "h": CHART_H, "base": CHART_BASE, "bars": bars, "step": step}


def buy_lines(report: dict[str, Any], lang: str, wrapup_s: float) -> list[str]:
    """The "what to buy" list in plain words."""
    lines = []
    for item in report["buy"]:
        site = report["sites"].get(item.get("site", ""), {})
        values = {**item, "room": site.get("name", item.get("site", "")),
                  **{k: num(item[k], lang) for k in COUNTS if k in item}}
        if item["item"] == "ups_buy":   # in W and minutes, never a percentage of the old UPS
            watts = item["load_w"] is not None
            load = text(lang, "ups_at", load=f"{num(item['load_w'], lang)} W") if watts else ""
            have = "" if item["have_min"] is None else text(lang, _basis("ups_have", item),
                                                            have=_minutes(item["have_min"], lang))
            wh = "" if not item.get("battery_wh") else text(lang, "ups_wh", wh=num(item["battery_wh"], lang))
            values.update(need=_minutes(item["need_min"], lang), load=load, have=have, wh=wh,
                          watts="" if watts else text(lang, "ups_no_watts"),
                          outages=p90_reason(site["outages"], lang),
                          wrapup=sop.minutes(wrapup_s, lang))   # the setting, as the SOP writes it
        elif item["item"] == "ups_ok":
            values.update(need=_minutes(item["need_min"], lang), have=_minutes(item["have_min"], lang))
            lines.append(text(lang, _basis("ups_ok", item), **values))
            continue
        elif item["item"] == "battery_tired":
            values.update(first=duration(item["first_s"], lang, Span.AVAILABLE),
                          last=duration(item["last_s"], lang, Span.AVAILABLE),
                          load=f"{num(item['load_pct'], lang)} %")
        elif item["item"] == "pc_requirement":
            lines.append(_pc_line(item, lang))
            continue
        elif item["item"] == "disk":
            values.update(free=f"{num(item['free_gb'], lang, 1)} GB",
                          limit=f"{num(item['limit_gb'], lang)} GB")
        lines.append(text(lang, _buy_key(item), **values))
    return lines


# Where a runtime came from (measured, else claimed: needs.runtime_have): the sentence that says so.
BASIS = {"ups_have": {"measured": "ups_have_measured", "claimed": "ups_have_claimed"},
         "ups_ok": {"measured": "ups_ok_measured", "claimed": "ups_ok_claimed"}}


def _basis(key: str, item: dict[str, Any]) -> str:
    """The sentence that says where the runtime came from (measured or claimed)."""
    return BASIS[key][item["basis"]]


# Buy items worded by a count: item -> (the count, the key of its singular form: "1 meeting
# host licence", the key when it is 0).
COUNTED = {"licences": ("peak", "licences_one", "licences"),
           "battery": ("flags", "battery_one", "battery")}


# The counts a buy item's sentence prints ("1 dari 1.102 rapat").
COUNTS = ("flags", "sags", "delayed", "meetings", "peak")


# The PC line of the buy list by what is known of the PC's conversion speed.
PC_REQUIREMENT = {"unknown": "pc_requirement_unknown", "ok": "pc_requirement_ok",
                  "short": "pc_requirement_short"}
# Each meeting app's label in the meetings table (CONTRACT §6.2 `meeting.app`).
APP_LABEL = {"zoom": "app_zoom", "teams": "app_teams", "meet-browser": "app_meet-browser",
             "browser": "app_browser", "unknown": "app_unknown"}


def _pc_line(item: dict[str, Any], lang: str) -> str:
    """The PC line of the buy list: the requirement, met or not, with the measured speed."""
    speed = item["speed"]
    state = "unknown" if speed is None else ("ok" if item["ok"] else "short")
    takes = None if not speed else duration(item["recording_min"] * 60 / speed, lang, Span.NEEDED)
    return text(lang, PC_REQUIREMENT[state], speed_need=_speed(item["need_speed"], lang),
                speed=None if speed is None else _speed(speed, lang), takes=takes,
                rec=duration(item["recording_min"] * 60, lang, Span.NEEDED),
                gap=duration(item["between_min"] * 60, lang, Span.NEEDED))


def _speed(x: float, lang: str) -> str:
    """A conversion speed, needed or measured, to a tenth as the table's row: "8,0 menit rapat
    per menit"."""
    return text(lang, "speed_v", x=num(x, lang, 1))


def _meeting_rows(part: dict[str, Any], lang: str) -> list[Row]:
    """Count, hours, the peak (of live meetings where the journal has them), then one row per app."""
    meetings = part["meetings"]
    peak = "meetings.peak_live" if meetings.get("peak_from") == "live" else "meetings.peak_concurrent"
    rows = _rows(lang, part, [("meetings.count", "n"), ("meetings.hours", "h")])
    rows.append(Row(_format(meetings["peak_concurrent"], "n", lang),
                    *row(lang, _worded(peak, part, meetings["peak_concurrent"]))))
    for i, (app, n) in enumerate((meetings.get("by_app") or {}).items()):
        label = text(lang, APP_LABEL[app]) if app in APP_LABEL else app
        key = "by_app_row_one" if n["count"] == 1 else "by_app_row"
        rows.append(Row(text(lang, "hours_v", h=num(n["hours"], lang, 1)),
                        text(lang, key, app=label, count=num(n["count"], lang)),
                        "" if i else text(lang, "by_app_rule")))   # one rule for the app rows
    return rows




def _buy_key(item: dict[str, Any]) -> str:
    """The text key of a buy item: its singular form when its count is 1, its own when 0."""
    count, one, none = COUNTED.get(item["item"], ("", "", ""))
    n = item.get(count)
    return one if n == 1 else none if n == 0 else item["item"]


def _minutes(whole: int, lang: str) -> str:
    """Minutes the buy list already rounded (report_needs: needed up, available down), in words."""
    return duration(whole * 60, lang, Span.AVAILABLE)  # whole minutes: nothing left to round


def html(report: dict[str, Any] | None, lang: str, *, zone: str, wrapup_s: float,
         per_room: bool = False, web: dict[str, Any] | None = None) -> str:
    """The report as one HTML document: the office page, then one page per room when asked.

    ``web`` (the dashboard's page) adds the range form and the print button and links the CSS
    instead of inlining it; there ``report`` may be None (bad input: the form and the error only).
    """
    values: dict[str, Any] = {"report": report, "rooms": [], "buy": [], "office": None}
    if report is not None:
        today = dt.date.fromisoformat(report["today"])
        values.update(
            office={"title": text(lang, "office"), "sections": sections(report, lang, wrapup_s, today)},
            rooms=[{"title": f"{text(lang, 'room')}: {s['name']}",
                    "sections": sections(s, lang, wrapup_s, today)}
                   for s in report["sites"].values()] if per_room else [],
            buy=buy_lines(report, lang, wrapup_s),
            names=", ".join(s["name"] for s in report["sites"].values()),
            made=text(lang, "made_one" if report["events"] == 1 else "made", n=num(report["events"], lang)),
            first=day(report["from"], lang), last=day(report["to"], lang))
    return _ENV.get_template("report.html").render(
        lang=lang, t=lambda key, **kw: text(lang, key, **kw), zone=zone, web=web,
        css=None if web else CSS_FILE.read_text(encoding="utf-8"), **values)


# The renderer's process (dashboard/report/pdf_child.py); tests put a command that crashes here.
PDF_CHILD = [sys.executable, "-m", "dashboard.report.pdf_child"]
PDF_TRIES = 2
PDF_TIMEOUT_S = 120


def pdf(document: str) -> bytes:
    """The HTML report as PDF, made by WeasyPrint in a child process (pdf_child.py says why):
    a crash there is tried once more, then told in one line; it never ends the caller."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent), env.get("PYTHONPATH")]))
    for _ in range(PDF_TRIES):
        try:
            done = subprocess.run([*PDF_CHILD, str(HERE)], input=document.encode("utf-8"),
                                  capture_output=True, env=env, timeout=PDF_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise ReportError(f"the PDF took longer than {PDF_TIMEOUT_S} s to make; "
                              "--format html gives the same report as a page") from None
        if done.returncode == 0:
            return done.stdout
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        if done.returncode > 0:      # it said why (WeasyPrint or Pango missing): no use retrying
            raise ReportError(said[-1] if said else f"the PDF renderer failed ({done.returncode})")
        log.warning("PDF renderer ended by signal %d; %s", -done.returncode,
                    "trying again" if _ + 1 < PDF_TRIES else "giving up")
    raise ReportError(f"the PDF renderer (WeasyPrint) crashed {PDF_TRIES} times (signal "
                      f"{-done.returncode}); --format html gives the same report as a page")


CSV_FIELDS = [("outages", "count"), ("outages", "during_meetings"), ("outages", "total_s"),
              ("outages", "longest_s"), ("outages", "p90_s"), ("outages", "shutdowns"),
              ("outages", "bridged"), ("ups", "runtime_needed_s"), ("meetings", "count"),
              ("meetings", "hours"), ("meetings", "peak_concurrent"), ("conversion", "count"),
              ("conversion", "median_s"), ("conversion", "delayed_meetings"),
              ("conversion", "speed"), ("pc", "days_left")]


def csv_text(report: dict[str, Any]) -> str:
    """One row per room plus the office total; columns named section.key as in the JSON."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["site", "name", "from", "to"] + [f"{a}.{b}" for a, b in CSV_FIELDS])
    parts = [(site, s["name"], s) for site, s in report["sites"].items()] + [("*", "total", report)]
    for site, name, part in parts:
        cells = ["" if part[a][b] is None else part[a][b] for a, b in CSV_FIELDS]
        w.writerow([site, _cell(name), report["from"], report["to"]] + cells)
    return buf.getvalue()


def _cell(value: str) -> str:
    """A spreadsheet must not run a room name as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
