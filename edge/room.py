"""The room core: what happens on power loss, in one pure module.

Given what the UPSes and PCs report, the time, and the previous room state, ``step`` decides the
room's state, what the LED and buzzer do, which commands go to which PC and which events enter
the journal. No I/O, no clock, no threads: the daemon passes the time in and carries the effects
out. Two clocks come in: ``now`` (wall clock: journal times, command times, what people read) and
``mono`` (monotonic: every duration, so a clock step of an hour mid-outage changes no stage).
What the UPSes say and how much of it to believe is in ``edge.power``; the PCs in ``edge.pcs``;
the outage's stages, from notice to shutdown, are here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from edge.bookings import Booking
from edge.pcs import PcReport, PcWatch, watch_pcs
from edge.power import (UNREADABLE_REASONS, PowerView, UpsReading, Verdict, estimates, judge,
                        last_runtimes, ob_ol_charges, power as _power)
from edge.readiness import MeetingWatch, RoomFacts, check as check_readiness
from edge.stages import Outage, advance, command_id, make_command, track_outage
from protocol.config import PolicyConfig
from protocol.looks import LOOKS, PC_OFF, Buzz, Led, Pattern
from protocol.messages import (EDGE_COMMAND_MAX_AGE_S, Ack, EdgeCommand, EdgeCommandKind, EventKind,
                               NextMeeting, PcCommand, PcCommandKind, Room)

__all__ = ["UNREADABLE_REASONS", "UpsReading", "PcReport", "Inputs", "RoomState", "Rules",
           "Effects", "Sent", "Outage", "step", "make_command", "verdicts_of", "Led", "Pattern",
           "Buzz", "LOOK"]


RESTORED_BEEP_S = 3.0
# A UPS that keeps asking for a new battery is journaled again this often (and at each start):
# the needs report, which reads only the journal, then asks for the battery in any range of a
# month or more while the UPS still flags RB, and IT is reminded once a month.
BATTERY_REMIND_S = 30 * 86400.0
# Edge commands the daemon carries out itself (they need I/O: the LED, NUT).
DAEMON_ACTIONS = (EdgeCommandKind.TEST_INDICATOR, EdgeCommandKind.UPS_SELFTEST)
# PC commands that outlive the outage they belong to: power is back, the PC must still hear.
AFTER_OUTAGE = (PcCommandKind.CANCEL, PcCommandKind.TEST)
# A room calendar that cannot be read (server down, file gone, not iCalendar) for this long is
# said: the reason ``calendar_unreadable`` (amber: IT must mend it) and the journal event once.
# Shorter would page IT for a server's restart; the bookings kept meanwhile are an hour older.
CALENDAR_UNREADABLE_AFTER_S = 3600.0
CALENDAR_UNREADABLE = "calendar_unreadable"
# The looks (LED, pattern, buzzer) are in protocol/looks.py, shared with the dashboard's page.
LOOK = {room: LOOKS[room.value] for room in Room}
PCS_OFF_LOOK = LOOKS[PC_OFF]


@dataclass(frozen=True)
class Inputs:
    """Everything ``step`` looks at, gathered by the daemon for one tick."""

    now: float                                 # wall clock (time.time())
    ups: tuple[UpsReading, ...]
    pcs: tuple[PcReport, ...] = ()
    acks: tuple[tuple[str, Ack], ...] = ()     # (pc id, ack) arrived since the last tick
    commands: tuple[EdgeCommand, ...] = ()     # edge commands arrived since the last tick
    button: bool = False                       # the silence button was pressed
    mono: float | None = None                  # monotonic clock; None: the wall clock serves
    learned: dict[str, float] = field(default_factory=dict)  # UPS -> learned runtime (§6.1)
    learned_from: dict[str, int] = field(default_factory=dict)  # UPS -> discharges learned from
    bookings: tuple[Booking, ...] = ()         # the room's calendar, sorted by start
    # (since when on the monotonic clock, why) the calendar cannot be read; None: it can, or
    # there is none. calendar_read False: configured, and its first read has not ended yet.
    calendar_failing: tuple[float, str] | None = None
    calendar_read: bool = True

    @property
    def clock(self) -> float:
        """The clock every duration is measured on (monotonic when the daemon gives one)."""
        return self.now if self.mono is None else self.mono


@dataclass(frozen=True)
class Sent:
    """A PC command waiting for its ack; resent with the same id until acked or expired.
    ``last_sent`` and ``expires_at`` are on the monotonic clock."""

    pc: str
    command: PcCommand
    last_sent: float
    expires_at: float = float("inf")


@dataclass(frozen=True)
class RoomState:
    """What the core remembers between ticks."""

    started: float                            # when the edge started, monotonic (PC grace)
    room: Room = Room.READY
    since: float = 0.0                        # wall clock, for people
    reasons: tuple[str, ...] = ()
    outage: Outage | None = None
    silenced: bool = False
    pending: tuple[Sent, ...] = ()
    pcs: PcWatch = PcWatch()
    ups_down: frozenset[str] = frozenset()
    battery_bad: frozenset[str] = frozenset()
    battery_said: dict[str, float] = field(default_factory=dict)   # ups -> journaled (monotonic)
    fsd_on_mains: frozenset[str] = frozenset()  # said FSD on mains, and FSD ever since
    charge_ob_ol: dict[str, float] = field(default_factory=dict)  # charge when OB+OL began
    last_runtime: dict[str, tuple[float, float]] = field(default_factory=dict)  # (s, mono)
    restored_at: float | None = None          # monotonic
    first: bool = True
    meetings: MeetingWatch = MeetingWatch()   # bookings already spoken of (edge.readiness)
    next_meeting: NextMeeting | None = None
    calendar_said: bool = False               # calendar_unreadable journaled, not readable since

    @property
    def pcs_online(self) -> frozenset[str]:
        """The expected PCs online now."""
        return self.pcs.online


@dataclass(frozen=True)
class Effects:
    """What the daemon carries out after a tick."""

    led: Led
    pattern: Pattern
    buzzer: Buzz
    send: tuple[tuple[str, PcCommand], ...] = ()
    events: tuple[tuple[str, dict[str, Any]], ...] = ()
    actions: tuple[EdgeCommand, ...] = ()     # test_indicator, ups_selftest: I/O for the daemon
    powerdown: bool = False                   # hold NUT's POWERDOWNFLAG: the Pi powers off


@dataclass(frozen=True)
class Rules:
    """The parts of the configuration the core needs."""

    policy: PolicyConfig
    site_id: str
    place: str = ""
    lang: str = "id"
    expected_pcs: tuple[str, ...] = ()
    command_ttl_s: float = 120.0
    powerdown: bool = False                   # edge.powerdown_flag set: the Pi may power itself off


def step(prev: RoomState, inp: Inputs, rules: Rules) -> tuple[RoomState, Effects]:
    """One tick: (previous state, inputs, time) -> (new state, effects)."""
    events: list[tuple[str, dict[str, Any]]] = []
    sends: list[tuple[str, PcCommand]] = []
    inp = _refuse_stale(inp, events)
    charges = ob_ol_charges(inp.ups, prev.charge_ob_ol)
    verdicts = verdicts_of(inp.ups, charges, prev.fsd_on_mains)
    ups_down, battery_bad, battery_said, fsd = _watch_ups(prev, inp, verdicts, events)
    pending, acked_off, not_off = _take_acks(prev.pending, inp, events, prev.outage, rules)
    pcs = watch_pcs(prev.pcs, inp.pcs, rules.expected_pcs, inp.now, inp.clock,
                    inp.clock - prev.started, rules.policy.pc_offline_after_s, events)
    last = last_runtimes(inp.ups, verdicts, prev.last_runtime, inp.clock, inp.learned)
    guesses = estimates(inp.ups, last, inp.clock, prev.outage.mono_start()) \
        if prev.outage is not None else ()
    power = _power(inp.ups, verdicts, guesses, inp.learned)
    outage, restored = track_outage(prev.outage, power, inp.now, inp.clock, events)
    if outage is not None and not_off:   # its shutdown command failed: it will not go off now
        outage = replace(outage, shut_acked=outage.shut_acked - not_off)
    pending = _after_restore(restored, pending, power, inp, rules, events, sends)
    restored_at = inp.clock if restored is not None else prev.restored_at
    if outage is not None:
        outage = advance(outage, power, inp.now, inp.clock, rules, pcs, acked_off, events, sends)
        pending = _drop_cancels(pending, sends)
    for cmd in inp.commands:
        events.append((EventKind.COMMAND, {"kind": cmd.kind, "id": cmd.id, "by": cmd.by}))
        if cmd.kind == EdgeCommandKind.TEST_NOTICE:
            for pc in rules.expected_pcs:
                sends.append((pc, make_command(PcCommandKind.TEST, pc, inp.now, inp.now,
                                               power.runtime_s, rules)))
    resent, pending = _resend(pending, inp.clock, rules)
    pending += tuple(Sent(pc=pc, command=c, last_sent=inp.clock,
                          expires_at=inp.clock + rules.command_ttl_s) for pc, c in sends)
    calendar_said, stale = _watch_calendar(prev.calendar_said, inp, events)
    reasons = _reasons(inp, rules, verdicts, pcs) + stale
    facts = RoomFacts(reasons, tuple((r.name, r.charge_pct) for r in inp.ups if r.powers_pc and r.reachable),
                      power.runtime_s, pcs.converting)
    p = rules.policy
    meetings, next_meeting, unready = check_readiness(
        prev.meetings, inp.bookings, inp.now, facts, p.ready_before_s, p.ready_min_charge_pct,
        p.wrapup_at_runtime_s, events)
    reasons = tuple(dict.fromkeys(reasons + unready))   # not ready for the next meeting: amber
    room = _room(outage, inp.ups, reasons)
    since = prev.since if room == prev.room and not prev.first else inp.now
    silenced = _silenced(prev, room, inp, events)
    state = RoomState(started=prev.started, room=room, since=since, reasons=reasons,
                      outage=outage, silenced=silenced, pending=pending, pcs=pcs,
                      ups_down=ups_down, battery_bad=battery_bad, battery_said=battery_said,
                      fsd_on_mains=fsd,
                      charge_ob_ol=charges, last_runtime=last, restored_at=restored_at,
                      first=False, meetings=meetings, next_meeting=next_meeting,
                      calendar_said=calendar_said)
    led, pattern, buzz = _look(state, inp.clock)
    actions = tuple(c for c in inp.commands if c.kind in DAEMON_ACTIONS)
    powerdown = outage is not None and outage.pi_off is not None
    return state, Effects(led=led, pattern=pattern, buzzer=buzz, send=tuple(resent + sends),
                          events=tuple(events), actions=actions, powerdown=powerdown)


def _refuse_stale(inp: Inputs, events: list) -> Inputs:
    """Journal the edge commands too old to act on (``ok: false``, their age) and drop them
    (protocol.messages.EDGE_COMMAND_MAX_AGE_S). One that looks from the future is taken: a Pi
    that booted without a real-time clock runs behind until NTP has set it."""
    stale = [c for c in inp.commands if inp.now - c.ts > EDGE_COMMAND_MAX_AGE_S]
    for cmd in stale:
        events.append((EventKind.COMMAND, {"kind": cmd.kind, "id": cmd.id, "by": cmd.by,
                                           "ok": False, "age_s": round(inp.now - cmd.ts)}))
    return replace(inp, commands=tuple(c for c in inp.commands if c not in stale)) if stale else inp


def verdicts_of(readings: tuple[UpsReading, ...], charges: dict[str, float],
                fsd_liars: frozenset[str] = frozenset()) -> dict[str, Verdict]:
    """What Siaga believes of each readable UPS (edge.power: drivers lie)."""
    return {r.name: judge(r, charges.get(r.name), r.name in fsd_liars) for r in readings
            if r.reachable}


def _after_restore(restored: Outage | None, pending: tuple[Sent, ...], power: PowerView,
                   inp: Inputs, rules: Rules, events: list, sends: list) -> tuple[Sent, ...]:
    """Mains back drops the outage's commands and cancels what every told PC was told. The
    last outage's cancel outlives a new one until acked or dropped by ``_drop_cancels``."""
    if restored is None:
        return pending
    pending = tuple(s for s in pending if s.command.kind in AFTER_OUTAGE)
    for pc in sorted(restored.told):
        sends.append((pc, make_command(PcCommandKind.CANCEL, pc, restored.started, inp.now,
                                       power.runtime_s, rules)))
    if restored.told:
        events.append((EventKind.CANCEL_SENT, {"pcs": sorted(restored.told)}))
    return pending


