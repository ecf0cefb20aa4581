"""What the edge knows of the meeting PCs: online or not, in a meeting, converting. Pure.

Part of the room core (``edge.room.step`` calls it): no I/O, times passed in. The meeting and
conversion events are the data of ``siaga report`` (CONTRACT §5.1): when the rooms are used and
how long a PC needs to convert a recording.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from protocol.messages import AgentStatus, EventKind

Events = list[tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class PcReport:
    """What the edge knows of one expected PC; times are the edge's wall clock."""

    id: str
    available: bool | None = None    # last availability message; None = never heard
    last_seen: float | None = None   # when its last status arrived
    status: AgentStatus | None = None


class PcWatch(NamedTuple):
    """The expected PCs as the core remembers them between ticks."""

    online: frozenset[str] = frozenset()
    known: frozenset[str] = frozenset()       # PCs whose online state has been decided once
    meetings: frozenset[str] = frozenset()    # meeting_app true (and online)
    converting: frozenset[str] = frozenset()  # converting true (and online)
    heard: tuple[tuple[str, float, float], ...] = ()  # (pc, last_seen, monotonic when new)


ACTIVITY = (("meeting_app", "meetings", EventKind.MEETING_STARTED, EventKind.MEETING_ENDED),
            ("converting", "converting", EventKind.CONVERSION_STARTED, EventKind.CONVERSION_ENDED))
ACTIVITY_KINDS = tuple(k.value for a in ACTIVITY for k in a[2:])


def watch_pcs(prev: PcWatch, reports: tuple[PcReport, ...], expected: tuple[str, ...], now: float,
              clock: float, up_for_s: float, offline_after_s: float, events: Events) -> PcWatch:
    """Which expected PCs are online, in a meeting, converting; journal each change.

    ``now`` is the wall clock, ``clock`` the monotonic one; ``up_for_s`` is how long the edge
    has run: a PC never heard is called offline only after the grace period.
    """
    by_id = {p.id: p for p in reports}
    heard = _heard(prev, by_id, now, clock)
    online, known = set(), set(prev.known)
    for pc in expected:
        r = by_id.get(pc, PcReport(pc))
        is_online = (r.available is not False and pc in heard
                     and clock - heard[pc][1] <= offline_after_s)
        if is_online:
            online.add(pc)
        decided = is_online or r.available is False or up_for_s >= offline_after_s
        if decided and (pc not in known or is_online != (pc in prev.online)):
            events.append((EventKind.PC_ONLINE if is_online else EventKind.PC_OFFLINE, {"pc": pc}))
            known.add(pc)
    meetings, converting = _activity(prev, by_id, expected, frozenset(online), frozenset(known), events)
    return PcWatch(frozenset(online), frozenset(known), meetings, converting,
                   heard=tuple((pc, seen, at) for pc, (seen, at) in sorted(heard.items())))


def open_activity(latest: list) -> PcWatch:
    """The meetings and conversions the journal shows still open (``latest``: newest first),
    so a restarted edge journals no second ``meeting_started`` for a meeting that went on."""
    sets: dict[str, set[str]] = {"meetings": set(), "converting": set()}
    for _, field, started, ended in ACTIVITY:
        seen = set()
        for e in latest:
            pc = e.detail.get("pc")
            if e.kind in (started, ended) and isinstance(pc, str) and pc not in seen:
                seen.add(pc)
                if e.kind == started:
                    sets[field].add(pc)
    return PcWatch(meetings=frozenset(sets["meetings"]), converting=frozenset(sets["converting"]))


def _heard(prev: PcWatch, by_id: dict[str, PcReport], now: float,
           clock: float) -> dict[str, tuple[float, float]]:
    """When each PC was last heard, on the monotonic clock. ``last_seen`` is wall clock (the bus
    stamps it): a new value means a status came since the last tick, so it is "now"; only a
    value seen for the first time (a retained status at start) is aged by the wall clock. A
    wall-clock step thus never makes a PC look offline (nor its meeting end)."""
    before = {pc: (seen, at) for pc, seen, at in prev.heard}
    out = {}
    for pc, r in by_id.items():
        if r.last_seen is None:
            continue
        old = before.get(pc)
        if old is not None and old[0] == r.last_seen:
            out[pc] = old
        elif old is not None:
            out[pc] = (r.last_seen, clock)
        else:
            out[pc] = (r.last_seen, clock - max(0.0, now - r.last_seen))
    return out


def _activity(prev: PcWatch, by_id: dict[str, PcReport], expected: tuple[str, ...],
              online: frozenset[str], known: frozenset[str], events: Events) -> tuple[frozenset[str], ...]:
    """Meetings and conversions; a PC that goes offline ends both (it cannot tell us more).
    A PC not heard from yet since the edge started keeps what the journal said (``resume``)."""
    out = []
    for attr, field, started, ended in ACTIVITY:
        was = getattr(prev, field)
        now = frozenset(pc for pc in expected if (pc in online and by_id.get(pc)
                        and by_id[pc].status is not None and getattr(by_id[pc].status, attr))
                        or (pc in was and pc not in online and pc not in known))
        for pc in expected:
            if pc in now and pc not in was:
                events.append((started, {"pc": pc, **_how(started, by_id.get(pc))}))
            elif pc in was and pc not in now:
                events.append((ended, {"pc": pc}))
        out.append(now)
    return tuple(out)


def _how(kind: EventKind, report: PcReport | None) -> dict[str, Any]:
    """``meeting_started`` says which app and by what (§6.2); None from an agent before v1.2."""
    if kind is not EventKind.MEETING_STARTED:
        return {}
    meeting = report.status.meeting if report and report.status else None
    return {"app": meeting.app if meeting else None, "by": meeting.by if meeting else None}
