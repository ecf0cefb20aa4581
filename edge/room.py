"""The room core: what happens on power loss, in one pure module.

Given what the UPSes and PCs report, the time, and the previous room state, ``step`` decides the
room's state, what the LED and buzzer do, which commands go to which PC and which events enter
the journal. No I/O, no clock, no threads: the daemon passes the time in and carries the effects
out.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from edge.config import PolicyConfig
from edge.messages import (Ack, AgentStatus, EdgeCommand, EventKind, IndicatorView, JournalEvent,
                           OutageView, PcCommand, PcView, Power, Room, StateSnapshot, UpsView)
from edge.power import (UNREADABLE_REASONS, PowerView, UpsReading, Verdict, judge, ob_ol_charges)
from edge.power import power as _power
from edge.texts import command_texts

__all__ = ["UNREADABLE_REASONS", "UpsReading", "Inputs", "RoomState", "Rules", "Effects", "step",
           "resume", "snapshot", "make_command", "Led", "Pattern", "Buzz", "PcReport"]


class Led(str, Enum):
    """The LED's colour."""

    OFF = "off"
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class Pattern(str, Enum):
    """How the LED shows its colour."""

    OFF = "off"
    SOLID = "solid"
    BLINK = "blink"
    BLINK_FAST = "fast_blink"


class Buzz(str, Enum):
    """What the buzzer does (see docs/indicator.md for the timings)."""

    OFF = "off"
    OUTAGE = "outage"        # a short burst, then a chirp each minute
    WRAPUP = "wrapup"        # a beep every 10 s
    SHUTDOWN = "shutdown"    # fast beeps
    RESTORED = "restored"    # one long beep, once


STAGES = ("on_battery", "wrapup", "shutdown")  # an outage only ever moves forward
RESTORED_BEEP_S = 3.0
LOOK = {  # room -> LED, pattern, buzzer (docs/indicator.md is the legend of this table)
    Room.READY: (Led.GREEN, Pattern.SOLID, Buzz.OFF),
    Room.ATTENTION: (Led.AMBER, Pattern.SOLID, Buzz.OFF),
    Room.ON_BATTERY: (Led.AMBER, Pattern.BLINK, Buzz.OUTAGE),
    Room.WRAPUP: (Led.RED, Pattern.BLINK, Buzz.WRAPUP),
    Room.SHUTDOWN: (Led.RED, Pattern.BLINK_FAST, Buzz.SHUTDOWN),
    Room.FAULT: (Led.RED, Pattern.SOLID, Buzz.OFF),
}


@dataclass(frozen=True)
class PcReport:
    """What the edge knows of one expected PC; times are the edge's clock."""

    id: str
    available: bool | None = None    # last availability message; None = never heard
    last_seen: float | None = None   # when its last status arrived
    status: AgentStatus | None = None


@dataclass(frozen=True)
class Inputs:
    """Everything ``step`` looks at, gathered by the daemon for one tick."""

    now: float
    ups: tuple[UpsReading, ...]
    pcs: tuple[PcReport, ...] = ()
    acks: tuple[tuple[str, Ack], ...] = ()     # (pc id, ack) arrived since the last tick
    commands: tuple[EdgeCommand, ...] = ()     # edge commands arrived since the last tick
    button: bool = False                       # the silence button was pressed


@dataclass(frozen=True)
class Sent:
    """A PC command waiting for its ack; resent with the same id until acked or expired."""

    pc: str
    command: PcCommand
    last_sent: float


@dataclass(frozen=True)
class Outage:
    """The current power cut, from the first OB to mains again."""

    started: float
    stage: str = "on_battery"
    notice_sent: float | None = None
    wrapup_sent: float | None = None
    shutdown_sent: float | None = None
    told: frozenset[str] = frozenset()        # PCs sent anything: they get a cancel
    low_battery: bool = False
    unreadable_since: float | None = None


