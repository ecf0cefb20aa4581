"""Journal events as sentences people read, and what became of a command sent from the page.

Pure functions over ``JournalEvent`` (protocol/messages.py): every ``EventKind`` has a sentence with
its values in the page's language ("Listrik PLN padam. Sisa daya UPS 9 mnt, muatan 92 %,
beban 38 %"), never a dump of detail keys; what an agent answers (``pc_ack.detail``) is read
back into words too. A failure (``ok: false``) is marked as one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from dashboard.texts.i18n import duration, has_text, minutes_long, number, percent, translate
from dashboard.web.present import reason_text, ups_status
from protocol.messages import EventKind, JournalEvent

MAX_TEXT = 200
# What the agent writes in an ack's detail (agent/main.py `_plan`, the OBS wrap-up) -> key.
ACK_WORDS = {
    "banner": "ack_banner", "no display: logged only": "ack_no_display",
    "banner off: logged only": "ack_banner_off", "shutdown already pending": "ack_shutdown_pending",
    "wrap-up command started": "ack_wrapup_started", "no wrapup_command configured": "ack_no_wrapup",
    "shutdown cancelled": "ack_shutdown_cancelled", "nothing to cancel": "ack_nothing_to_cancel",
    "already handled": "ack_already_handled", "expired": "ack_expired", "": "ack_none",
}
ACK_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"shutdown in (?P<n>\d+(?:\.\d+)?) s"), "ack_shutdown_in"),
    (re.compile(r"rejected: (?P<x>.+)", re.S), "ack_rejected"),
    (re.compile(r"saved (?P<file>.+), (?P<size>\d+(?:\.\d+)? ?[KMGT]?i?B)", re.S), "ack_saved"),
    (re.compile(r"saved (?P<file>.+)", re.S), "ack_saved_file"),
)


@dataclass(frozen=True)
class EventRow:
    """One line of the events table."""

    seq: int
    ts: float
    text: str
    failed: bool


def clip(value: Any) -> str:
    """A value from the wire as short text."""
    text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


def failed(event: JournalEvent) -> bool:
    """True when the event reports something that did not work (``ok: false``)."""
    return event.detail.get("ok") is False


def ack_text(detail: Any, lang: str) -> str:
    """An agent's ack detail in words: "nothing to cancel" -> "tidak ada yang dibatalkan"."""
    raw = clip(detail if detail is not None else "").strip()
    if raw in ACK_WORDS:
        return translate(lang, ACK_WORDS[raw])
    for pattern, key in ACK_PATTERNS:
        match = pattern.fullmatch(raw)
        if match:
            values = match.groupdict()
            if "n" in values:
                values["n"] = number(float(values["n"]), lang)
            if "size" in values:
                values["size"] = _size(values["size"], lang)
            return translate(lang, key, **values)
    return translate(lang, "ack_says", x=raw)


def _size(text: str, lang: str) -> str:
    """"1.2 GB" written the page's way ("1,2 GB")."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?) ?(.*)", text)
    if not match:
        return text
    digits = len(match.group(1).partition(".")[2])
    return f"{number(float(match.group(1)), lang, digits)} {match.group(2)}"


def power_clause(detail: dict[str, Any], lang: str) -> str:
    """"Sisa daya UPS 9 mnt, muatan 92 %, beban 38 %": the values the event carries."""
    parts = []
    if _num(detail.get("runtime_s")) is not None:
        parts.append(("power_runtime", {"runtime": minutes_long(detail["runtime_s"], lang)}))
    if _num(detail.get("charge_pct")) is not None:
        parts.append(("power_charge", {"charge": percent(detail["charge_pct"], lang)}))
    if _num(detail.get("load_pct")) is not None:
        parts.append(("power_load", {"load": percent(detail["load_pct"], lang)}))
    text = ", ".join(translate(lang, key, **values) for key, values in parts)
    return text[:1].upper() + text[1:] + "." if text else ""


def _num(value: Any) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _by(value: Any, lang: str) -> str:
    key = f"by_{value}"
    return translate(lang, key) if has_text(key) else translate(lang, "by_other", by=clip(value))


def _command(value: Any, lang: str) -> str:
    key = f"cmd_{value}"
    return translate(lang, key) if has_text(key) else clip(value)


def _why(value: Any, lang: str) -> str:
    key = f"why_{value}"
    return translate(lang, key) if value and has_text(key) else ""


def _nut_reason(detail: dict[str, Any], lang: str) -> str:
    key = f"nut_{detail.get('reason')}"
    return translate(lang, key) if has_text(key) else clip(detail.get("detail") or detail.get("reason") or "?")


def _values(event: JournalEvent, lang: str) -> dict[str, str]:
    """Every placeholder a sentence may use, from the event's detail."""
    d = event.detail
    return {
        "pc": clip(d.get("pc", "?")), "pcs": clip(d.get("pcs") or d.get("pc") or "–"), "ups": clip(d.get("ups", "?")),
        "status": clip(ups_status(str(d.get("status") or "?"), lang)), "why": _why(d.get("why"), lang),
        "duration": duration(_num(d.get("duration_s")), lang), "by": _by(d.get("by"), lang),
        "command": _command(d.get("kind"), lang), "answer": ack_text(d.get("detail"), lang),
        "reason": _nut_reason(d, lang), "runtime": minutes_long(_num(d.get("runtime_s")), lang),
        "before": minutes_long(_num(d.get("from_s")), lang),
        "from_seq": clip(d.get("from_seq", "?")), "to_seq": clip(d.get("to_seq", "?")),
        "meeting": clip(d.get("meeting", "?")),
        "problems": clip("; ".join(reason_text(str(p), lang) for p in d.get("problems") or ())
                         if isinstance(d.get("problems"), list) else "?"),
    }


