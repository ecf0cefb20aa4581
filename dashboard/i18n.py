"""What the status page says, in Bahasa Indonesia and English, and how it writes numbers and times.

A small catalogue (dashboard/catalogue.py) instead of gettext: one dict per language, keyed by
an English name. A key missing in a language falls back to English, then to the key itself, so a
gap never crashes a page.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo

from dashboard import catalogue, catalogue_events, catalogue_overview

LANGUAGES = ("id", "en")

EN = {**catalogue.EN, **catalogue_events.EN, **catalogue_overview.EN}
ID = {**catalogue.ID, **catalogue_events.ID, **catalogue_overview.ID}
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
    """``key_one`` or ``key_other`` by ``n`` ("1 room", "2 rooms"; Indonesian does not inflect)."""
    form = "one" if n == 1 else "other"
    return translate(lang, f"{key}_{form}", n=number(n, lang), **values)


def has_text(key: str) -> bool:
    """True when the catalogue knows ``key``."""
    return key in EN


def number(value: float | None, lang: str, digits: int = 0) -> str:
    """``12.5`` as "12,5" (id) or "12.5" (en); None as a dash."""
    if value is None:
        return "–"
    text = f"{value:,.{digits}f}"
    if lang == "id":
        text = text.translate(str.maketrans({",": ".", ".": ","}))
    return text


def whole_minutes(seconds: float) -> int:
    """Seconds as whole minutes, half up: the one rounding of minutes on every page."""
    return int(math.floor(seconds / 60 + 0.5))


def minutes(seconds: float | None, lang: str) -> str:
    """A runtime as whole minutes for tables and cards: "30 mnt"."""
    if seconds is None:
        return "–"
    return f"{number(whole_minutes(seconds), lang)} {translate(lang, 'unit_min')}"


def minutes_long(seconds: float | None, lang: str) -> str:
    """A runtime as whole minutes in a sentence: "9 menit", "1 minute"."""
    if seconds is None:
        return "–"
    return plural(lang, "minutes", whole_minutes(seconds))


def percent(value: float | None, lang: str) -> str:
    """"38 %"; a dash when unknown."""
    return "–" if value is None else f"{number(value, lang)} %"


def duration(seconds: float | None, lang: str) -> str:
    """A short span: "3 mnt 20 dtk"."""
    if seconds is None:
        return "–"
    m, s = divmod(int(round(max(seconds, 0))), 60)
    if m >= 60:
        return translate(lang, "duration_h_min", h=m // 60, m=m % 60)
    return translate(lang, "duration_min_s", m=m, s=s) if m else translate(lang, "duration_s", s=s)


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
