"""Pure helpers that turn a site's state into what a page shows: order, colours, sentences."""

from __future__ import annotations

from typing import Any

from dashboard.i18n import duration, has_text, translate
from dashboard.store import SiteEntry
from edge.messages import StateSnapshot

# Problems first: an outage in progress, then what IT must fix, then silence, then the fine ones.
RANK = {"shutdown": 0, "wrapup": 1, "on_battery": 2, "fault": 3, "stale": 4, "attention": 5,
        "ready": 6}
# The LED of CONTRACT §3 for each room state (the card colour); "stale" is grey.
ROOM_LED = {"ready": ("green", "solid"), "attention": ("amber", "solid"),
            "on_battery": ("amber", "blink"), "wrapup": ("red", "blink"),
            "shutdown": ("red", "fast_blink"), "fault": ("red", "solid"), "stale": ("off", "off")}
LEDS = ("green", "amber", "red", "off")
PATTERNS = ("solid", "blink", "fast_blink", "off")
BUZZES = ("off", "outage", "wrapup", "shutdown", "restored")
STAGES = ("started", "notice_sent", "wrapup_sent", "shutdown_sent")


def status(entry: SiteEntry) -> str:
    """The room state, or "stale" when the edge has gone quiet."""
    return "stale" if entry.stale else entry.state.room


def rank(entry: SiteEntry) -> int:
    """Where the site goes on the overview: lower is more urgent."""
    return RANK.get(status(entry), len(RANK))


def display_name(state: StateSnapshot) -> str:
    """The site's name, or its id when it has none."""
    return state.name.strip() or state.site


def sort_for_overview(entries: list[SiteEntry]) -> list[SiteEntry]:
    """Problems first, then by name."""
    return sorted(entries, key=lambda e: (rank(e), display_name(e.state).lower(), e.site))


def card_led(entry: SiteEntry) -> tuple[str, str]:
    """(colour, pattern) of the card's dot: the LED the room state calls for."""
    return ROOM_LED.get(status(entry), ("off", "off"))


def indicator(state: StateSnapshot) -> tuple[str, str, str, bool]:
    """(led, pattern, buzzer, silenced) as the room shows them; unknown words become "off"."""
    ind = state.indicator
    return (ind.led if ind.led in LEDS else "off", ind.pattern if ind.pattern in PATTERNS else "off",
            ind.buzzer if ind.buzzer in BUZZES else "off", ind.silenced)


def pcs_online(state: StateSnapshot) -> tuple[int, int]:
    """(PCs online, PCs expected)."""
    return sum(1 for pc in state.pcs if pc.online), len(state.pcs)


def reason_text(reason: str, lang: str) -> str:
    """``pc_offline:meeting-pc`` as a sentence; an unknown reason as it is."""
    code, _, subject = reason.partition(":")
    key = f"reason_{code}"
    return translate(lang, key, x=subject) if has_text(key) else reason


def event_text(kind: str, lang: str) -> str:
    """A journal event kind as words; an unknown kind as it is."""
    key = f"kind_{kind}"
    return translate(lang, key) if has_text(key) else kind


def detail_items(detail: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """An event's detail as (key, text) pairs: spans as durations, lists joined, yes/no."""
    items = []
    for key, value in detail.items():
        if key == "duration_s" and isinstance(value, (int, float)) and not isinstance(value, bool):
            text = duration(value, lang)
        elif isinstance(value, bool):
            text = translate(lang, "yes" if value else "no")
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        elif value is None:
            text = "–"
        else:
            text = str(value)
        items.append((str(key)[:60], text if len(text) <= 200 else text[:199] + "…"))
    return items


def outage_stages(state: StateSnapshot) -> list[tuple[str, float | None]]:
    """(stage, time or None) of the current outage, in order; [] on mains."""
    if state.outage is None:
        return []
    return [(stage, getattr(state.outage, stage)) for stage in STAGES]


def summary(entries: list[SiteEntry]) -> tuple[int, int]:
    """(sites, sites that are not ready)."""
    return len(entries), sum(1 for e in entries if status(e) != "ready")
