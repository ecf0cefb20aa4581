"""What the status page says, in Bahasa Indonesia and English, and how it writes numbers and times.

A small catalogue (dashboard/texts/page.py) instead of gettext: one dict, keyed by an English
name, of (Bahasa Indonesia, English) pairs. A key the catalogue lacks shows as the key itself, so a
gap never crashes a page.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.texts import (journal as catalogue_events, keys, overview as catalogue_overview,
                             page as catalogue)
from protocol import durations
from protocol.durations import Span, duration as duration_text
from protocol.messages import MAX_NUMBER

PERCENT_MAX = 1000   # the edge reads no percentage above (ups.load; edge/ups.py)

LANGUAGES = ("id", "en")

# The page's one catalogue, key: (Bahasa Indonesia, English); three modules only for size.
TEXTS = {**catalogue.TEXTS, **catalogue_events.TEXTS, **catalogue_overview.TEXTS}
ID = {key: pair[0] for key, pair in TEXTS.items()}
EN = {key: pair[1] for key, pair in TEXTS.items()}
CATALOGUE = {"en": EN, "id": ID}


def pick_language(requested: str | None, cookie: str | None, default: str) -> str:
    """The page language: ?lang= first, then the cookie, then site.language."""
    for choice in (requested, cookie):
        if choice in LANGUAGES:
            return choice
    return default if default in LANGUAGES else "id"


def translate(lang: str, key: str, **values: Any) -> str:
    """The text of ``key`` in ``lang`` with ``{name}`` placeholders filled in."""
    text = CATALOGUE.get(lang, ID).get(key) or EN.get(key) or key
    return text.format(**values) if values else text


def plural(lang: str, key: str, n: int, **values: Any) -> str:
    """``key``'s one or other form by ``n`` ("1 room", "2 rooms"; Indonesian does not inflect);
    its forms are dashboard/texts/keys.py PLURAL."""
    one, other = keys.PLURAL[key]
    return translate(lang, one if n == 1 else other, n=number(n, lang), **values)


def has_text(key: str) -> bool:
    """True when the catalogue knows ``key``."""
    return key in EN


def number(value: float | None, lang: str, digits: int = 0) -> str:
    """``12.5`` as "12,5" (id) or "12.5" (en); None, NaN and a number beyond any reading (1e308
    in an event's detail) as a dash."""
    if value is None or not math.isfinite(value) or abs(value) > MAX_NUMBER:
        return "–"
    text = f"{value:,.{digits}f}"
    if lang == "id":
        text = text.translate(str.maketrans(",.", ".,"))
    return text


def whole_minutes(seconds: float, span: Span = Span.AVAILABLE) -> int:
    """The whole minutes ``minutes`` shows (protocol/durations.py's rounding for ``span``)."""
    return durations.whole_minutes(seconds, span)


def minutes(seconds: float | None, lang: str) -> str:
    """A runtime left, "8 mnt" (protocol/durations.py: rounded down, "< 1 mnt" under a minute)."""
    return duration_text(seconds, lang, Span.AVAILABLE)


def minutes_long(seconds: float | None, lang: str) -> str:
    """A runtime left in a sentence: the same words as ``minutes`` (one number, one way)."""
    return duration_text(seconds, lang, Span.AVAILABLE)


def percent(value: float | None, lang: str) -> str:
    """"38 %"; a dash when unknown or not a percentage any UPS reports (-5, 1e12)."""
    if value is None or not 0 <= value <= PERCENT_MAX:   # NaN fails the comparison too
        return "–"
    return f"{number(value, lang)} %"


def duration(seconds: float | None, lang: str) -> str:
    """How long something lasted: "3 mnt 20 dtk", "1 jam 5 mnt" (protocol/durations.py)."""
    return duration_text(seconds, lang, Span.ELAPSED)


def local(ts: float, zone: ZoneInfo) -> dt.datetime | None:
    """A Unix time in the site's time zone; None for a time no calendar can show."""
    try:
        return dt.datetime.fromtimestamp(ts, zone)
    except (OverflowError, ValueError, OSError):
        return None


def when(ts: float | None, zone: ZoneInfo, now: float) -> str:
    """"10:32:05" today, "27/11 10:32" on another day, in the site's time zone."""
    moment = None if ts is None else local(ts, zone)
    today = local(now, zone)
    if moment is None or today is None:
        return "–"
    if moment.date() == today.date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%d/%m/%Y %H:%M") if moment.year != today.year else moment.strftime("%d/%m %H:%M")


def full_time(ts: float | None, zone: ZoneInfo) -> str:
    """"2025-11-27 10:32:05 WIB": for tooltips."""
    moment = None if ts is None else local(ts, zone)
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S %Z")


def iso_time(ts: float, zone: ZoneInfo) -> str:
    """"2025-11-27T10:32:05+07:00": for exports; "" for an impossible time."""
    moment = local(ts, zone)
    return "" if moment is None else moment.isoformat(timespec="seconds")


def meeting_span(start: float, end: float, zone: ZoneInfo, now: float) -> str:
    """A booking's time in the room's zone: "09:00–10:00 WIB" today, "08/12 09:00–10:00 WIB"
    on another day, "23:00–01:00 WIB" across midnight; a booking of a day or more says both
    days ("08/12 09:00–10/12 17:00 WIB", not a day's "09:00–17:00"); a dash for a time no
    calendar can show."""
    first, last, today = local(start, zone), local(end, zone), local(now, zone)
    if first is None or last is None or today is None:
        return "–"
    if end - start >= 86400 and last.date() != first.date():
        return f"{first:%d/%m %H:%M}–{last:%d/%m %H:%M} {first:%Z}"
    day = "" if first.date() == today.date() else first.strftime("%d/%m ")
    return f"{day}{first:%H:%M}–{last:%H:%M} {first:%Z}"