@dataclass(frozen=True)
class RoomState:
    """What the core remembers between ticks."""

    started: float                            # when the edge started (PC grace period)
    room: str = "ready"
    since: float = 0.0
    reasons: tuple[str, ...] = ()
    outage: Outage | None = None
    silenced: bool = False
    pending: tuple[Sent, ...] = ()
    pcs_online: frozenset[str] = frozenset()
    pcs_known: frozenset[str] = frozenset()   # PCs whose online state has been decided once
    ups_down: frozenset[str] = frozenset()
    battery_bad: frozenset[str] = frozenset()
    fsd_on_mains: frozenset[str] = frozenset()  # UPSes saying FSD while not on battery
    charge_ob_ol: dict[str, float] = field(default_factory=dict)  # charge when OB+OL began
    restored_at: float | None = None
    first: bool = True


@dataclass(frozen=True)
class Effects:
    """What the daemon carries out after a tick."""

    led: Led
    pattern: Pattern
    buzzer: Buzz
    send: tuple[tuple[str, PcCommand], ...] = ()
    events: tuple[tuple[str, dict[str, Any]], ...] = ()
    actions: tuple[EdgeCommand, ...] = ()     # test_indicator, ups_selftest: I/O for the daemon


@dataclass(frozen=True)
class Rules:
    """The parts of the configuration the core needs."""

    policy: PolicyConfig
    site_id: str
    place: str = ""
    lang: str = "id"
    expected_pcs: tuple[str, ...] = ()
    command_ttl_s: float = 120.0


def step(prev: RoomState, inp: Inputs, rules: Rules) -> tuple[RoomState, Effects]:
    """One tick: (previous state, inputs, time) -> (new state, effects)."""
    events: list[tuple[str, dict[str, Any]]] = []
    sends: list[tuple[str, PcCommand]] = []
    charges = ob_ol_charges(inp.ups, prev.charge_ob_ol)
    verdicts = _verdicts(inp, charges)
    ups_down, battery_bad, fsd = _watch_ups(prev, inp, verdicts, events)
    pending = _take_acks(prev.pending, inp, events)
    online, known = _watch_pcs(prev, inp, rules, events)
    power = _power(inp.ups, verdicts)
    outage, restored = _track_outage(prev.outage, power, inp, events)
    if outage is not None and prev.outage is None:  # a cancel of the last outage would stop this one
        pending = tuple(s for s in pending if s.command.kind != "cancel")
    restored_at = prev.restored_at
    if restored is not None:
        restored_at = inp.now
        pending = tuple(s for s in pending if s.command.kind in ("cancel", "test"))
        for pc in sorted(restored.told):
            sends.append((pc, make_command("cancel", pc, restored.started, inp.now, power.runtime_s, rules)))
        if restored.told:
            events.append(("cancel_sent", {"pcs": sorted(restored.told)}))
    if outage is not None:
        outage = _advance(outage, power, inp.now, rules, events, sends)
    for cmd in inp.commands:
        events.append(("command", {"kind": cmd.kind, "id": cmd.id, "by": cmd.by}))
        if cmd.kind == "test_notice":
            for pc in rules.expected_pcs:
                sends.append((pc, make_command("test", pc, inp.now, inp.now, power.runtime_s, rules)))
    resent, pending = _resend(pending, inp.now, rules)
    pending += tuple(Sent(pc, c, inp.now) for pc, c in sends)
    reasons = _reasons(inp, rules, verdicts, online, known)
    room = _room(outage, inp.ups, reasons)
    since = prev.since if room == prev.room and not prev.first else inp.now
    silenced = _silenced(prev, room, inp, events)
    state = RoomState(prev.started, room, since, reasons, outage, silenced, pending, online, known,
                      ups_down, battery_bad, fsd, charges, restored_at, first=False)
    led, pattern, buzz = _look(state, inp.now)
    actions = tuple(c for c in inp.commands if c.kind in ("test_indicator", "ups_selftest"))
    return state, Effects(led, pattern, buzz, tuple(resent + sends), tuple(events), actions)


def _verdicts(inp: Inputs, charges: dict[str, float]) -> dict[str, Verdict]:
    """What Siaga believes of each readable UPS (edge.power: drivers lie)."""
    return {r.name: judge(r, charges.get(r.name)) for r in inp.ups if r.reachable}


