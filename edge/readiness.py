"""Ready before the meeting (CONTRACT §6.3): is the room fit for its next booking? Pure.

Part of the room core (``edge.room.step`` calls ``check``): no I/O, the time passed in.
``policy.ready_before_s`` before a booked meeting the room is checked: each UPS feeding the PC
charged to ``ready_min_charge_pct``, a runtime (measured where Siaga learned one: the runtime
the stages use) long enough to reach the wrap-up with ``RUNTIME_MARGIN_S`` of meeting left, every
expected PC online and not converting a recording, disk above its low mark, nothing the room
already needs IT for. Inside that window a problem makes the room ``attention`` (amber) and is
journaled once per meeting as ``not_ready``; fixed before the start, ``ready_again`` says so.
When a booked meeting begins, ``booking`` is journaled once: the report counts the schedule
from these (the dashboard never reads the calendar itself).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, NamedTuple

from edge.bookings import Booking
from protocol.config.pi import READY_RUNTIME_MARGIN_S
from protocol.messages import EventKind, JournalEvent, NextMeeting

RUNTIME_MARGIN_S = READY_RUNTIME_MARGIN_S
# Bookings older than this are forgotten by the watch (it only has to outlive a meeting).
FORGET_AFTER_S = 2 * 86400.0
# Room reasons that are no problem for a meeting: a self-test ends within a minute; an
# unreadable calendar is the schedule's problem, not the room's (the reason says it; a meeting
# of a stale copy may not even be booked any more: "not ready" for it would be a second false word).
HARMLESS = ("self_test:", "calendar_unreadable")

Key = tuple[float, str]
# The journal events a restarted edge reads back, so it does not say them twice.
WATCH_KINDS = (EventKind.NOT_READY.value, EventKind.READY_AGAIN.value, EventKind.BOOKING.value)
Events = list[tuple[str, dict[str, Any]]]


class RoomFacts(NamedTuple):
    """What the core knows now that readiness looks at."""

    reasons: tuple[str, ...]                      # the room's own (pc_offline, disk_low, ...)
    charges: tuple[tuple[str, float | None], ...]  # (ups, charge %) of the UPSes feeding the PC
    runtime_s: float | None                        # the runtime the stages use (learned or claimed)
    converting: frozenset[str]


@dataclass(frozen=True)
class MeetingWatch:
    """The bookings the core has spoken of, so each event goes out once per meeting."""

    warned: frozenset[Key] = frozenset()      # not_ready journaled
    again: frozenset[Key] = frozenset()       # ready_again journaled
    begun: frozenset[Key] = frozenset()       # booking journaled


def resume(events: Iterable[JournalEvent]) -> MeetingWatch:
    """The watch after a restart, from the journal's recent schedule events: a meeting already
    warned of, said ready again or journaled as begun is not spoken of again."""
    sets: dict[str, set[Key]] = {"warned": set(), "again": set(), "begun": set()}
    name = {EventKind.NOT_READY.value: "warned", EventKind.READY_AGAIN.value: "again",
            EventKind.BOOKING.value: "begun"}
    for e in events:
        start = e.detail.get("start")
        if e.kind in name and isinstance(start, (int, float)) and not isinstance(start, bool):
            sets[name[e.kind]].add((float(start), str(e.detail.get("meeting", ""))))
    return MeetingWatch(**{k: frozenset(v) for k, v in sets.items()})


def problems(facts: RoomFacts, min_charge_pct: float,
             wrapup_at_runtime_s: float) -> tuple[str, ...]:
    """Why the room is not ready for a meeting now, as machine-readable causes; () = ready."""
    found = [r for r in facts.reasons if not r.startswith(HARMLESS)]
    # Each number is judged as people read it, so a cause never contradicts the page: a charge
    # low only when it is below the minimum both as read and in the page's whole percent (79.6
    # is "80 %", not "80 %, too low for 80 %"; 62.5 meets "at least 62,5 %"), a
    # runtime in whole seconds rounded down as every runtime left is ("14 mnt", not "15").
    for ups, charge in facts.charges:
        if charge is not None and charge < min_charge_pct and round(charge) < min_charge_pct:
            found.append(f"battery_low:{ups}:{charge:.0f}")
    if facts.runtime_s is not None and facts.runtime_s < wrapup_at_runtime_s + RUNTIME_MARGIN_S:
        found.append(f"runtime_low:{math.floor(facts.runtime_s)}")
    found += [f"converting:{pc}" for pc in sorted(facts.converting)]
    return tuple(dict.fromkeys(found))


def upcoming(bookings: Iterable[Booking], now: float, ready_before_s: float = 0.0) -> Booking | None:
    """The meeting running now or else the next one (bookings sorted by start); the next one
    instead of a running one once it is ``ready_before_s`` away: back to back, its check is due
    while the one before still runs."""
    running = None
    for b in bookings:
        if b.end <= now:
            continue
        if b.start <= now:
            running = running or b
            continue
        return b if running is None or b.start - ready_before_s <= now else running
    return running


def check(prev: MeetingWatch, bookings: tuple[Booking, ...], now: float, facts: RoomFacts,
          ready_before_s: float, min_charge_pct: float, wrapup_at_runtime_s: float,
          events: Events) -> tuple[MeetingWatch, NextMeeting | None, tuple[str, ...]]:
    """(new watch, the next meeting as the state shows it, problems that make the room amber)."""
    watch = _begun(prev, bookings, now, events)
    booking = upcoming(bookings, now, ready_before_s)
    if booking is None:
        return watch, None, ()
    found = problems(facts, min_charge_pct, wrapup_at_runtime_s)
    view = NextMeeting(booking.title, booking.start, booking.end, not found, list(found))
    if not booking.start - ready_before_s <= now < booking.start:
        return watch, view, ()
    key = (booking.start, booking.title)
    detail = {"meeting": booking.title, "start": booking.start}
    if found and key not in watch.warned:
        events.append((EventKind.NOT_READY, {**detail, "problems": list(found)}))
        watch = _with(watch, warned=watch.warned | {key})
    elif not found and key in watch.warned and key not in watch.again:
        events.append((EventKind.READY_AGAIN, detail))
        watch = _with(watch, again=watch.again | {key})
    return watch, view, found


def _begun(prev: MeetingWatch, bookings: tuple[Booking, ...], now: float,
           events: Events) -> MeetingWatch:
    """Journal each booked meeting once as it begins; a booking already over is history."""
    begun = set(prev.begun)
    for b in bookings:
        if b.start > now:
            break
        key = (b.start, b.title)
        if b.end > now and key not in begun:
            events.append((EventKind.BOOKING, {"meeting": b.title, "start": b.start, "end": b.end}))
            begun.add(key)
    return _with(prev, begun=frozenset(begun), now=now)


def _with(watch: MeetingWatch, now: float | None = None, **sets: frozenset[Key]) -> MeetingWatch:
    """The watch with some sets replaced; with ``now``, old bookings forgotten."""
    fields = {"warned": watch.warned, "again": watch.again, "begun": watch.begun, **sets}
    if now is not None:
        fields = {k: frozenset(key for key in v if key[0] > now - FORGET_AFTER_S)
                  for k, v in fields.items()}
    return MeetingWatch(**fields)
