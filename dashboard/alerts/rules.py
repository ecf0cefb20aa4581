"""Which alerts IT gets (CONTRACT §5.5): a pure function of journal events, states and time.

``react(memory, item, now, rules)`` takes what the dashboard just heard about one site (a journal
event, a state snapshot, the site going stale or fresh, or the clock ticking) and returns the new
memory and the alerts to queue. No I/O, the time is passed in: table-tested in
tests/test_alert_rules.py.

An outage's alerts (lost, wrap-up, shutdown, PC off, a PC that did not shut down, restored) go
out once per outage (the last two once per PC), never
held back by ``alerts.quiet_repeat_s``: that guard (``held``, applied by the outbox in
dashboard/alerts/outbox.py) is for IT chores only (CONTRACT §5.5 v1.2). Each alert carries the time
its event happened; one that reaches us late (a replay, a dashboard start) says so.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Union

from protocol.messages import (NOT_OFF_CODES, EventKind, JournalEvent, PcCommandKind, Room,
                               StateSnapshot)
from protocol.outage_stages import NOTICE, PCS_OFF
from protocol.outage_stages import SHUTDOWN as SHUTDOWN_STAGE
from protocol.outage_stages import WRAPUP as WRAPUP_STAGE

UNREACHABLE_ALERT_AFTER_S = 60.0
# A room is silent to IT once its site has stayed stale this long: an edge stopping cleanly
# (``systemctl restart siaga-edge``, every room on an upgrade) says ``offline`` and is back in
# seconds; a Pi that is off or cut off stays stale.
SILENT_ALERT_AFTER_S = 60.0
# A room dashboard.sites or dashboard.groups names that has not reported this long after the
# dashboard started pages IT once ("never reported"): its Pi was never installed, has another
# site.id, or its bridge never connected. Not at once: a dashboard just started has heard no room.
NEVER_SEEN_ALERT_AFTER_S = 600.0
# An event older than this when it reaches the rules (replayed after an uplink cut, or heard
# at a dashboard's start) is late: it still goes out, once, marked late with its own time.
LATE_AFTER_S = 180.0
# Older than this it is history (a dashboard's first start on a journal of months): it updates
# what we know about the site but pages nobody.
HISTORY_AFTER_S = 86400.0
ROOM_ORDER = {room.value: i for i, room in enumerate(Room)}


class AlertKind(str, Enum):
    """What an alert says happened; ``room`` is the mildest ``alerts.min_room`` that lets it out."""

    room: str

    def __new__(cls, value: str, room: str) -> "AlertKind":
        member = str.__new__(cls, value)
        member._value_ = value
        member.room = room
        return member

    POWER_LOST = "power_lost", Room.ON_BATTERY.value
    WRAPUP = "wrapup", WRAPUP_STAGE.room.value
    SHUTDOWN = "shutdown", SHUTDOWN_STAGE.room.value
    PC_OFF = "pc_off", PCS_OFF.room.value
    # A PC's shutdown command ran and left it up (its second ack, ok false): someone must switch
    # it off by hand before the battery is flat; part of the cut, so as loud as the shutdown.
    PC_NOT_OFF = "pc_not_off", SHUTDOWN_STAGE.room.value
    POWER_RESTORED = "power_restored", Room.READY.value   # made only when its outage paged IT
    UPS_UNREACHABLE = "ups_unreachable", Room.FAULT.value
    REPLACE_BATTERY = "replace_battery", Room.ATTENTION.value
    SITE_STALE = "site_stale", Room.FAULT.value
    SITE_NEVER_SEEN = "site_never_seen", Room.FAULT.value
    # A booked meeting starts within policy.ready_before_s and the room is not ready (§6.3):
    # IT has minutes to act, so it goes out with the default min_room, like a power cut.
    NOT_READY = "not_ready", Room.ON_BATTERY.value
    # The room's calendar unreadable for an hour (edge.room): an IT chore, as a battery to
    # replace; the room is attention (amber) meanwhile.
    CALENDAR_UNREADABLE = "calendar_unreadable", Room.ATTENTION.value
    TEST = "test", Room.READY.value


# The alerts each command stage of an outage makes (protocol/outage_stages.py), by its journal event
# (str keys: an EventKind is its own value, and events carry plain strings).
STAGE_ALERTS: dict[str, tuple[AlertKind, ...]] = {
    NOTICE.event: (AlertKind.POWER_LOST,),
    WRAPUP_STAGE.event: (AlertKind.POWER_LOST, AlertKind.WRAPUP),
    SHUTDOWN_STAGE.event: (AlertKind.POWER_LOST, AlertKind.SHUTDOWN)}
OUTAGE_KINDS = (AlertKind.POWER_LOST, AlertKind.WRAPUP, AlertKind.SHUTDOWN, AlertKind.PC_OFF,
                AlertKind.PC_NOT_OFF, AlertKind.POWER_RESTORED)
# Per PC, not stages: an outage makes one of each for every PC it concerns.
PC_KINDS = frozenset({AlertKind.PC_OFF.value, AlertKind.PC_NOT_OFF.value})
STAGE_KINDS = {k.value for k in OUTAGE_KINDS} - {AlertKind.POWER_RESTORED.value}
# The only alerts alerts.quiet_repeat_s may hold back: an outage's alerts never are.
CHORE_KINDS = frozenset({AlertKind.UPS_UNREACHABLE.value, AlertKind.REPLACE_BATTERY.value,
                         AlertKind.SITE_STALE.value, AlertKind.CALENDAR_UNREADABLE.value,
                         AlertKind.SITE_NEVER_SEEN.value})
# Apprise's notification type by stage (apprise.NotifyType's values), looked up by AlertKind or str.
NOTIFY_TYPES: dict[str, str] = {AlertKind.POWER_LOST: "warning", AlertKind.WRAPUP: "failure",
                                AlertKind.SHUTDOWN: "failure", AlertKind.PC_OFF: "failure",
                                AlertKind.PC_NOT_OFF: "failure",
                                AlertKind.POWER_RESTORED: "info", AlertKind.UPS_UNREACHABLE: "warning",
                                AlertKind.REPLACE_BATTERY: "warning", AlertKind.SITE_STALE: "warning",
                                AlertKind.SITE_NEVER_SEEN: "warning",
                                AlertKind.NOT_READY: "warning", AlertKind.TEST: "info",
                                AlertKind.CALENDAR_UNREADABLE: "warning"}
# The last meetings whose not_ready went out, per site (an edge restarted inside ready_before_s
# journals it again; IT hears of each meeting once).
NOT_READY_MEMORY = 16


@dataclass(frozen=True)
class Rules:
    """The [alerts] keys the rules need."""

    min_room: str = Room.ON_BATTERY.value


@dataclass(frozen=True)
class Alert:
    """One alert to send: which site, what happened, and the values the text needs."""

    site: str
    kind: AlertKind
    name: str = ""
    runtime_s: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    at: float | None = None     # when it happened (the event's own time)
    late: bool = False          # it reached the rules LATE_AFTER_S or more after ``at``


@dataclass(frozen=True)
class SiteMemory:
    """What the rules remember about one site between calls."""

    name: str = ""
    runtime_s: float | None = None
    stale: bool | None = None               # None: not looked at yet (no alert on first sight)
    stale_since: float | None = None        # went stale while looked at, not alerted yet
    outage_alerted: bool = False            # an alert of the running outage went out
    stages: frozenset[str] = frozenset()    # outage alerts already made for the running outage
    down_since: tuple[tuple[str, float], ...] = ()   # (ups, since) not readable
    down_alerted: frozenset[str] = frozenset()
    pcs_off: frozenset[str] = frozenset()   # PCs seen going off and not seen online since
    not_off: frozenset[str] = frozenset()   # PCs of the running outage IT was told are still up
    pi_off: bool = False                    # the edge said it powers this Pi off (pi_poweroff)
    not_ready: tuple[float, ...] = ()       # starts of the meetings IT was told were not ready
    seq: int = 0                            # the highest journal seq judged
    restored_seq: int = 0                   # the last power_restored judged: below it, outages are over
    never_seen_alerted: bool = False        # "never reported" went out (once per dashboard run)


@dataclass(frozen=True)
class Stale:
    """The dashboard marked ``site`` stale (True) or fresh again (False)."""

    site: str
    stale: bool


@dataclass(frozen=True)
class Tick:
    """Time passed: timers (a UPS unreadable, a site stale, for 60 s) are looked at. ``unseen``:
    the rooms the config names that have no state, watched since ``since`` (the dashboard's
    start)."""

    unseen: frozenset[str] = frozenset()
    since: float | None = None


Item = Union[JournalEvent, StateSnapshot, Stale, Tick]
Memory = dict[str, SiteMemory]


def passes(kind: AlertKind, rules: Rules) -> bool:
    """True when ``alerts.min_room`` lets this kind of alert out."""
    return kind.room == Room.READY or ROOM_ORDER[kind.room] >= ROOM_ORDER.get(rules.min_room, 2)


def held(last_created: float | None, now: float, quiet_repeat_s: float, kind: str) -> bool:
    """True when the same chore alert for the same site went into the outbox too recently to
    repeat; an outage's alerts and the test alert never are (each outage pages in full)."""
    if kind not in CHORE_KINDS or last_created is None:
        return False
    return 0 <= now - last_created < quiet_repeat_s