def _drop_cancels(pending: tuple[Sent, ...], sends: list) -> tuple[Sent, ...]:
    """Stop resending the last outage's cancel to a PC this outage now tells to shut down: the
    agent cancels whatever shutdown is pending, so that cancel arriving after this shutdown
    would stop it. Not sooner: after a one-poll flicker right after a restore, a PC that missed
    the cancel would otherwise shut down on mains."""
    shut = {pc for pc, cmd in sends if cmd.kind == PcCommandKind.SHUTDOWN}
    return tuple(s for s in pending if not (s.pc in shut and s.command.kind == PcCommandKind.CANCEL))


def _watch_ups(prev: RoomState, inp: Inputs, verdicts: dict[str, Verdict],
               events: list) -> tuple[frozenset[str], frozenset[str], dict[str, float],
                                      frozenset[str]]:
    """Journal a UPS becoming unreadable or readable again, a battery that needs replacing (and
    again every ``BATTERY_REMIND_S`` while it does) and FSD on mains (once, until the UPS stops
    saying FSD)."""
    down = {r.name for r in inp.ups if not r.reachable}
    for r in inp.ups:
        if not r.reachable and r.name not in prev.ups_down:
            events.append((EventKind.UPS_UNREACHABLE, {"ups": r.name, "reason": r.error,
                                                      "detail": r.error_detail}))
        elif r.reachable and r.name in prev.ups_down:
            events.append((EventKind.UPS_REACHABLE, {"ups": r.name, "status": r.status}))
    bad = {r.name for r in inp.ups if r.replace_battery}
    bad |= {name for name in prev.battery_bad if name in down}  # unknown is not "fixed"
    said = {name: at for name, at in prev.battery_said.items() if name in bad}
    for name in sorted(bad):
        if name not in prev.battery_bad or inp.clock - said.get(name, inp.clock) >= BATTERY_REMIND_S:
            events.append((EventKind.REPLACE_BATTERY, {"ups": name}))
            said[name] = inp.clock
    fsd = {r.name for r in inp.ups if r.reachable and r.forced_shutdown}
    fsd |= {name for name in prev.fsd_on_mains if name in down}
    for r in inp.ups:
        if r.name in fsd - prev.fsd_on_mains and verdicts[r.name].fsd_on_mains:
            events.append((EventKind.UPS_FSD_ON_MAINS, {"ups": r.name, "status": r.status}))
    keep = {name for name in fsd if name in prev.fsd_on_mains or
            (name in verdicts and verdicts[name].fsd_on_mains)}
    return frozenset(down), frozenset(bad), said, frozenset(keep)


