"""Pure helpers that turn a site's state into what a page shows: order, colours, sentences."""

from __future__ import annotations

from dashboard.store.entry import SiteEntry
from dashboard.texts.i18n import has_text, minutes_long, translate
from protocol.looks import look
from protocol.messages import StateSnapshot

# Problems first: an outage in progress, then what IT must fix, then silence, then the fine ones.
# "pc_off" is the shutdown state once the PC has really gone off (CONTRACT §5.1 `pc_off`).
RANK = {"shutdown": 0, "wrapup": 1, "pc_off": 2, "on_battery": 3, "fault": 4, "stale": 5,
        "attention": 6, "ready": 7}
LEDS = ("green", "amber", "red", "off")
PATTERNS = ("solid", "blink", "fast_blink", "off")
BUZZES = ("off", "outage", "wrapup", "shutdown", "restored")
STAGES = ("started", "notice_sent", "wrapup_sent", "shutdown_sent", "pc_off")


def pc_off_at(state: StateSnapshot) -> float | None:
    """When the PC was really off in the current outage (the snapshot's ``outage.pc_off``)."""
    return None if state.outage is None else getattr(state.outage, "pc_off", None)


def status(entry: SiteEntry) -> str:
    """The room state; "stale" when the edge has gone quiet; "pc_off" once a shutdown is done."""
    if entry.stale:
        return "stale"
    if entry.state.room == "shutdown" and pc_off_at(entry.state) is not None:
        return "pc_off"
    return entry.state.room


def worst(entries: list[SiteEntry]) -> tuple[str, str]:
    """(colour, pattern) of the room that needs IT most: the header's dot; dark without rooms."""
    if not entries:
        return "off", "off"
    return card_led(min(entries, key=rank))


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
    """(colour, pattern) of the card's dot: the LED on the wall for this state (protocol/looks.py);
    dark for "stale" (no news: what the wall shows is unknown)."""
    shown = look(status(entry))
    return shown.led.value, shown.pattern.value


def indicator(state: StateSnapshot) -> tuple[str, str, str, bool]:
    """(led, pattern, buzzer, silenced) as the room shows them; unknown words become "off"."""
    ind = state.indicator
    return (ind.led if ind.led in LEDS else "off", ind.pattern if ind.pattern in PATTERNS else "off",
            ind.buzzer if ind.buzzer in BUZZES else "off", ind.silenced)


def pcs_online(state: StateSnapshot) -> tuple[int, int]:
    """(PCs online, PCs expected)."""
    return sum(1 for pc in state.pcs if pc.online), len(state.pcs)


def ups_status(status: str, lang: str) -> str:
    """NUT's ``ups.status`` ("OB DISCHRG") in words ("memakai baterai, baterai terpakai"); a flag
    without words stays as NUT wrote it."""
    words = [translate(lang, f"ups_flag_{flag}") if has_text(f"ups_flag_{flag}") else flag
             for flag in status.split()]
    return ", ".join(words) or "–"


def reason_text(reason: str, lang: str) -> str:
    """``pc_offline:meeting-pc`` (or ``battery_low:meeting:62``) as a sentence; an unknown
    reason as it is."""
    code, _, subject = reason.partition(":")
    x, _, y = subject.partition(":")
    key = f"reason_{code}"
    if code == "runtime_low":   # seconds, in the one duration format
        x = minutes_long(float(x), lang) if x.replace(".", "", 1).isdigit() else x
    return translate(lang, key, x=x, y=y) if has_text(key) else reason


def fix_text(problem: str, lang: str) -> str:
    """What staff or IT do about a problem before a meeting (``fix_<code>``; else: tell IT)."""
    key = f"fix_{problem.partition(':')[0]}"
    return translate(lang, key if has_text(key) else "fix_other")


def top_reason(entry: SiteEntry, lang: str) -> str:
    """Why the room is in its state, as one sentence: its first reason, or the UPS runtime left
    during an outage; "" when there is nothing to say."""
    state = entry.state
    if state.reasons:
        return reason_text(state.reasons[0], lang)
    if state.outage is not None and state.power.runtime_s is not None:
        return translate(lang, "power_runtime", runtime=minutes_long(state.power.runtime_s, lang))
    return ""


def outage_stages(state: StateSnapshot) -> list[tuple[str, float | None]]:
    """(stage, time or None) of the current outage, in order; [] on mains."""
    if state.outage is None:
        return []
    stages = [(stage, getattr(state.outage, stage, None)) for stage in STAGES]
    # "PC off" only once a shutdown was sent: before that it is not a stage still to come.
    return stages if state.outage.shutdown_sent is not None else stages[:-1]


def summary(entries: list[SiteEntry]) -> tuple[int, int]:
    """(sites, sites that are not ready)."""
    return len(entries), sum(1 for e in entries if status(e) != "ready")