def _watch_ups(prev: RoomState, inp: Inputs, verdicts: dict[str, Verdict],
               events: list) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Journal a UPS becoming unreadable or readable again, a battery that needs replacing and
    FSD on mains (once, until the UPS stops saying FSD)."""
    down = {r.name for r in inp.ups if not r.reachable}
    for r in inp.ups:
        if not r.reachable and r.name not in prev.ups_down:
            events.append((EventKind.UPS_UNREACHABLE, {"ups": r.name, "reason": r.error,
                                                      "detail": r.error_detail}))
        elif r.reachable and r.name in prev.ups_down:
            events.append((EventKind.UPS_REACHABLE, {"ups": r.name, "status": r.status}))
    bad = {r.name for r in inp.ups if r.replace_battery}
    bad |= {name for name in prev.battery_bad if name in down}  # unknown is not "fixed"
    for name in sorted(bad - prev.battery_bad):
        events.append((EventKind.REPLACE_BATTERY, {"ups": name}))
    fsd = {r.name for r in inp.ups if r.reachable and r.forced_shutdown}
    fsd |= {name for name in prev.fsd_on_mains if name in down}
    for r in inp.ups:
        if r.name in fsd - prev.fsd_on_mains and verdicts[r.name].fsd_on_mains:
            events.append((EventKind.UPS_FSD_ON_MAINS, {"ups": r.name, "status": r.status}))
    keep = {name for name in fsd if name in prev.fsd_on_mains or
            (name in verdicts and verdicts[name].fsd_on_mains)}
    return frozenset(down), frozenset(bad), frozenset(keep)


def _take_acks(pending: tuple[Sent, ...], inp: Inputs, events: list) -> tuple[Sent, ...]:
    """Drop the commands that were acked; journal each first ack."""
    for pc, ack in inp.acks:
        match = [s for s in pending if s.pc == pc and s.command.id == ack.id]
        if match:
            events.append(("pc_ack", {"pc": pc, "id": ack.id, "kind": ack.kind, "ok": ack.ok,
                                      "detail": ack.detail}))
            pending = tuple(s for s in pending if s not in match)
    return pending


def _watch_pcs(prev: RoomState, inp: Inputs, rules: Rules,
               events: list) -> tuple[frozenset[str], frozenset[str]]:
    """Which expected PCs are online; journal each change (and each first verdict)."""
    reports = {p.id: p for p in inp.pcs}
    online, known = set(), set(prev.pcs_known)
    limit = rules.policy.pc_offline_after_s
    for pc in rules.expected_pcs:
        r = reports.get(pc, PcReport(pc))
        is_online = (r.available is not False and r.last_seen is not None
                     and inp.now - r.last_seen <= limit)
        if is_online:
            online.add(pc)
        decided = is_online or r.available is False or inp.now - prev.started >= limit
        if decided and (pc not in known or is_online != (pc in prev.pcs_online)):
            events.append(("pc_online" if is_online else "pc_offline", {"pc": pc}))
            known.add(pc)
    return frozenset(online), frozenset(known)


def _track_outage(prev: Outage | None, power: PowerView, inp: Inputs,
                  events: list) -> tuple[Outage | None, Outage | None]:
    """(the open outage or None, the outage that just ended or None)."""
    out = power.on_battery  # FSD and LB count only with OB (edge.power)
    if prev is None:
        if not out:
            return None, None
        events.append(("power_lost", {"ups": list(power.on_battery_ups), "charge_pct": power.charge_pct,
                                      "runtime_s": power.runtime_s}))
        return Outage(started=inp.now), None
    if out or power.unreadable:  # unreadable mid-outage: USB often drops at the transition
        since = (prev.unreadable_since or inp.now) if power.unreadable else None
        return replace(prev, unreadable_since=since), None
    events.append(("power_restored", {"duration_s": round(inp.now - prev.started, 1)}))
    return None, prev


def _stage(outage: Outage, power: PowerView, now: float, policy: PolicyConfig) -> tuple[str, str]:
    """(stage, why) for the power as it is now; runtime leads, LB comes too late to save much."""
    if power.forced:
        return "shutdown", "fsd"
    if power.low_battery:
        return "shutdown", "low_battery"
    if power.runtime_s is not None:
        if power.runtime_s <= policy.shutdown_at_runtime_s:
            return "shutdown", "runtime"
        if power.runtime_s <= policy.wrapup_at_runtime_s:
            return "wrapup", "runtime"
    elif power.charge_pct is not None:  # no believable runtime: fall back to charge
        if power.charge_pct <= policy.shutdown_at_charge_pct:
            return "shutdown", "charge"
        if power.charge_pct <= policy.wrapup_at_charge_pct:
            return "wrapup", "charge"
    if outage.unreadable_since is not None and now - outage.unreadable_since >= policy.unreadable_wrapup_after_s:
        return "wrapup", "ups_unreadable"
    return "on_battery", ""


def _advance(outage: Outage, power: PowerView, now: float, rules: Rules, events: list,
             sends: list) -> Outage:
    """Move the outage forward and send each stage's command once, after the flicker guard."""
    if power.low_battery and not outage.low_battery:
        events.append(("low_battery", {"ups": list(power.on_battery_ups), "runtime_s": power.runtime_s}))
        outage = replace(outage, low_battery=True)
    stage, why = _stage(outage, power, now, rules.policy)
    if STAGES.index(stage) > STAGES.index(outage.stage):
        outage = replace(outage, stage=stage)
    if now - outage.started < rules.policy.notice_after_s:
        return outage
    for kind in ("notice", "wrapup", "shutdown")[: STAGES.index(outage.stage) + 1]:
        if getattr(outage, f"{kind}_sent") is not None:
            continue
        pcs = rules.expected_pcs
        sends.extend((pc, make_command(kind, pc, outage.started, now, power.runtime_s, rules)) for pc in pcs)
        events.append((f"{kind}_sent", {"pcs": list(pcs), "runtime_s": power.runtime_s,
                                        "charge_pct": power.charge_pct, "why": why}))
        outage = replace(outage, told=outage.told | set(pcs), **{f"{kind}_sent": now})
    return outage


