"""History charts drawn on the server as SVG geometry: no JavaScript, no CDN.

``build`` is pure: it takes the buckets of the history table (dashboard/database.py) and returns
where the lines, the on-battery bands and the axis labels go. The template draws them.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from dashboard.database import HistoryBucket
from dashboard.i18n import number

RANGES = {"24h": (86400.0, 288), "7d": (7 * 86400.0, 336)}   # span, buckets (5 min / 30 min)
WIDTH, HEIGHT = 520, 170
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 22
# metric -> (bucket field, scale to the shown unit, fixed lower bound, fixed upper bound or None)
METRICS = {
    "charge": ("charge", 1.0, 0.0, 100.0),
    "runtime": ("runtime", 1 / 60, 0.0, None),
    "load": ("load", 1.0, 0.0, 100.0),
    "voltage": ("voltage", 1.0, None, None),
}


@dataclass(frozen=True)
class Chart:
    """One chart ready to draw: SVG coordinates and labels."""

    metric: str
    lines: tuple[str, ...]                       # polyline "x,y x,y" runs, split at gaps
    bands: tuple[tuple[float, float], ...]       # (x, width) where the room was on battery
    y_ticks: tuple[tuple[float, str], ...]       # (y, label)
    x_ticks: tuple[tuple[float, str], ...]       # (x, label)
    empty: bool
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    right: int = WIDTH - RIGHT
    bottom: int = HEIGHT - BOTTOM


def window(range_name: str, now: float) -> tuple[float, float, float, int]:
    """(start, end, bucket seconds, buckets) of a chart range ending now."""
    span, count = RANGES.get(range_name, RANGES["24h"])
    return now - span, now, span / count, count


def build(metric: str, buckets: list[HistoryBucket], start: float, bucket_s: float, count: int,
          zone: ZoneInfo, lang: str) -> Chart:
    """The chart of one metric over ``count`` buckets from ``start``."""
    field, scale, low, high = METRICS[metric]
    values = {b.index: getattr(b, field) * scale for b in buckets
              if getattr(b, field) is not None and 0 <= b.index < count}
    lo, hi = _y_range(list(values.values()), low, high)
    step = (WIDTH - LEFT - RIGHT) / count
    plot_h = HEIGHT - TOP - BOTTOM

    def y(v: float) -> float:
        return round(HEIGHT - BOTTOM - (v - lo) / (hi - lo) * plot_h, 1)

    lines, run, prev = [], [], None
    for i in sorted(values):
        if prev is not None and i != prev + 1:
            lines.append(_polyline(run))
            run = []
        run.append((round(LEFT + (i + 0.5) * step, 1), y(values[i])))
        prev = i
    if run:
        lines.append(_polyline(run))
    bands = _bands(sorted(b.index for b in buckets if b.outage and 0 <= b.index < count), step)
    y_ticks = tuple((y(v), number(v, lang)) for v in _ticks(lo, hi))
    x_ticks = _x_ticks(start, bucket_s * count, zone, step / bucket_s)
    return Chart(metric, tuple(lines), bands, y_ticks, x_ticks, not values)


def _polyline(run: list[tuple[float, float]]) -> str:
    if len(run) == 1:  # one point: a tiny segment, drawn as a dot by round line caps
        run = [run[0], (run[0][0] + 0.1, run[0][1])]
    return " ".join(f"{x},{y}" for x, y in run)


def _bands(indices: list[int], step: float) -> tuple[tuple[float, float], ...]:
    bands: list[tuple[int, int]] = []
    for i in indices:
        if bands and bands[-1][1] == i:
            bands[-1] = (bands[-1][0], i + 1)
        else:
            bands.append((i, i + 1))
    return tuple((round(LEFT + a * step, 1), round((b - a) * step, 1)) for a, b in bands)


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
    """Every 6 hours ("06:00") on a day chart, every midnight ("27/11") on a week chart."""
    daily = span > 2 * 86400
    ts = dt.datetime.fromtimestamp(start, zone).replace(minute=0, second=0, microsecond=0).timestamp()
    ticks = []
    while ts < start + span:
        local = dt.datetime.fromtimestamp(ts, zone)
        if ts >= start and local.minute == 0 and (local.hour == 0 if daily else local.hour % 6 == 0):
            label = local.strftime("%d/%m") if daily else local.strftime("%H:%M")
            x = round(LEFT + (ts - start) * px_per_s, 1)
            if LEFT + 16 <= x <= WIDTH - RIGHT - 16:      # a label at the very edge gets cut off
                ticks.append((x, label))
        ts += 3600
    return tuple(ticks)