def react(memory: Memory, item: Item, now: float, rules: Rules) -> tuple[Memory, list[Alert]]:
    """The new memory and the alerts ``item`` causes, in the order they are to be sent."""
    if isinstance(item, Tick):
        memory, alerts = _tick(memory, now, rules)
        memory, never = _never_seen(memory, item, now, rules)
        return memory, alerts + never
    site = item.site
    old = memory.get(site, SiteMemory())
    if isinstance(item, StateSnapshot):
        new, alerts = _state(old, item, now)
    elif isinstance(item, Stale):   # the room-silent alert comes from _tick, if it stays stale
        since = old.stale_since if old.stale else now
        watched = item.stale and old.stale is not None
        new = dataclasses.replace(old, stale=item.stale, stale_since=since if watched else None)
        alerts = []
    else:
        new, alerts = _event(old, item, now)
    # An event of an outage already over (replayed after its restore was judged) opens none.
    over = isinstance(item, JournalEvent) and item.seq < old.restored_seq
    new, alerts = _filter(new, alerts, rules, opens=not over)
    return {**memory, site: new}, alerts


def _filter(mem: SiteMemory, alerts: list[Alert], rules: Rules,
            opens: bool = True) -> tuple[SiteMemory, list[Alert]]:
    """Drop what ``min_room`` does not want; note that the outage has paged IT (when ``opens``:
    the alerts are of the running outage)."""
    kept = [a for a in alerts if passes(a.kind, rules)]
    if opens and any(a.kind.value in STAGE_KINDS for a in kept):
        mem = dataclasses.replace(mem, outage_alerted=True)
    return mem, kept