# Which sentence variant an event takes, when one kind has more than one.
VARIANTS: dict[str, Callable[[JournalEvent, frozenset[str]], str]] = {
    EventKind.EDGE_STARTED: lambda e, off: ("_resumed" if e.detail.get("resumed_outage") else "")
    + ("_unsynced" if e.detail.get("clock_synced") is False else ""),
    EventKind.PC_ACK: lambda e, off: "_failed" if failed(e) else "",
    EventKind.UPS_SELFTEST: lambda e, off: "_failed" if failed(e) else "",
    EventKind.CANCEL_SENT: lambda e, off: "_off" if _all_off(e, off) else "",
}
WITH_POWER = {EventKind.POWER_LOST, EventKind.LOW_BATTERY, EventKind.NOTICE_SENT,
              EventKind.WRAPUP_SENT, EventKind.SHUTDOWN_SENT, EventKind.SHUTDOWN_HELD}


def _all_off(event: JournalEvent, off: frozenset[str]) -> bool:
    pcs = event.detail.get("pcs")
    return isinstance(pcs, list) and bool(pcs) and all(str(pc) in off for pc in pcs)


def sentence(event: JournalEvent, lang: str, off: frozenset[str] = frozenset()) -> str:
    """The event as a sentence in ``lang``; ``off``: PCs known to have shut down at that time."""
    key = f"ev_{event.kind}"
    if not has_text(key):
        return translate(lang, "ev_unknown", kind=clip(event.kind))
    variant = VARIANTS.get(event.kind)
    key += variant(event, off) if variant else ""
    text = translate(lang, key, **_values(event, lang))
    if event.kind in WITH_POWER:
        text = f"{text} {power_clause(event.detail, lang)}".strip()
    return text


def bookkeeping(event: JournalEvent) -> bool:
    """True for the system's own housekeeping (events sent again to the dashboard, and the
    command that asked for it): nothing happened in the room, so staff do not see it (the CSV
    and the API still list it)."""
    return event.kind == EventKind.REPLAYED or (
        event.kind == EventKind.COMMAND and event.detail.get("kind") == "replay")


def rows(events: list[JournalEvent], lang: str) -> list[EventRow]:
    """The events table (newest first, as given): each event's sentence and whether it failed.

    Walks the events oldest first to know which PCs had shut down, so a cancel sent to a PC that
    was already off says so.
    """
    off: set[str] = set()
    out = []
    for event in reversed(events):
        pc = str(event.detail.get("pc", ""))
        if not bookkeeping(event):
            out.append(EventRow(event.seq, event.ts, sentence(event, lang, frozenset(off)), failed(event)))
        if event.kind == EventKind.PC_OFF:
            off.add(pc)
        elif event.kind == EventKind.PC_ONLINE:
            off.discard(pc)
    return out[::-1]


# The outage's stages and the PC command each one sent.
STAGE_COMMANDS = {"notice_sent": "notice", "wrapup_sent": "wrapup", "shutdown_sent": "shutdown"}
# Acks that say the PC took the command but no person saw it.
UNSEEN = {"no display: logged only", "banner off: logged only"}


def stage_answers(events: list[JournalEvent], started: float,
                  lang: str) -> dict[str, list[tuple[str, str]]]:
    """What each PC answered to the current outage's commands: stage -> [(sentence, how)], how
    "ok", "unseen" (taken, but only logged: nobody was told) or "failed"; the newest answer per PC."""
    latest: dict[tuple[str, str], JournalEvent] = {}
    for event in reversed(events):   # oldest first: the newest answer wins
        if event.kind == EventKind.PC_ACK and event.ts >= started - 1:
            latest[(str(event.detail.get("kind")), str(event.detail.get("pc", "?")))] = event
    out: dict[str, list[tuple[str, str]]] = {}
    for stage, kind in STAGE_COMMANDS.items():
        for (acked, pc), event in latest.items():
            if acked == kind:
                how = ("failed" if failed(event) else
                       "unseen" if clip(event.detail.get("detail", "")).strip() in UNSEEN else "ok")
                text = translate(lang, "stage_answer", pc=clip(pc),
                                 answer=ack_text(event.detail.get("detail"), lang))
                out.setdefault(stage, []).append((text, how))
    return out


def command_outcome(kind: str, command_id: str, events: list[JournalEvent],
                    lang: str) -> tuple[str, str]:
    """(state, sentence) of a command sent from the page, from the room's newest events:
    ``sent`` (not journaled yet), ``received``, ``done`` or ``failed``."""
    oldest_first = list(reversed(events))
    at = next((i for i, e in enumerate(oldest_first) if e.kind == EventKind.COMMAND
               and e.detail.get("id") == command_id), None)
    if at is None:
        return "sent", translate(lang, "outcome_sent")
    after = oldest_first[at + 1:]
    if kind == "test_indicator":
        return "done", translate(lang, "outcome_indicator")
    wanted = {"silence": lambda e: e.kind == EventKind.SILENCED,
              "ups_selftest": lambda e: e.kind == EventKind.UPS_SELFTEST,
              "test_notice": lambda e: e.kind == EventKind.PC_ACK and e.detail.get("kind") == "test"}
    results = [e for e in after if wanted.get(kind, lambda e: False)(e)]
    if not results:
        return "received", translate(lang, "outcome_received")
    text = " ".join(sentence(e, lang) for e in results)
    return ("failed" if any(failed(e) for e in results) else "done"), text
