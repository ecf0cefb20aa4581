"""The room core's state in and out: ``resume`` reads it back from the journal after a restart,
``snapshot`` writes it as the retained state message (CONTRACT §3). Pure."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from edge.pcs import PcReport, open_activity
from edge.power import UpsReading, Verdict, estimates, power as _power
from edge.room import Effects, Inputs, RoomState, Rules, Sent, verdicts_of
from edge.stages import STAGES, Outage, make_command, runtime_of
from protocol.messages import (EventKind, IndicatorView, JournalEvent, OutageView, PcCommandKind,
                               PcView, Power, Room, StateSnapshot, UpsView)
from protocol.outage_stages import OUTAGE_STAGES, OutageStage, SHUTDOWN, WRAPUP, by_event


def resume(events: list[JournalEvent], now: float, rules: Rules, mono: float | None = None,
           activity: list[JournalEvent] | None = None) -> RoomState:
    """The state to start from: picks up an outage the journal shows still open, so a restart
    sends no second notice and no second shutdown, and resends what was never acked.
    ``mono``: the monotonic clock now (journal times are wall clock and are mapped onto it).
    ``activity``: the latest meeting/conversion events, newest first (meetings still open)."""
    mono = now if mono is None else mono
    state = RoomState(started=mono, pcs=open_activity(activity or []))
    if not events or events[0].kind != EventKind.POWER_LOST:
        return state
    to_mono = lambda ts: mono - (now - ts)  # noqa: E731 - one line, used below only
    outage = Outage(started=events[0].ts, started_mono=to_mono(events[0].ts))
    sent: list[Sent] = []
    acked: set[str] = set()
    for e in events[1:]:
        stage = by_event(e.kind)
        if stage is not None and stage.command is not None:
            outage, more = _resume_sent(outage, e, stage, to_mono(e.ts), rules)
            sent += more
        elif e.kind == EventKind.PC_ACK:
            acked.add(str(e.detail.get("id")))
            if e.detail.get("kind") == PcCommandKind.SHUTDOWN:   # ok, or later: it failed
                pc = {str(e.detail.get("pc"))}
                shut = outage.shut_acked | pc if e.detail.get("ok") is True else outage.shut_acked - pc
                outage = replace(outage, shut_acked=shut)
        else:
            outage = _resume_mark(outage, e)
    pending = tuple(s for s in sent if s.command.id not in acked)
    return replace(state, room=outage.stage, since=events[-1].ts, outage=outage, first=False,
                   pending=pending)


def _resume_sent(outage: Outage, e: JournalEvent, stage: OutageStage, at: float,
                 rules: Rules) -> tuple[Outage, list[Sent]]:
    """A command stage the journal shows sent: the outage reached it; its unacked commands."""
    assert stage.command is not None   # resume passes command stages only
    pcs = frozenset(p for p in e.detail.get("pcs", []) if isinstance(p, str))
    if STAGES.index(stage.room) > STAGES.index(outage.stage):
        outage = replace(outage, stage=stage.room)
    if stage is WRAPUP:
        outage = replace(outage, wrapup_mono=at)
    if stage is SHUTDOWN:
        outage = replace(outage, shutdown_mono=at)
    sent_at: dict[str, Any] = {stage.field: e.ts}   # the stage's own time field
    outage = replace(outage, told=outage.told | pcs, **sent_at)
    runtime = runtime_of(e.detail)
    return outage, [Sent(pc=pc, command=make_command(stage.command, pc, outage.started, e.ts,
                                                     runtime, rules),
                         last_sent=at, expires_at=at + rules.command_ttl_s) for pc in sorted(pcs)]


def _resume_mark(outage: Outage, e: JournalEvent) -> Outage:
    """The other events an open outage remembers: LB seen, hold, estimate, PCs off. Not
    ``pi_poweroff``: a new boot never inherits a power-off decision (edge.stages.powerdown_due
    takes it again, from this process's own readings on battery)."""
    if e.kind == EventKind.LOW_BATTERY:
        return replace(outage, low_battery=True)
    if e.kind == EventKind.SHUTDOWN_HELD:
        return replace(outage, held=True)
    if e.kind == EventKind.RUNTIME_ESTIMATED:
        return replace(outage, estimated=outage.estimated | {str(e.detail.get("ups"))})
    if e.kind == EventKind.PC_OFF:
        off = outage.off | {str(e.detail.get("pc"))}
        all_off = e.ts if outage.told and outage.told <= off else outage.pc_off
        return replace(outage, off=off, pc_off=all_off)
    return outage


def snapshot(state: RoomState, inp: Inputs, effects: Effects, rules: Rules,
             selftest: dict[str, bool | None] | None = None) -> StateSnapshot:
    """The retained state message of CONTRACT §3; ``selftest``: which UPS can run one."""
    verdicts = verdicts_of(inp.ups, state.charge_ob_ol, state.fsd_on_mains)
    guesses = estimates(inp.ups, state.last_runtime, inp.clock, state.outage.mono_start()) \
        if state.outage else ()
    power = _power(inp.ups, verdicts, guesses, inp.learned)
    reports = {p.id: p for p in inp.pcs}
    o = state.outage
    return StateSnapshot(
        site=rules.site_id, name=rules.place, ts=inp.now, room=Room(state.room).value,
        since=state.since,
        reasons=list(state.reasons),
        power=Power(on_battery=power.on_battery, low_battery=power.low_battery,
                    charge_pct=power.charge_pct, runtime_s=power.runtime_s,
                    runtime_source=power.runtime_source),
        ups=[_ups_view(r, verdicts.get(r.name), (selftest or {}).get(r.name),
                       inp.learned.get(r.name), inp.learned_from.get(r.name)) for r in inp.ups],
        pcs=[_pc_view(pc, reports.get(pc), state) for pc in rules.expected_pcs],
        indicator=IndicatorView(led=effects.led.value, pattern=effects.pattern.value,
                                buzzer=effects.buzzer.value, silenced=state.silenced),
        outage=None if o is None else OutageView(**{s.field: getattr(o, s.field)
                                                    for s in OUTAGE_STAGES}),
        next_meeting=state.next_meeting,
    )


def _ups_view(r: UpsReading, v: Verdict | None, selftest: bool | None,
              learned: float | None, discharges: int | None) -> UpsView:
    return UpsView(name=r.name, reachable=r.reachable, status=r.status,
                   on_battery=bool(v and v.on_battery), low_battery=bool(v and v.low_battery),
                   charge_pct=r.charge_pct, runtime_s=v.runtime_s if v else None,
                   load_pct=r.load_pct, input_voltage=r.input_voltage, selftest=selftest,
                   realpower_nominal=r.realpower_nominal, power_nominal=r.power_nominal,
                   battery_date=r.battery_date or None, runtime_learned_s=learned,
                   runtime_discharges=discharges)


def _pc_view(pc: str, report: PcReport | None, state: RoomState) -> PcView:
    """One PC as the state shows it. An offline PC is in no meeting and converts nothing (the
    journal has ended both): its last status says what it was doing, not what it does."""
    status = report.status if report else None
    online = pc in state.pcs_online
    return PcView(id=pc, online=online, last_seen=report.last_seen if report else None,
                  meeting_app=bool(online and status and status.meeting_app),
                  converting=bool(online and status and status.converting),
                  disk_free_gb=status.disk_free_gb if status else None,
                  meeting=status.meeting if status and online else None,
                  disk_used_gb_day=status.disk_used_gb_day if status else None)