def _alert(site: str, kind: AlertKind, mem: SiteMemory, at: float, **detail: Any) -> Alert:
    return Alert(site=site, kind=kind, name=mem.name or site, runtime_s=mem.runtime_s,
                 detail=detail, at=at)


def _state(old: SiteMemory, state: StateSnapshot, now: float) -> tuple[SiteMemory, list[Alert]]:
    """Keep the name and runtime; a UPS named unreadable in ``reasons`` starts its timer too
    (the state is retained and repeated, so a lost ``ups_unreachable`` event is made up for)."""
    down = {r.split(":", 1)[1] for r in state.reasons if r.startswith("ups_unreachable:")}
    since = tuple((u, t) for u, t in old.down_since if u in down)
    since += tuple((u, now) for u in sorted(down - {u for u, _ in since}))
    new = dataclasses.replace(old, name=state.name.strip() or state.site,
                              runtime_s=state.power.runtime_s, down_since=since,
                              down_alerted=old.down_alerted & down)
    return new, []


def _event(old: SiteMemory, event: JournalEvent, now: float) -> tuple[SiteMemory, list[Alert]]:
    detail, kind, at = event.detail, event.kind, event.ts
    runtime = _number(detail.get("runtime_s"))
    mem = dataclasses.replace(old, seq=max(old.seq, event.seq),
                              runtime_s=old.runtime_s if runtime is None else runtime)
    pc = str(detail.get("pc", ""))
    if kind == EventKind.POWER_RESTORED:
        new = dataclasses.replace(mem, outage_alerted=False, stages=frozenset(), not_off=frozenset(),
                                  restored_seq=max(mem.restored_seq, event.seq))
        alerts = [_alert(event.site, AlertKind.POWER_RESTORED, new, at,
                         duration_s=_number(detail.get("duration_s")),
                         pcs_off=sorted(mem.pcs_off))] if old.outage_alerted else []
    elif kind == EventKind.POWER_LOST:
        # A new outage, even when the last restore was lost; one heard after later events
        # (replayed) is the start of an outage already judged: it starts nothing.
        fresh = event.seq > old.seq
        new = dataclasses.replace(mem, stages=frozenset(), not_off=frozenset(),
                                  outage_alerted=False) if fresh else mem
        alerts = []
    elif kind in STAGE_ALERTS and event.seq < mem.restored_seq:
        # Its outage is over and its restore judged (the event was replayed after it): a power
        # cut page now would send IT to a room whose power is back.
        new, alerts = mem, []
    elif kind in STAGE_ALERTS:
        new, alerts = _stage(mem, event)
    elif kind == EventKind.PC_OFF:
        new = dataclasses.replace(mem, pcs_off=mem.pcs_off | ({pc} if pc else set()))
        alerts = [_alert(event.site, AlertKind.PC_OFF, new, at, pc=pc)]
    elif kind == EventKind.PC_ACK:
        new, alerts = _not_off(mem, event)
    elif kind in (EventKind.PI_POWEROFF, EventKind.EDGE_STARTED):
        new, alerts = dataclasses.replace(mem, pi_off=kind == EventKind.PI_POWEROFF), []
    elif kind == EventKind.PC_ONLINE:
        new, alerts = dataclasses.replace(mem, pcs_off=mem.pcs_off - {pc}), []
    elif kind == EventKind.NOT_READY:
        new, alerts = _not_ready(mem, event)
    elif kind == EventKind.REPLACE_BATTERY:
        new, alerts = mem, [_alert(event.site, AlertKind.REPLACE_BATTERY, mem, at,
                                   ups=str(detail.get("ups", "")))]
    elif kind == EventKind.CALENDAR_UNREADABLE:   # once: the edge journals it once per spell
        new, alerts = mem, [_alert(event.site, AlertKind.CALENDAR_UNREADABLE, mem, at,
                                   since=_number(detail.get("since")))]
    else:
        new, alerts = _ups_watch(mem, event, now), []
    return new, _timely(alerts, now - at)


