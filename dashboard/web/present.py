"""Pure helpers that turn a site's state into what a page shows: order, colours, sentences."""

from __future__ import annotations

from collections.abc import Iterable

from dashboard.store.entry import SiteEntry
from dashboard.texts import keys as keys
from dashboard.texts.i18n import minutes, minutes_long, percent, plural, translate
from protocol.looks import Buzz, Led, PC_OFF, Pattern, look
from protocol.messages import Room, StateSnapshot, UpsView
from protocol.outage_stages import (LOST, NOTICE, OUTAGE_STAGES, OutageStage, PCS_OFF, SHUTDOWN,
                                    WRAPUP)

STALE = "stale"
# A room dashboard.sites or dashboard.groups names that has never sent a state: no card of its
# own in the store; the overview shows one for it (dashboard/web/overview.py ``unseen``).
NEVER_SEEN = keys.NEVER_SEEN
# Problems first: an outage in progress, then what IT must fix, then rooms never heard from and
# silence, then the fine ones. "pc_off" is the shutdown state once the PC has really gone off
# (CONTRACT §5.1 `pc_off`).
RANK = {Room.SHUTDOWN.value: 0, Room.WRAPUP.value: 1, PC_OFF: 2, Room.ON_BATTERY.value: 3,
        Room.FAULT.value: 4, NEVER_SEEN: 5, STALE: 6, Room.ATTENTION.value: 7,
        Room.READY.value: 8}
LEDS = tuple(led.value for led in Led)
PATTERNS = tuple(pattern.value for pattern in Pattern)
BUZZES = tuple(buzz.value for buzz in Buzz)
# The page's line for each stage of the outage (protocol/outage_stages.py).
STAGE_TEXT = {LOST.id: "stage_started", NOTICE.id: "stage_notice_sent",
              WRAPUP.id: "stage_wrapup_sent", SHUTDOWN.id: "stage_shutdown_sent",
              PCS_OFF.id: "stage_pc_off"}


def pc_off_at(state: StateSnapshot) -> float | None:
    """When the PC was really off in the current outage (the snapshot's ``outage.pc_off``)."""
    return None if state.outage is None else getattr(state.outage, "pc_off", None)


def status(entry: SiteEntry) -> str:
    """The room state; "stale" when the edge has gone quiet; "pc_off" once a shutdown is done;
    "never_seen" for the overview's stand-in of a room that never reported.
    Read from the entry's data, not its snapshot: on a shared database most entries came as JSON
    from another dashboard, and the header's worst state looks at every room (0.3 ms each to
    build, at 30,000 rooms)."""
    if entry.stale:
        return STALE
    data = entry.data
    room = data["room"]
    if room == Room.SHUTDOWN:
        outage = data.get("outage")
        if isinstance(outage, dict) and outage.get("pc_off") is not None:
            return PC_OFF
    return room


def worst(entries: list[SiteEntry]) -> tuple[str, str]:
    """(colour, pattern) of the room that needs IT most: the header's dot; dark without rooms."""
    if not entries:
        return "off", "off"
    return card_led(min(entries, key=rank))


def worst_of(statuses: Iterable[str]) -> tuple[str, str]:
    """``worst`` of rooms in these states (``status``); dark without any."""
    found = list(statuses)
    if not found:
        return "off", "off"
    shown = look(min(found, key=lambda s: RANK.get(s, len(RANK))))
    return shown.led.value, shown.pattern.value


def rank(entry: SiteEntry) -> int:
    """Where the site goes on the overview: lower is more urgent."""
    return RANK.get(status(entry), len(RANK))


def display_name(state: StateSnapshot) -> str:
    """The site's name, or its id when it has none."""
    return state.name.strip() or state.site


def entry_name(entry: SiteEntry) -> str:
    """``display_name`` of the entry's snapshot, read from its data (see ``status``)."""
    name = entry.data.get("name")
    return (name.strip() if isinstance(name, str) else "") or entry.site


