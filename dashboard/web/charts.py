"""History charts drawn on the server as SVG geometry: no JavaScript, no CDN.

``build`` is pure: it takes the JSON of GET /api/sites/<site>/history (dashboard/store/history.py) and
returns where things go: per bucket a band from its lowest to its highest value, a line at its
last value (both as steps, one per bucket), the time on battery shaded from its exact start to its exact end,
the journal's cuts (power_lost to power_restored) marked over the band, axis labels.
The template draws them.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.texts.i18n import number

WIDTH, HEIGHT = 520, 170
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 22
# metric -> (field of the history JSON, scale to the shown unit, fixed lower bound, fixed upper bound)
METRICS = {
    "charge": ("charge_pct", 1.0, 0.0, 100.0),
    "runtime": ("runtime_s", 1 / 60, 0.0, None),
    "load": ("load_pct", 1.0, 0.0, 100.0),
    "voltage": ("input_voltage", 1.0, None, None),
}
TICK_STEPS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400,
              7 * 86400)


@dataclass(frozen=True)
class Chart:
    """One chart ready to draw: SVG coordinates and labels."""

    metric: str
    bands: tuple[str, ...]                       # polygon points: min..max of each bucket
    lines: tuple[str, ...]                       # polyline "x,y x,y" runs of the last values
    battery: tuple[tuple[float, float], ...]     # (x, width) where the room was on battery
    y_ticks: tuple[tuple[float, str], ...]       # (y, label)
    x_ticks: tuple[tuple[float, str], ...]       # (x, label)
    low: float | None                            # lowest, highest and last value shown
    high: float | None
    last: float | None
    cuts: tuple[tuple[float, float], ...] = ()   # (x, width) of each cut in the journal, exact
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    right: int = WIDTH - RIGHT
    bottom: int = HEIGHT - BOTTOM

    @property
    def empty(self) -> bool:
        """True when the range holds no value of this metric."""
        return self.last is None


def build(metric: str, data: dict[str, Any], zone: ZoneInfo, lang: str) -> Chart:
    """The chart of one metric from the history JSON."""
    field, scale, low, high = METRICS[metric]
    start, end, bucket_s = data["start"], data["end"], data["bucket_s"]
    span = max(end - start, 1.0)
    plot_w = WIDTH - LEFT - RIGHT

    def x(ts: float, digits: int = 1) -> float:
        return round(LEFT + min(max(ts - start, 0.0), span) / span * plot_w, digits)

    values = {i: {k: v * scale for k, v in b[field].items()} for i, b in enumerate(data["buckets"])
              if b[field] is not None}
    lo, hi = _y_range([v["min"] for v in values.values()] + [v["max"] for v in values.values()], low, high)
    plot_h = HEIGHT - TOP - BOTTOM

    def y(v: float) -> float:
        return round(HEIGHT - BOTTOM - (min(max(v, lo), hi) - lo) / (hi - lo) * plot_h, 1)

    def edges(i: int) -> tuple[float, float]:
        return x(start + i * bucket_s), x(start + (i + 1) * bucket_s)

    # Steps, not a line between bucket centres: each bucket covers its own time, so a young
    # site's two minutes fill the chart and a spike keeps its bucket's width.
    bands, lines = [], []
    for run in _runs(sorted(values)):
        top_edge, bottom_edge, line = [], [], []
        for i in run:
            left, right = edges(i)
            top_edge += [(left, y(values[i]["max"])), (right, y(values[i]["max"]))]
            bottom_edge += [(left, y(values[i]["min"])), (right, y(values[i]["min"]))]
            line += [(left, y(values[i]["last"])), (right, y(values[i]["last"]))]
        bands.append(_points(top_edge + bottom_edge[::-1]))
        lines.append(_points(line))
    battery = _spans(data["battery"], x, end)
    # The per-minute line cannot show a 32-second cut (and drops up to a minute late); the
    # journal's power_lost and power_restored times can, so they are drawn over the band.
    cuts = _spans(data.get("cuts", ()), x, end, exact=True)
    last = values[max(values)]["last"] if values else None
    return Chart(metric, tuple(bands), tuple(lines), battery,
                 tuple((y(v), number(v, lang)) for v in _ticks(lo, hi)),
                 _x_ticks(start, span, zone, plot_w / span),
                 min((v["min"] for v in values.values()), default=None),
                 max((v["max"] for v in values.values()), default=None), last, cuts)


def _spans(spans: Any, x: Any, end: float, exact: bool = False) -> tuple[tuple[float, float], ...]:
    """(x, width) of [start, stop or None while it lasts] spans; those outside the range dropped.
    ``exact`` (the journal's cuts): to 0.01 px, and a cut of width 0 (its end unknown) is kept,
    its mark's stroke showing where it began."""
    digits = 2 if exact else 1
    out = []
    for s, e in spans:
        left, right = x(s, digits), x(e if e is not None else end, digits)
        if right > left or (exact and s == e and x(s) > LEFT):
            out.append((left, round(right - left, digits)))
    return tuple(out)


def _runs(indices: list[int]) -> list[list[int]]:
    """Consecutive bucket numbers grouped: a gap in the data breaks the band and the line."""
    runs: list[list[int]] = []
    for i in indices:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _points(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{px},{py}" for px, py in points)


def _y_range(values: list[float], low: float | None, high: float | None) -> tuple[float, float]:
    """The value range of the y axis: fixed ends where given, else rounded around the data."""
    if not values:
        return (0.0 if low is None else low), (100.0 if high is None else high)
    vmin, vmax = min(values), max(values)
    margin = 0.0 if low is not None else max(5.0, 0.1 * (vmax - vmin))
    lo = low if low is not None else vmin - margin
    top = max(vmax, high) if high is not None else vmax + margin
    step = _nice_step(max(top - lo, 5.0))
    if low is None:
        lo = math.floor(lo / step) * step
        lo = max(lo, 0.0) if vmin >= 0 else lo
    hi = high if high is not None and vmax <= high else math.ceil(top / step) * step
    return lo, max(hi, lo + max(step, 5.0))


def _nice_step(span: float) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving at most 5 ticks over ``span``."""
    span = max(span, 1e-9)
    base = 10 ** math.floor(math.log10(span / 5))
    return next(m * base for m in (1, 2, 5, 10) if span / (m * base) <= 5)


def _ticks(lo: float, hi: float) -> list[float]:
    step = _nice_step(hi - lo)
    first = math.ceil(lo / step) * step
    return [first + k * step for k in range(int((hi - first) / step + 1e-9) + 1)]


def _x_ticks(start: float, span: float, zone: ZoneInfo, px_per_s: float) -> tuple[tuple[float, str], ...]:
    """At most seven labels at round local times: "06:00" within a day, "27/11" over days."""
    step = next((t for t in TICK_STEPS if span / t <= 7), TICK_STEPS[-1])
    first = dt.datetime.fromtimestamp(start, zone).replace(minute=0, second=0, microsecond=0)
    ts = first.timestamp() - 3600
    ticks = []
    while ts < start + span:
        local = dt.datetime.fromtimestamp(ts, zone)
        seconds = local.hour * 3600 + local.minute * 60
        on_tick = seconds % step == 0 if step < 86400 else \
            seconds == 0 and local.toordinal() % (step // 86400) == 0
        if ts >= start and on_tick:
            label = local.strftime("%d/%m") if step >= 86400 else local.strftime("%H:%M")
            x = round(LEFT + (ts - start) * px_per_s, 1)
            if LEFT + 16 <= x <= WIDTH - RIGHT - 16:      # a label at the very edge gets cut off
                ticks.append((x, label))
        ts += 60 if step < 600 else 300 if step < 3600 else 1800
    return tuple(ticks)