def _not_off(mem: SiteMemory, event: JournalEvent) -> tuple[SiteMemory, list[Alert]]:
    """A PC's shutdown command ran and left it up (the agent's second ack, ``ok`` false): once per
    PC and outage, with the PC's answer (why); not for an outage already over (replayed after its
    restore was judged): the power is back, nobody needs to run to that PC."""
    detail, pc = event.detail, str(event.detail.get("pc", ""))
    if (detail.get("kind") != PcCommandKind.SHUTDOWN or detail.get("ok") is not False
            or detail.get("code") not in NOT_OFF_CODES or not pc):
        return mem, []
    if event.seq < mem.restored_seq or pc in mem.not_off:
        return mem, []
    new = dataclasses.replace(mem, not_off=mem.not_off | {pc})
    answer = {k: detail[k] for k in ("code", "args", "detail") if k in detail}
    return new, [_alert(event.site, AlertKind.PC_NOT_OFF, new, event.ts, pc=pc, answer=answer)]


def _not_ready(mem: SiteMemory, event: JournalEvent) -> tuple[SiteMemory, list[Alert]]:
    """Once per meeting: the title, its start and the problems (machine codes; texts word them)."""
    start = _number(event.detail.get("start"))
    if start is None or start in mem.not_ready:
        return mem, []
    problems = [str(p) for p in event.detail.get("problems") or () if isinstance(p, str)]
    new = dataclasses.replace(mem, not_ready=(*mem.not_ready, start)[-NOT_READY_MEMORY:])
    return new, [_alert(event.site, AlertKind.NOT_READY, new, event.ts,
                        meeting=str(event.detail.get("meeting", "")), start=start,
                        problems=problems)]


def _timely(alerts: list[Alert], age: float) -> list[Alert]:
    """News as it is; a late event marked late (it keeps its own time); history dropped."""
    if age > HISTORY_AFTER_S:
        return []
    if age > LATE_AFTER_S:
        return [dataclasses.replace(a, late=True) for a in alerts]
    return alerts


def _stage(mem: SiteMemory, event: JournalEvent) -> tuple[SiteMemory, list[Alert]]:
    """Power lost once the flicker guard has passed (``notice_sent``), or at once with
    ``shutdown_sent``; then wrap-up and shutdown, each once per outage."""
    wanted = STAGE_ALERTS[event.kind]
    fresh = [k for k in wanted if k.value not in mem.stages]
    new = dataclasses.replace(mem, stages=mem.stages | {k.value for k in fresh})
    return new, [_alert(event.site, k, new, event.ts) for k in fresh]