def make_command(kind: str, pc: str, anchor: float, now: float, runtime_s: float | None,
                 rules: Rules) -> PcCommand:
    """A PC command; its id is derived from (site, outage start, kind, PC), so a restart
    that rebuilds an unacked command resends it with the same id."""
    grace = rules.policy.shutdown_grace_s
    title, text, chat = command_texts(kind, rules.lang, rules.place, runtime_s, grace)
    return PcCommand(id=f"{rules.site_id}-{int(anchor * 1000):x}-{kind}-{pc}", ts=now,
                     expires=now + rules.command_ttl_s, kind=kind, lang=rules.lang, title=title,
                     text=text, chat_text=chat,
                     runtime_s=None if runtime_s is None else int(runtime_s), grace_s=int(grace))


def _resend(pending: tuple[Sent, ...], now: float, rules: Rules) -> tuple[list, tuple[Sent, ...]]:
    """Commands due for a resend (same id); expired ones are dropped: the agent would ignore them."""
    resent, keep = [], []
    for s in pending:
        if now >= s.command.expires:
            continue
        if now - s.last_sent >= rules.policy.resend_after_s:
            resent.append((s.pc, s.command))
            s = replace(s, last_sent=now)
        keep.append(s)
    return resent, tuple(keep)


def _reasons(inp: Inputs, rules: Rules, verdicts: dict[str, Verdict], online: frozenset[str],
             known: frozenset[str]) -> tuple[str, ...]:
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
        if pc in known and pc not in online:
            reasons.append(f"pc_offline:{pc}")
        status = statuses.get(pc)
        if pc in online and status and status.disk_free_gb is not None and status.disk_free_gb < p.disk_low_gb:
            reasons.append(f"disk_low:{pc}")
    return tuple(reasons)


def _room(outage: Outage | None, readings: tuple[UpsReading, ...], reasons: tuple[str, ...]) -> str:
    """Outage stages first, then a UPS we cannot read, then anything IT should fix."""
    if outage is not None:
        return outage.stage
    if not readings or any(r.powers_pc and not r.reachable for r in readings):
        return Room.FAULT
    if any(not r.startswith("self_test:") for r in reasons):
        return Room.ATTENTION
    return Room.READY


