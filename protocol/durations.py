"""Durations as people read them: one formatter for the banner, the page, alerts, the report
and the SOP, so the same seconds are the same words everywhere ("8 mnt", never "sekitar 8
menit" on the banner and "9 mnt" on the card).

One rounding rule, chosen by what the time is, which the caller says:
- ``NEEDED`` (a UPS runtime to buy, a margin to keep, a wait): rounded up, so the need is met;
- ``AVAILABLE`` (the runtime left): rounded down, so we never promise more battery than there is;
- ``ELAPSED`` (how long something lasted): to the second under an hour, rounded down.
Under the smallest unit it says "< 1 mnt" / "< 1 dtk", never "0".

Pure and standalone: the meeting PC's agent imports it, so it imports nothing of the Pi or the
dashboard.
"""

from __future__ import annotations

import math
from enum import Enum

UNKNOWN = "–"
# Nothing Siaga times lasts ten years: beyond is a bad number (1e300 s in an event's detail).
MAX_SECONDS = 10 * 366 * 86400
# lang: (hours, minutes, seconds)
UNITS = {"id": ("jam", "mnt", "dtk"), "en": ("h", "min", "s")}


class Span(str, Enum):
    """What a duration is, which decides how it is rounded."""

    NEEDED = "needed"
    AVAILABLE = "available"
    ELAPSED = "elapsed"


def duration(seconds: float | None, lang: str, span: Span) -> str:
    """``seconds`` as "8 mnt", "1 jam 5 mnt", "3 mnt 20 dtk" or "< 1 mnt"; a dash when unknown
    (or over ten years)."""
    if seconds is None or isinstance(seconds, bool) or not math.isfinite(seconds) \
            or seconds > MAX_SECONDS:
        return UNKNOWN
    h_unit, m_unit, s_unit = UNITS["en" if lang == "en" else "id"]
    seconds = round(max(seconds, 0.0), 3)  # float noise must not turn 300 s into 6 minutes up
    if span is Span.ELAPSED and seconds < 3600:
        m, s = divmod(math.floor(seconds), 60)
        if not m:
            return f"{s} {s_unit}" if s else f"< 1 {s_unit}"
        return f"{m} {m_unit} {s} {s_unit}" if s else f"{m} {m_unit}"
    whole = math.ceil(seconds / 60) if span is Span.NEEDED else math.floor(seconds / 60)
    if whole < 1:
        return f"< 1 {m_unit}"
    h, m = divmod(whole, 60)
    if not h:
        return f"{m} {m_unit}"
    return f"{h} {h_unit} {m} {m_unit}" if m else f"{h} {h_unit}"


def whole_minutes(seconds: float, span: Span) -> int:
    """The minutes ``duration`` shows for ``seconds`` (for numbers kept in minutes, e.g. JSON)."""
    seconds = round(max(seconds, 0.0), 3)
    return math.ceil(seconds / 60) if span is Span.NEEDED else math.floor(seconds / 60)