def _ups_watch(mem: SiteMemory, event: JournalEvent, now: float) -> SiteMemory:
    """Start or stop the 60 s timer of a UPS that cannot be read."""
    ups = str(event.detail.get("ups", ""))
    since = tuple((u, t) for u, t in mem.down_since if u != ups)
    if event.kind == EventKind.UPS_UNREACHABLE:
        kept = dict(mem.down_since).get(ups, now)
        return dataclasses.replace(mem, down_since=(*since, (ups, kept)))
    if event.kind == EventKind.UPS_REACHABLE:
        return dataclasses.replace(mem, down_since=since, down_alerted=mem.down_alerted - {ups})
    return mem


def _tick(memory: Memory, now: float, rules: Rules) -> tuple[Memory, list[Alert]]:
    new, alerts = dict(memory), []
    for site, mem in memory.items():
        due = [u for u, t in mem.down_since
               if now - t >= UNREACHABLE_ALERT_AFTER_S and u not in mem.down_alerted]
        found: list[Alert] = []
        if due:
            mem = dataclasses.replace(mem, down_alerted=mem.down_alerted | set(due))
            found = [_alert(site, AlertKind.UPS_UNREACHABLE, mem, t, ups=u)   # since when
                     for u, t in mem.down_since if u in due]
        since = mem.stale_since
        if since is not None and now - since >= SILENT_ALERT_AFTER_S:
            mem = dataclasses.replace(mem, stale_since=None)
            # A Pi that said it powers off at the end of an outage falls silent as planned: the
            # outage's own alerts told IT; "the room is silent, call IT" would be false.
            found += [] if mem.pi_off else [_alert(site, AlertKind.SITE_STALE, mem, since)]
        if mem is not memory[site]:
            new[site], kept = _filter(mem, found, rules)
            alerts += kept
    return new, alerts


def _never_seen(memory: Memory, tick: Tick, now: float, rules: Rules) -> tuple[Memory, list[Alert]]:
    """Once per room (and dashboard run): a room the config names still without a state
    NEVER_SEEN_ALERT_AFTER_S after the dashboard started."""
    if tick.since is None or now - tick.since < NEVER_SEEN_ALERT_AFTER_S:
        return memory, []
    new, alerts = memory, []
    for site in sorted(tick.unseen):
        mem = memory.get(site, SiteMemory())
        if mem.never_seen_alerted:
            continue
        mem = dataclasses.replace(mem, never_seen_alerted=True)
        found = [_alert(site, AlertKind.SITE_NEVER_SEEN, mem, now)]
        if new is memory:
            new = dict(memory)
        new[site], kept = _filter(mem, found, rules)
        alerts += kept
    return new, alerts


def _number(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if ok else None


def seed(last: list[tuple[str, str, float]]) -> Memory:
    """The memory after a restart, from the newest alert of each (site, kind) in the outbox: an
    outage that paged IT before the restart still gets its "power restored"."""
    newest: dict[str, dict[str, float]] = {}
    for site, kind, created in last:
        newest.setdefault(site, {})[kind] = created
    memory = {}
    for site, kinds in newest.items():
        restored = kinds.get(AlertKind.POWER_RESTORED.value, float("-inf"))
        open_kinds = {k for k, t in kinds.items() if t > restored and k in STAGE_KINDS}
        if open_kinds:
            stages = frozenset(open_kinds - PC_KINDS)
            memory[site] = SiteMemory(outage_alerted=True, stages=stages)
    return memory


def still_off(mem: SiteMemory, events: list[JournalEvent]) -> SiteMemory:
    """An outage's memory after a restart (``seed``) with the PCs it switched off and not seen
    online since, from the site's newest journal events (newest first, back to the outage's
    ``power_lost``): its restore asks IT to switch them on again."""
    off, seen = set(), set()
    for event in events:
        if event.kind == EventKind.POWER_LOST:
            break
        pc = str(event.detail.get("pc", ""))
        if event.kind in (EventKind.PC_OFF, EventKind.PC_ONLINE) and pc and pc not in seen:
            seen.add(pc)
            off |= {pc} if event.kind == EventKind.PC_OFF else set()
    return dataclasses.replace(mem, pcs_off=mem.pcs_off | off)

