"""An outage's stages, from the first OB to the shutdown: part of the room core. Pure.

``track_outage`` opens and closes the outage; ``advance`` moves it forward (it never moves back)
and sends each stage's command once: the notice after the flicker guard, the wrap-up that saves
the recording, the shutdown. Durations are on the monotonic clock (``clock``); what the journal
and the PCs read is on the wall clock (``now``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from edge.pcs import PcWatch
from edge.power import PowerView
from protocol.messages import EventKind, PcCommand, PcCommandKind, Room
from protocol.outage_stages import COMMAND_STAGES, OUTAGE_ROOMS, OutageStage, SHUTDOWN
from protocol.texts import command_texts

if TYPE_CHECKING:
    from protocol.config import PolicyConfig
    from edge.room import Rules

# The room states of an outage, in order: an outage only ever moves forward (protocol/outage_stages.py).
STAGES = OUTAGE_ROOMS
# Shutdowns that are sure: the UPS itself says so, or the runtime is already at the threshold.
# Waiting out the flicker guard (notice_after_s) would only spend battery the PC needs.
SURE = ("fsd", "low_battery", "runtime")
# ...and shutdowns that no conversion may hold: the battery may die at any moment.
UNHOLDABLE = ("fsd", "low_battery")
# A PC told to shut down that never says it is off (no ack, agent gone): its grace, then this
# long for its OS to finish (Windows needs 10-30 s after the command), before the Pi goes too.
PC_POWEROFF_ALLOWANCE_S = 60.0


@dataclass(frozen=True)
class Outage:
    """The current power cut, from the first OB to mains again. Times ending in ``_sent`` and
    ``pc_off`` are wall clock (for people); ``started_mono`` and the others are monotonic."""

    started: float
    started_mono: float | None = None
    stage: Room = Room.ON_BATTERY
    notice_sent: float | None = None
    wrapup_sent: float | None = None
    shutdown_sent: float | None = None
    told: frozenset[str] = frozenset()        # PCs sent anything: they get a cancel
    low_battery: bool = False
    unreadable_since: float | None = None     # monotonic
    wrapup_mono: float | None = None          # when the wrap-up stage was reached
    estimated: frozenset[str] = frozenset()   # UPSes whose runtime_estimated is journaled
    held: bool = False                        # shutdown_held journaled
    shut_acked: frozenset[str] = frozenset()  # PCs that acked the shutdown
    off: frozenset[str] = frozenset()         # ... and then went offline
    pc_off: float | None = None               # when every told PC was off
    shutdown_mono: float | None = None        # when the shutdown was sent (monotonic)
    pi_off: float | None = None               # when this Pi was told to power off (pi_poweroff)
    # This process has read a UPS feeding the PC on battery in this outage. An outage resumed
    # from the journal has not, until a fresh reading says so (see powerdown_due).
    seen_on_battery: bool = False

    def mono_start(self) -> float:
        """The start on the monotonic clock (a test's outage may have none: then the wall one)."""
        return self.started if self.started_mono is None else self.started_mono


def track_outage(prev: Outage | None, power: PowerView, now: float, clock: float,
                 events: list) -> tuple[Outage | None, Outage | None]:
    """(the open outage or None, the outage that just ended or None)."""
    out = power.on_battery  # FSD and LB count only with OB (edge.power)
    if prev is None:
        if not out:
            return None, None
        events.append((EventKind.POWER_LOST, {
            "ups": list(power.on_battery_ups), "charge_pct": power.charge_pct,
            "runtime_s": power.runtime_s, "load_pct": power.load_pct,
            "runtime_learned_s": power.runtime_learned_s,
            "runtime_claimed_s": power.runtime_claimed_s}))
        return Outage(started=now, started_mono=clock, seen_on_battery=True), None
    # A UPS unreadable mid-outage keeps it open (USB often drops at the transition), but only
    # while no UPS feeding the PC can be read on mains: one that can says the mains is back,
    # and a dead driver beside it must not walk the meeting to a shutdown on mains.
    if out or (power.unreadable and not power.on_mains_ups):
        since = (prev.unreadable_since or clock) if power.unreadable else None
        seen = prev.seen_on_battery or out
        return replace(prev, unreadable_since=since, seen_on_battery=seen), None
    events.append((EventKind.POWER_RESTORED, {"duration_s": round(clock - prev.mono_start(), 1)}))
    return None, prev


def stage_of(outage: Outage, power: PowerView, clock: float,
             policy: PolicyConfig) -> tuple[Room, str]:
    """(stage, why) for the power as it is now; runtime leads, LB comes too late to save much."""
    if power.forced:
        return Room.SHUTDOWN, "fsd"
    if power.low_battery:
        return Room.SHUTDOWN, "low_battery"
    if power.runtime_s is not None:
        why = "runtime_estimated" if power.runtime_source == "estimated" else "runtime"
        if power.runtime_s <= policy.shutdown_at_runtime_s:
            return Room.SHUTDOWN, why
        if power.runtime_s <= policy.wrapup_at_runtime_s:
            return Room.WRAPUP, why
    elif power.charge_pct is not None:  # no believable runtime: fall back to charge
        if power.charge_pct <= policy.shutdown_at_charge_pct:
            return Room.SHUTDOWN, "charge"
        if power.charge_pct <= policy.wrapup_at_charge_pct:
            return Room.WRAPUP, "charge"
    return _blind_stage(outage, power, clock, policy)


def _blind_stage(outage: Outage, power: PowerView, clock: float,
                 policy: PolicyConfig) -> tuple[Room, str]:
    """A UPS feeding the PC cannot be read and no runtime of it was read on battery in this
    outage: time decides.

    upsmon shuts down at once when it loses a UPS that was on battery. Siaga does not: a lost
    USB link or a restarted driver is common at the moment of a power cut, and a meeting PC shut
    down for that ends a meeting the battery could have carried. With a runtime read on battery
    in this outage, the estimate (edge.power.estimates) leads; without one, the wrap-up comes after
    ``unreadable_wrapup_after_s`` and the shutdown ``unreadable_shutdown_after_s`` after the
    wrap-up (see PolicyConfig for why those defaults).

    Only once this process has itself read the power on battery in this outage (as
    ``powerdown_due``): an outage resumed from the journal after the battery ran flat is resumed
    by a Pi that booted because the mains is back, while upsd's driver may not answer yet; time
    alone must not walk the PCs that booted with it to a shutdown on mains.
    """
    blind = set(power.unreadable) - {g.ups for g in power.estimated}
    if not blind or outage.unreadable_since is None or not outage.seen_on_battery:
        return Room.ON_BATTERY, ""
    if outage.wrapup_mono is not None and clock - max(outage.wrapup_mono, outage.unreadable_since) \
            >= policy.unreadable_shutdown_after_s:
        return Room.SHUTDOWN, "ups_unreadable"
    if clock - outage.unreadable_since >= policy.unreadable_wrapup_after_s:
        return Room.WRAPUP, "ups_unreadable"
    return Room.ON_BATTERY, ""


def advance(outage: Outage, power: PowerView, now: float, clock: float, rules: Rules,
            pcs: PcWatch, acked_off: frozenset[str], events: list, sends: list) -> Outage:
    """Move the outage forward and send each stage's command once, after the flicker guard
    (skipped for a sure shutdown); hold the shutdown while a PC converts a recording."""
    if power.low_battery and not outage.low_battery:
        events.append((EventKind.LOW_BATTERY, {"ups": list(power.on_battery_ups),
                                               "runtime_s": power.runtime_s}))
        outage = replace(outage, low_battery=True)
    outage = _journal_estimates(outage, power, events)
    stage, why = stage_of(outage, power, clock, rules.policy)
    if STAGES.index(stage) > STAGES.index(outage.stage):
        outage = replace(outage, stage=stage)
        if stage == Room.WRAPUP or (stage == Room.SHUTDOWN and outage.wrapup_mono is None):
            outage = replace(outage, wrapup_mono=clock)
    sure = outage.stage == Room.SHUTDOWN and why in SURE
    if sure or clock - outage.mono_start() >= rules.policy.notice_after_s:
        outage = _send_stages(outage, power, now, rules, pcs, why, events, sends)
    if outage.shutdown_sent is not None and outage.shutdown_mono is None:
        outage = replace(outage, shutdown_mono=clock)
    outage = _watch_off(outage, pcs, acked_off, now, events)
    if rules.powerdown and outage.pi_off is None and powerdown_due(outage, clock, rules.policy):
        events.append((EventKind.PI_POWEROFF, {}))
        outage = replace(outage, pi_off=now)
    return outage


def powerdown_due(outage: Outage, clock: float, policy: PolicyConfig) -> bool:
    """Whether this Pi may power off and have the UPS cut its outlets (NUT's POWERDOWNFLAG).

    Only inside an outage, i.e. after a believed OB (FSD or LB on mains never opens one), and only
    after the PCs: the shutdown was sent (not held), and every PC told is off, or none was told,
    or the PCs' grace and ``PC_POWEROFF_ALLOWANCE_S`` have passed without a word from them.
    And only once this process has itself read the power on battery in this outage: a Pi that
    powered itself off boots when the mains is back, resumes the outage from the journal while
    upsd is still starting (unreadable), and must not cut the room's power again on mains.
    """
    if outage.shutdown_sent is None or not outage.seen_on_battery:
        return False
    if not outage.told or outage.pc_off is not None:
        return True
    sent = clock if outage.shutdown_mono is None else outage.shutdown_mono
    return clock - sent >= policy.shutdown_grace_s + PC_POWEROFF_ALLOWANCE_S


def _send_stages(outage: Outage, power: PowerView, now: float, rules: Rules, pcs: PcWatch,
                 why: str, events: list, sends: list) -> Outage:
    """Each stage's command once, in order (a late start sends notice, wrap-up, shutdown at once)."""
    for stage in stages_due(outage.stage):
        if getattr(outage, stage.field) is not None:
            continue
        if stage is SHUTDOWN and _hold(outage, power, rules, pcs, why):
            return _held(outage, power, now, rules, pcs, events, sends)
        assert stage.command is not None   # stages_due gives command stages only
        targets = rules.expected_pcs
        sends.extend((pc, make_command(stage.command, pc, outage.started, now, power.runtime_s,
                                       rules)) for pc in targets)
        events.append((stage.event, {"pcs": list(targets), "runtime_s": power.runtime_s,
                                     "charge_pct": power.charge_pct, "why": why}))
        sent_at: dict[str, Any] = {stage.field: now}   # the stage's own time field
        outage = replace(outage, told=outage.told | set(targets), **sent_at)
    return outage


def stages_due(room: Room) -> tuple[OutageStage, ...]:
    """The command stages an outage in ``room`` has reached, in order (all of them at a late
    start: notice, wrap-up and shutdown at once)."""
    return COMMAND_STAGES[: STAGES.index(room) + 1]


def _hold(outage: Outage, power: PowerView, rules: Rules, pcs: PcWatch, why: str) -> bool:
    """Whether the shutdown waits for a conversion: only while an expected online PC converts,
    the runtime is known (or estimated) above ``hard_shutdown_at_runtime_s``, and neither LB nor
    FSD says the battery may die any moment. A hold never outlives the hard floor or LB."""
    if why in UNHOLDABLE or not (pcs.converting & pcs.online):
        return False
    return power.runtime_s is not None and power.runtime_s > rules.policy.hard_shutdown_at_runtime_s


def _held(outage: Outage, power: PowerView, now: float, rules: Rules, pcs: PcWatch,
          events: list, sends: list) -> Outage:
    """Journal the hold once and tell every PC it will shut down after the conversion."""
    if outage.held:
        return outage
    converting = sorted(pcs.converting & pcs.online)
    events.append((EventKind.SHUTDOWN_HELD, {"pcs": converting, "runtime_s": power.runtime_s,
                                             "why": "converting"}))
    for pc in rules.expected_pcs:
        sends.append((pc, make_command(PcCommandKind.NOTICE, pc, outage.started, now,
                                       power.runtime_s, rules, texts="hold")))
    return replace(outage, held=True, told=outage.told | set(rules.expected_pcs))


def _journal_estimates(outage: Outage, power: PowerView, events: list) -> Outage:
    """``runtime_estimated`` once per UPS and outage, when its estimate starts to be used."""
    for g in power.estimated:
        if g.ups not in outage.estimated:
            events.append((EventKind.RUNTIME_ESTIMATED, {"ups": g.ups, "runtime_s": round(g.runtime_s),
                                                         "from_s": round(g.from_s)}))
            outage = replace(outage, estimated=outage.estimated | {g.ups})
    return outage


def _watch_off(outage: Outage, pcs: PcWatch, acked_off: frozenset[str], now: float,
               events: list) -> Outage:
    """A PC that acked the shutdown and then went offline is off: journal ``pc_off`` once."""
    acked = outage.shut_acked | acked_off
    off = set(outage.off)
    for pc in sorted(acked - outage.off):
        if pc in pcs.known and pc not in pcs.online:
            events.append((EventKind.PC_OFF, {"pc": pc}))
            off.add(pc)
    all_off = outage.pc_off
    if all_off is None and outage.shutdown_sent is not None and outage.told and outage.told <= off:
        all_off = now
    return replace(outage, shut_acked=acked, off=frozenset(off), pc_off=all_off)


def make_command(kind: PcCommandKind, pc: str, anchor: float, now: float, runtime_s: float | None,
                 rules: Rules, texts: str = "") -> PcCommand:
    """A PC command; its id is derived from (site, outage start, kind, PC), so a restart
    that rebuilds an unacked command resends it with the same id. ``texts``: another entry of
    the catalogue for this kind (e.g. "hold": a notice that the shutdown waits), with its own id."""
    grace = rules.policy.shutdown_grace_s
    title, text, chat = command_texts(texts or kind, rules.lang, rules.place, runtime_s)
    return PcCommand(id=command_id(rules.site_id, anchor, kind, pc, texts), ts=now,
                     expires=now + rules.command_ttl_s, kind=PcCommandKind(kind).value,
                     lang=rules.lang, title=title, text=text, chat_text=chat,
                     runtime_s=None if runtime_s is None else int(runtime_s), grace_s=int(grace))


def command_id(site_id: str, anchor: float, kind: PcCommandKind, pc: str, texts: str = "") -> str:
    """The id of the ``kind`` command to ``pc`` of the outage started at ``anchor`` (wall clock)."""
    suffix = f"-{texts}" if texts else ""
    return f"{site_id}-{int(anchor * 1000):x}-{PcCommandKind(kind).value}-{pc}{suffix}"


def runtime_of(detail: dict[str, Any]) -> float | None:
    """A journal detail's runtime_s, when it is a number."""
    value = detail.get("runtime_s")
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
