"""What the edge knows of the meeting PCs: online or not, in a meeting, converting. Pure.

Part of the room core (``edge.room.step`` calls it): no I/O, times passed in. The meeting and
conversion events are the data of ``siaga report`` (CONTRACT §5.1): when the rooms are used and
how long a PC needs to convert a recording.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from edge.messages import AgentStatus, EventKind

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


ACTIVITY = (("meeting_app", "meetings", EventKind.MEETING_STARTED, EventKind.MEETING_ENDED),
            ("converting", "converting", EventKind.CONVERSION_STARTED, EventKind.CONVERSION_ENDED))


def watch_pcs(prev: PcWatch, reports: tuple[PcReport, ...], expected: tuple[str, ...], now: float,
              up_for_s: float, offline_after_s: float, events: Events) -> PcWatch:
    """Which expected PCs are online, in a meeting, converting; journal each change.

    ``now`` is the wall clock (``last_seen`` is stamped with it); ``up_for_s`` is how long the
    edge has run (monotonic): a PC never heard is called offline only after the grace period.
    """
    by_id = {p.id: p for p in reports}
    online, known = set(), set(prev.known)
    for pc in expected:
        r = by_id.get(pc, PcReport(pc))
        is_online = (r.available is not False and r.last_seen is not None
                     and now - r.last_seen <= offline_after_s)
        if is_online:
            online.add(pc)
        decided = is_online or r.available is False or up_for_s >= offline_after_s
        if decided and (pc not in known or is_online != (pc in prev.online)):
            events.append((EventKind.PC_ONLINE if is_online else EventKind.PC_OFFLINE, {"pc": pc}))
            known.add(pc)
    active = _activity(prev, by_id, expected, frozenset(online), events)
    return PcWatch(frozenset(online), frozenset(known), *active)


def _activity(prev: PcWatch, by_id: dict[str, PcReport], expected: tuple[str, ...],
              online: frozenset[str], events: Events) -> tuple[frozenset[str], ...]:
    """Meetings and conversions; a PC that goes offline ends both (it cannot tell us more)."""
    out = []
    for attr, field, started, ended in ACTIVITY:
        was = getattr(prev, field)
        now = frozenset(pc for pc in expected if pc in online and by_id.get(pc)
                        and by_id[pc].status is not None and getattr(by_id[pc].status, attr))
        for pc in expected:
            if pc in now and pc not in was:
                events.append((started, {"pc": pc}))
            elif pc in was and pc not in now:
                events.append((ended, {"pc": pc}))
        out.append(now)
    return tuple(out)
