"""Journal events as sentences people read, and what became of a command sent from the page.

Pure functions over ``JournalEvent`` (protocol/messages.py): every ``EventKind`` has a sentence with
its values in the page's language ("Listrik PLN padam. Sisa daya UPS 9 mnt, muatan 92 %,
beban 38 %"), never a dump of detail keys; what an agent answers (``pc_ack.detail``) is read
back into words too. A failure (``ok: false``) is marked as one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from dashboard.texts import keys
from dashboard.texts.i18n import duration, minutes_long, number, percent, plural, translate
from dashboard.web.present import reason_text, ups_status
from protocol.messages import (NOT_OFF_CODES, AckCode, EdgeCommandKind, EventKind, JournalEvent,
                               PcCommandKind)
from protocol.outage_stages import COMMAND_STAGES
from protocol.texts import ack_sentence, size_parts

MAX_TEXT = 200
# Acks from agents older than the codes (and such acks already in a journal) carry only their
# English ``detail``: read back as the code it stands for, so they keep reading as they did.
LEGACY_ACK_WORDS = {
    "banner": AckCode.BANNER, "no display: logged only": AckCode.NO_DISPLAY_LOGGED,
    "banner off: logged only": AckCode.BANNER_OFF_LOGGED,
    "shutdown already pending": AckCode.SHUTDOWN_PENDING,
    "wrap-up command started": AckCode.WRAPUP_STARTED,
    "no wrapup_command configured": AckCode.NO_WRAPUP_COMMAND,
    "shutdown cancelled": AckCode.SHUTDOWN_CANCELLED, "nothing to cancel": AckCode.NOTHING_TO_CANCEL,
    "already handled": AckCode.ALREADY_HANDLED, "expired": AckCode.EXPIRED,
}
LEGACY_ACK_PATTERNS: tuple[tuple[re.Pattern[str], AckCode], ...] = (
    (re.compile(r"shutdown in (?P<seconds>\d+(?:\.\d+)?) s"), AckCode.SHUTDOWN_IN),
    (re.compile(r"rejected: (?P<reason>.+)", re.S), AckCode.REJECTED),
    (re.compile(r"saved (?P<file>.+), (?P<size>\d+(?:\.\d+)? ?[KMGT]?i?B)", re.S), AckCode.SAVED),
    (re.compile(r"saved (?P<file>.+)", re.S), AckCode.SAVED),
)
# Answers that say the PC took the command but no person saw it.
UNSEEN = (AckCode.NO_DISPLAY_LOGGED, AckCode.BANNER_OFF_LOGGED)
# Answers that say a shutdown command ran and left the PC up (the agent's second ack).
NOT_OFF = NOT_OFF_CODES


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


def answer(ack: dict[str, Any], lang: str) -> str:
    """What a PC answered (a ``pc_ack`` event's detail) in words, in ``lang``: from its code
    and arguments (protocol/texts.py ACK_TEXTS); from its ``detail`` when it carries no code."""
    code, args = ack.get("code"), ack.get("args")
    if isinstance(code, str) and code and isinstance(args, dict):
        text = ack_sentence(code, lang, **_ack_values(args, lang))
        if text is not None:
            return text
    return ack_text(ack.get("detail"), lang)


def answer_code(ack: dict[str, Any]) -> str:
    """The ack's code; for an agent older than the codes, the code its detail stands for."""
    code = ack.get("code")
    if isinstance(code, str) and code:
        return code
    return LEGACY_ACK_WORDS.get(clip(ack.get("detail", "")).strip(), "")


def _ack_values(args: dict[str, Any], lang: str) -> dict[str, Any]:
    """An ack's arguments written for people: seconds and sizes the page's way."""
    values: dict[str, Any] = {k: clip(v) for k, v in args.items() if isinstance(k, str)}
    if _num(args.get("seconds")) is not None:
        values["seconds"] = number(args["seconds"], lang, 0 if float(args["seconds"]).is_integer()
                                   else 1)
        values["duration"] = duration(args["seconds"], lang)
    size = _num(args.get("size_bytes"))
    values["size"] = None if size is None else _bytes(int(size), lang)
    if "output" in args:   # what a failed command printed, quoted; nothing when it printed nothing
        said = clip(args["output"] or "").strip()
        values["output"] = f": \u201c{said}\u201d" if said else ""
    return values


def _bytes(size: int, lang: str) -> str:
    """1_200_000_000 -> "1,2 GB" (id) / "1.2 GB" (en), as the agent writes it in ``detail``."""
    value, digits, unit = size_parts(size)
    return f"{number(value, lang, digits)} {unit}"


def ack_text(detail: Any, lang: str) -> str:
    """An ack's detail from an agent older than the codes, in words: "nothing to cancel" ->
    "tidak ada yang dibatalkan"; a detail it does not know, quoted."""
    raw = clip(detail if detail is not None else "").strip()
    if not raw:
        return translate(lang, "ack_none")
    if raw in LEGACY_ACK_WORDS:
        return ack_sentence(LEGACY_ACK_WORDS[raw], lang) or raw
    for pattern, code in LEGACY_ACK_PATTERNS:
        match = pattern.fullmatch(raw)
        if match:
            values: dict[str, Any] = {"size": None, **match.groupdict()}
            if "seconds" in values:
                values["seconds"] = number(float(values["seconds"]), lang)
            if values["size"] is not None:
                values["size"] = _size(values["size"], lang)
            return ack_sentence(code, lang, **values) or raw
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
    """A detail's number, or None when it holds none (a NaN stored before decoding refused it)."""
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return value if is_number and math.isfinite(value) else None


def _by(value: Any, lang: str) -> str:
    if isinstance(value, str) and value in keys.BY:
        return translate(lang, keys.BY[value])
    return translate(lang, "by_other", by=clip(value))


def _command(value: Any, lang: str) -> str:
    return translate(lang, keys.COMMAND[value]) if _known(keys.COMMAND, value) else clip(value)


def _why(value: Any, lang: str) -> str:
    return translate(lang, keys.WHY[value]) if _known(keys.WHY, value) else ""


def _nut_reason(detail: dict[str, Any], lang: str) -> str:
    reason = detail.get("reason")
    if isinstance(reason, str) and reason in keys.NUT:
        return translate(lang, keys.NUT[reason])
    return clip(detail.get("detail") or reason or "?")


def _known(table: dict, word: Any) -> bool:
    return isinstance(word, str) and word in table


def _cuts(value: Any, lang: str) -> str:
    """"1 cut", "3 cuts" (Indonesian: "3 pemadaman"); what a bad detail holds, clipped."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return plural(lang, "cuts", value)
    return translate(lang, "cuts_other", n=clip("?" if value is None else value))


def _values(event: JournalEvent, lang: str) -> dict[str, str]:
    """Every placeholder a sentence may use, from the event's detail."""
    d = event.detail
    return {
        "pc": clip(d.get("pc", "?")), "pcs": clip(d.get("pcs") or d.get("pc") or "–"), "ups": clip(d.get("ups", "?")),
        "status": clip(ups_status(str(d.get("status") or "?"), lang)), "why": _why(d.get("why"), lang),
        "duration": duration(_num(d.get("duration_s")), lang), "by": _by(d.get("by"), lang),
        "age": duration(_num(d.get("age_s")), lang),
        "command": _command(d.get("kind"), lang), "answer": answer(d, lang),
        "reason": _nut_reason(d, lang), "runtime": minutes_long(_num(d.get("runtime_s")), lang),
        "before": minutes_long(_num(d.get("from_s")), lang),
        "from_seq": clip(d.get("from_seq", "?")), "to_seq": clip(d.get("to_seq", "?")),
        "rate": number(_num(d.get("rate_pct_per_min")), lang, 1),
        "load": percent(_num(d.get("load_pct")), lang), "discharges": _cuts(d.get("discharges"), lang),
        "meeting": clip(d.get("meeting", "?")), "app": clip(d.get("app") or "?"),
        "unreadable_for": duration(_since(event), lang), "problem": clip(d.get("problem") or "?"),
        "problems": clip("; ".join(reason_text(str(p), lang) for p in d.get("problems") or ())
                         if isinstance(d.get("problems"), list) else "?"),
    }


def _since(event: JournalEvent) -> float | None:
    """Seconds from the event's ``since`` to the event (calendar_unreadable)."""
    since = _num(event.detail.get("since"))
    return None if since is None else event.ts - since


# Which sentence an event takes, when one kind has more than one (dashboard/texts/keys.py).
VARIANTS: dict[str, Callable[[JournalEvent, frozenset[str]], str]] = {
    EventKind.EDGE_STARTED: lambda e, off: keys.EDGE_STARTED[
        (bool(e.detail.get("resumed_outage")), e.detail.get("clock_synced") is False)],
    EventKind.PC_ACK: lambda e, off: keys.EVENT[EventKind.PC_ACK] if not failed(e)
    else keys.PC_NOT_OFF if answer_code(e.detail) in NOT_OFF else keys.FAILED[EventKind.PC_ACK],
    EventKind.UPS_SELFTEST: lambda e, off: keys.FAILED[EventKind.UPS_SELFTEST] if failed(e)
    else keys.EVENT[EventKind.UPS_SELFTEST],
    EventKind.COMMAND: lambda e, off: keys.FAILED[EventKind.COMMAND] if failed(e)
    else keys.EVENT[EventKind.COMMAND],
    EventKind.CANCEL_SENT: lambda e, off: keys.CANCEL_SENT_OFF if _all_off(e, off)
    else keys.EVENT[EventKind.CANCEL_SENT],
    EventKind.MEETING_STARTED: lambda e, off: keys.MEETING_BY_PROCESS
    if e.detail.get("by") == "process" else keys.EVENT[EventKind.MEETING_STARTED],
}
WITH_POWER = {EventKind.POWER_LOST, EventKind.LOW_BATTERY, EventKind.NOTICE_SENT,
              EventKind.WRAPUP_SENT, EventKind.SHUTDOWN_SENT, EventKind.SHUTDOWN_HELD}


def _all_off(event: JournalEvent, off: frozenset[str]) -> bool:
    pcs = event.detail.get("pcs")
    return isinstance(pcs, list) and bool(pcs) and all(str(pc) in off for pc in pcs)


def sentence(event: JournalEvent, lang: str, off: frozenset[str] = frozenset()) -> str:
    """The event as a sentence in ``lang``; ``off``: PCs known to have shut down at that time."""
    if not _known(keys.EVENT, event.kind):
        return translate(lang, "ev_unknown", kind=clip(event.kind))
    variant = VARIANTS.get(event.kind)
    key = variant(event, off) if variant else keys.EVENT[event.kind]
    text = translate(lang, key, **_values(event, lang))
    if event.kind in WITH_POWER:
        text = f"{text} {power_clause(event.detail, lang)}".strip()
    return text


def bookkeeping(event: JournalEvent) -> bool:
    """True for the system's own housekeeping (events sent again to the dashboard, and the
    command that asked for it): nothing happened in the room, so staff do not see it (the CSV
    and the API still list it)."""
    return event.kind == EventKind.REPLAYED or (
        event.kind == EventKind.COMMAND and event.detail.get("kind") == EdgeCommandKind.REPLAY)


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
            out.append(EventRow(seq=event.seq, ts=event.ts,
                                text=sentence(event, lang, frozenset(off)), failed=failed(event)))
        if event.kind == EventKind.PC_OFF:
            off.add(pc)
        elif event.kind == EventKind.PC_ONLINE:
            off.discard(pc)
    return out[::-1]




def stage_answers(events: list[JournalEvent], started: float,
                  lang: str) -> dict[str, list[tuple[str, str]]]:
    """What each PC answered to the current outage's commands: stage -> [(sentence, how)], how
    "ok", "unseen" (taken, but only logged: nobody was told) or "failed"; the newest answer per PC."""
    latest: dict[tuple[str, str], JournalEvent] = {}
    for event in reversed(events):   # oldest first: the newest answer wins
        if event.kind == EventKind.PC_ACK and event.ts >= started - 1:
            latest[(str(event.detail.get("kind")), str(event.detail.get("pc", "?")))] = event
    out: dict[str, list[tuple[str, str]]] = {}
    for stage in COMMAND_STAGES:
        for (acked, pc), event in latest.items():
            if acked == stage.command:
                how = ("failed" if failed(event) else
                       "unseen" if answer_code(event.detail) in UNSEEN else "ok")
                text = translate(lang, "stage_answer", pc=clip(pc),
                                 answer=answer(event.detail, lang))
                out.setdefault(stage.field, []).append((text, how))
    return out


def command_outcome(kind: str, command_id: str, events: list[JournalEvent],
                    lang: str) -> tuple[str, str]:
    """(state, sentence) of a command sent from the page, from the room's newest events:
    ``sent`` (not journaled yet), ``received``, ``done`` or ``failed`` (refused by the room, or
    what it did failed)."""
    oldest_first = list(reversed(events))
    at = next((i for i, e in enumerate(oldest_first) if e.kind == EventKind.COMMAND
               and e.detail.get("id") == command_id), None)
    if at is None:
        return "sent", translate(lang, "outcome_sent")
    after = oldest_first[at + 1:]
    if failed(oldest_first[at]):   # the room refused it: too old when it arrived
        return "failed", sentence(oldest_first[at], lang)
    if kind == EdgeCommandKind.TEST_INDICATOR:
        return "done", translate(lang, "outcome_indicator")
    wanted: dict[str, Callable[[JournalEvent], bool]] = {
        EdgeCommandKind.SILENCE: lambda e: e.kind == EventKind.SILENCED,
        EdgeCommandKind.UPS_SELFTEST: lambda e: e.kind == EventKind.UPS_SELFTEST,
        EdgeCommandKind.TEST_NOTICE: lambda e: e.kind == EventKind.PC_ACK
        and e.detail.get("kind") == PcCommandKind.TEST}
    results = [e for e in after if wanted.get(kind, lambda e: False)(e)]
    if not results:
        return "received", translate(lang, "outcome_received")
    text = " ".join(sentence(e, lang) for e in results)
    return ("failed" if any(failed(e) for e in results) else "done"), text