def _silenced(prev: RoomState, room: str, inp: Inputs, events: list) -> bool:
    """The button (or a `silence` command) quiets the buzzer until the room state changes."""
    silenced = prev.silenced and room == prev.room
    by = ["button"] if inp.button else []
    by += [c.by or "mqtt" for c in inp.commands if c.kind == "silence"]
    if by:
        events.append(("silenced", {"by": by[0], "room": room}))
        silenced = True
    return silenced


def _look(state: RoomState, now: float) -> tuple[Led, Pattern, Buzz]:
    led, pattern, buzz = LOOK[state.room]
    if state.outage is None and state.restored_at is not None and now - state.restored_at < RESTORED_BEEP_S:
        buzz = Buzz.RESTORED
    return led, pattern, Buzz.OFF if state.silenced else buzz


def resume(events: list[JournalEvent], now: float, rules: Rules) -> RoomState:
    """The state to start from: picks up an outage the journal shows still open, so a restart
    sends no second notice and no second shutdown, and resends what was never acked."""
    state = RoomState(started=now)
    if not events or events[0].kind != "power_lost":
        return state
    outage = Outage(started=events[0].ts)
    sent: list[Sent] = []
    acked: set[str] = set()
    for e in events[1:]:
        kind = e.kind.removesuffix("_sent")
        if e.kind.endswith("_sent") and kind in COMMAND_STAGES:
            pcs = frozenset(p for p in e.detail.get("pcs", []) if isinstance(p, str))
            stage = COMMAND_STAGES[kind]
            if STAGES.index(stage) > STAGES.index(outage.stage):
                outage = replace(outage, stage=stage)
            outage = replace(outage, told=outage.told | pcs, **{f"{kind}_sent": e.ts})
            runtime = e.detail.get("runtime_s")
            runtime = runtime if isinstance(runtime, (int, float)) and not isinstance(runtime, bool) else None
            sent += [Sent(pc, make_command(kind, pc, outage.started, e.ts, runtime, rules), e.ts)
                     for pc in sorted(pcs)]
        elif e.kind == "low_battery":
            outage = replace(outage, low_battery=True)
        elif e.kind == "pc_ack":
            acked.add(str(e.detail.get("id")))
    pending = tuple(s for s in sent if s.command.id not in acked)
    return replace(state, room=outage.stage, since=events[-1].ts, outage=outage, first=False,
                   pending=pending)


COMMAND_STAGES = {"notice": "on_battery", "wrapup": "wrapup", "shutdown": "shutdown"}


def snapshot(state: RoomState, inp: Inputs, effects: Effects, rules: Rules) -> StateSnapshot:
    """The retained state message of CONTRACT §3."""
    verdicts = _verdicts(inp, state.charge_ob_ol)
    power = _power(inp.ups, verdicts)
    reports = {p.id: p for p in inp.pcs}
    o = state.outage
    return StateSnapshot(
        site=rules.site_id, name=rules.place, ts=inp.now, room=state.room, since=state.since,
        reasons=list(state.reasons),
        power=Power(power.on_battery, power.low_battery, power.charge_pct, power.runtime_s),
        ups=[_ups_view(r, verdicts.get(r.name)) for r in inp.ups],
        pcs=[_pc_view(pc, reports.get(pc), state) for pc in rules.expected_pcs],
        indicator=IndicatorView(effects.led.value, effects.pattern.value, effects.buzzer.value,
                                state.silenced),
        outage=None if o is None else OutageView(o.started, o.notice_sent, o.wrapup_sent, o.shutdown_sent),
    )


def _ups_view(r: UpsReading, v: Verdict | None) -> UpsView:
    return UpsView(r.name, r.reachable, r.status, bool(v and v.on_battery), bool(v and v.low_battery),
                   r.charge_pct, v.runtime_s if v else None, r.load_pct, r.input_voltage)


def _pc_view(pc: str, report: PcReport | None, state: RoomState) -> PcView:
    status = report.status if report else None
    return PcView(id=pc, online=pc in state.pcs_online, last_seen=report.last_seen if report else None,
                  meeting_app=bool(status and status.meeting_app),
                  converting=bool(status and status.converting),
                  disk_free_gb=status.disk_free_gb if status else None)