def _watch_calendar(said: bool, inp: Inputs, events: list) -> tuple[bool, tuple[str, ...]]:
    """(calendar_unreadable journaled, the reason or ()): the calendar unreadable for
    ``CALENDAR_UNREADABLE_AFTER_S`` is journaled once with since when (the wall clock, for
    people), and ``calendar_readable`` once when it is read again. Said before a restart and
    still unreadable at the first read after it: the reason at once, no second event."""
    if inp.calendar_failing is None:
        if said and inp.calendar_read:
            events.append((EventKind.CALENDAR_READABLE, {}))
            return False, ()
        return said, ()
    began, why = inp.calendar_failing
    if not said and inp.clock - began < CALENDAR_UNREADABLE_AFTER_S:
        return False, ()
    if not said:
        events.append((EventKind.CALENDAR_UNREADABLE, {"since": inp.now - (inp.clock - began),
                                                       "problem": why}))
    return True, (CALENDAR_UNREADABLE,)


def _take_acks(pending: tuple[Sent, ...], inp: Inputs, events: list, outage: Outage | None,
               rules: Rules) -> tuple[tuple[Sent, ...], frozenset[str], frozenset[str]]:
    """Drop the commands that were acked; journal each first ack, and a second one that says
    this outage's shutdown failed. Also: the PCs that acked a shutdown (when they go offline
    next, they are off), and those whose shutdown command failed (the PC is still up)."""
    shut: set[str] = set()
    failed: set[str] = set()
    for pc, ack in inp.acks:
        match = [s for s in pending if s.pc == pc and s.command.id == ack.id]
        if match:
            pending = tuple(s for s in pending if s not in match)
            if ack.ok and match[0].command.kind == PcCommandKind.SHUTDOWN:
                shut.add(pc)
        elif _shutdown_failed(pc, ack, outage, shut, failed, rules):
            shut.discard(pc)
            failed.add(pc)
        else:
            continue
        events.append((EventKind.PC_ACK, {"pc": pc, "id": ack.id, "kind": ack.kind,
                                          "ok": ack.ok, "detail": ack.detail, **_ack_code(ack)}))
    return pending, frozenset(shut), frozenset(failed)