def sort_for_overview(entries: list[SiteEntry]) -> list[SiteEntry]:
    """Problems first, then by name."""
    return sorted(entries, key=lambda e: (rank(e), entry_name(e).lower(), e.site))


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


def power_source(state: StateSnapshot) -> str:
    """The card's "power" word (a text key): "battery", "mains", or "unreadable" when no UPS
    feeding the PC can be read. An outage the edge keeps open while the room's UPSes say nothing
    (edge/stages.py track_outage) has ``power.on_battery`` false: that is not mains."""
    if state.power.on_battery:
        return "battery"
    if state.outage is not None or (state.ups and not any(u.reachable for u in state.ups)):
        return "unreadable"
    return "mains"


def pcs_online(state: StateSnapshot) -> tuple[int, int]:
    """(PCs online, PCs expected)."""
    return sum(1 for pc in state.pcs if pc.online), len(state.pcs)


def ups_status(status: str, lang: str) -> str:
    """NUT's ``ups.status`` ("OB DISCHRG") in words ("memakai baterai, baterai terpakai"); a flag
    without words stays as NUT wrote it."""
    words = [translate(lang, keys.UPS_FLAG[flag]) if flag in keys.UPS_FLAG else flag
             for flag in status.split()]
    return ", ".join(words) or "–"


def reason_text(reason: str, lang: str) -> str:
    """``pc_offline:meeting-pc`` (or ``battery_low:meeting:62``) as a sentence; an unknown
    reason as it is."""
    code, _, subject = reason.partition(":")
    x, _, y = subject.partition(":")
    if code == "runtime_low":   # seconds, in the one duration format
        x = minutes_long(float(x), lang) if x.replace(".", "", 1).isdigit() else x
    return translate(lang, keys.REASON[code], x=x, y=y) if code in keys.REASON else reason


def fix_text(problem: str, lang: str) -> str:
    """What staff or IT do about a problem before a meeting (else: tell IT)."""
    return translate(lang, keys.FIX.get(problem.partition(":")[0], "fix_other"))


def top_reason(entry: SiteEntry, lang: str) -> str:
    """Why the room is in its state, as one sentence: its first reason, or the UPS runtime left
    during an outage; "" when there is nothing to say."""
    state = entry.state
    if state.reasons:
        return reason_text(state.reasons[0], lang)
    if state.outage is not None and state.power.runtime_s is not None:
        return translate(lang, "power_runtime", runtime=minutes_long(state.power.runtime_s, lang))
    return ""


def outage_stages(state: StateSnapshot) -> list[tuple[OutageStage, str, float | None]]:
    """(stage, its text key, time or None) of the current outage, in order; [] on mains."""
    if state.outage is None:
        return []
    stages = [(stage, STAGE_TEXT[stage.id], getattr(state.outage, stage.field, None))
              for stage in OUTAGE_STAGES]
    # "PC off" only once a shutdown was sent: before that it is not a stage still to come.
    return stages if state.outage.shutdown_sent is not None else stages[:-1]


def summary(entries: list[SiteEntry]) -> tuple[int, int]:
    """(sites, sites that are not ready)."""
    return len(entries), sum(1 for e in entries if status(e) != Room.READY)
    return len(entries), sum(1 for e in entries if status(e) != "ready")


def runtime_measured(ups: UpsView, lang: str) -> str:
    """"meeting: klaim 25 mnt, terukur 11 mnt pada beban 35 % (3 pemadaman)"; "" before the
    UPS was measured (CONTRACT §6.1: Siaga believes the measurement, the page shows both)."""
    measured = getattr(ups, "runtime_learned_s", None)
    if measured is None:
        return ""
    cuts = getattr(ups, "runtime_discharges", None)
    values = {"ups": ups.name, "measured": minutes(measured, lang), "load": percent(ups.load_pct, lang),
              "cuts": plural(lang, "cuts", cuts) if cuts else "?"}
    if ups.runtime_s is None:
        return translate(lang, "runtime_measured_no_claim", **values)
    return translate(lang, "runtime_measured", claimed=minutes(ups.runtime_s, lang), **values)