def _shutdown_failed(pc: str, ack: Ack, outage: Outage | None, shut: set[str],
                     failed: set[str], rules: Rules) -> bool:
    """A second ack of this outage's shutdown, ``ok`` false, from a PC that acked it: the agent
    ran the shutdown command and the PC is still up (polkit refused, an app blocked it)."""
    if outage is None or ack.ok or ack.kind != PcCommandKind.SHUTDOWN:
        return False
    if pc not in (outage.shut_acked | shut) - failed:   # told once (a QoS 1 repeat is not news)
        return False
    return ack.id == command_id(rules.site_id, outage.started, PcCommandKind.SHUTDOWN, pc)


def _ack_code(ack: Ack) -> dict[str, Any]:
    """The ack's code and its arguments for the journal, when the agent sent one."""
    return {"code": ack.code, "args": ack.args} if ack.code else {}


def _resend(pending: tuple[Sent, ...], clock: float, rules: Rules) -> tuple[list, tuple[Sent, ...]]:
    """Commands due for a resend (same id); expired ones are dropped: the agent would ignore them."""
    resent, keep = [], []
    for s in pending:
        if clock >= s.expires_at:
            continue
        if clock - s.last_sent >= rules.policy.resend_after_s:
            resent.append((s.pc, s.command))
            s = replace(s, last_sent=clock)
        keep.append(s)
    return resent, tuple(keep)


def _reasons(inp: Inputs, rules: Rules, verdicts: dict[str, Verdict], pcs: PcWatch) -> tuple[str, ...]:
    """Machine-readable causes, e.g. ``pc_offline:meeting-pc``, ``replace_battery:meeting``."""
    p = rules.policy
    reasons = []
    for r in inp.ups:
        if not r.reachable:
            reasons.append(f"ups_unreachable:{r.name}")
            continue
        v = verdicts[r.name]
        for flag, name in ((v.on_battery, "on_battery"), (v.low_battery, "low_battery"),
                           (v.fsd_on_mains, "fsd_on_mains"), (r.replace_battery, "replace_battery"),
                           (r.overload, "overload"), (r.self_test, "self_test")):
            if flag:
                reasons.append(f"{name}:{r.name}")
        if not v.on_battery and r.charge_pct is not None and r.charge_pct < p.low_charge_attention_pct:
            reasons.append(f"low_charge:{r.name}")
    statuses = {pc.id: pc.status for pc in inp.pcs}
    for pc in rules.expected_pcs:
        if pc in pcs.known and pc not in pcs.online:
            reasons.append(f"pc_offline:{pc}")
        status = statuses.get(pc)
        if pc in pcs.online and status and status.disk_free_gb is not None and status.disk_free_gb < p.disk_low_gb:
            reasons.append(f"disk_low:{pc}")
    return tuple(reasons)


def _room(outage: Outage | None, readings: tuple[UpsReading, ...],
          reasons: tuple[str, ...]) -> Room:
    """Outage stages first, then a UPS we cannot read, then anything IT should fix."""
    if outage is not None:
        return Room(outage.stage)
    if not readings or any(r.powers_pc and not r.reachable for r in readings):
        return Room.FAULT
    if any(not r.startswith("self_test:") for r in reasons):
        return Room.ATTENTION
    return Room.READY


def _silenced(prev: RoomState, room: Room, inp: Inputs, events: list) -> bool:
    """The button (or a `silence` command) quiets the buzzer until the room state changes."""
    silenced = prev.silenced and room == prev.room
    by = ["button"] if inp.button else []
    by += [c.by or "mqtt" for c in inp.commands if c.kind == EdgeCommandKind.SILENCE]
    if by:
        events.append((EventKind.SILENCED, {"by": by[0], "room": room.value}))
        silenced = True
    return silenced


def _look(state: RoomState, clock: float) -> tuple[Led, Pattern, Buzz]:
    led, pattern, buzz = LOOK[Room(state.room)]
    if state.outage is not None and state.outage.pc_off is not None:
        led, pattern, buzz = PCS_OFF_LOOK
    if state.outage is None and state.restored_at is not None and clock - state.restored_at < RESTORED_BEEP_S:
        buzz = Buzz.RESTORED
    return led, pattern, Buzz.OFF if state.silenced else buzz
