"""The room core's promises, checked over random sequences of UPS readings, PC reports and acks.

Written against ``step``'s public interface only (Inputs, RoomState, Rules, UpsReading), with
keyword arguments, so optional fields added to Inputs later do not break it. The promises:
stages only move forward within an outage; at most one notice, wrap-up and shutdown per outage
(resends keep the id); every PC told anything gets a cancel when power returns; an unreadable
UPS alone never starts an outage; never a shutdown command while every PC-feeding UPS reads on
line.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from hypothesis import given
from hypothesis import strategies as st

from edge.room import UNREADABLE_REASONS, Inputs, PcReport, RoomState, Rules, UpsReading, step
from protocol.config import PolicyConfig
from protocol.messages import EDGE_COMMAND_KINDS, Ack, AgentStatus, EdgeCommand
from tests import hypothesis_profiles  # noqa: F401 - bounded examples here, more in make reliability

PCS = ("pc-a", "pc-b")
RULES = Rules(policy=PolicyConfig(notice_after_s=5, wrapup_at_runtime_s=300,
                                  shutdown_at_runtime_s=120, unreadable_wrapup_after_s=60),
              site_id="bappeda-rr1", place="Ruang Rapat 1", expected_pcs=PCS)
STAGE_ORDER = ("on_battery", "wrapup", "shutdown")
OUTAGE_KINDS = ("notice", "wrapup", "shutdown")

# What real drivers say, lies included (CONTRACT §5.3): "OL FSD" is a Megatec unit with FSD
# always set, which must never shut the PC down; "OL LB" and "OL DISCHRG" lie the same way.
STATUSES = ("OL", "OL CHRG", "OL", "OB DISCHRG", "OB", "OB LB", "OB DISCHRG LB", "OL RB",
            "OB FSD", "OL FSD", "OL CHRG FSD", "OL OB", "OL OB DISCHRG", "OL LB", "OL CHRG LB", "CAL OB", "OVER OL",
            "OL DISCHRG", "OB RB")


def reading(name: str, powers_pc: bool) -> st.SearchStrategy[UpsReading]:
    readable = st.builds(UpsReading, name=st.just(name), ts=st.just(0.0), powers_pc=st.just(powers_pc),
                         status=st.sampled_from(STATUSES),
                         charge_pct=st.none() | st.floats(0, 100),
                         runtime_s=st.none() | st.floats(0, 4000))
    unreadable = st.builds(UpsReading, name=st.just(name), ts=st.just(0.0),
                           powers_pc=st.just(powers_pc), error=st.sampled_from(UNREADABLE_REASONS),
                           error_detail=st.just("cannot read"))
    return readable | unreadable


@dataclass(frozen=True)
class Stretch:
    """The same readings for ``ticks`` polls, ``dt`` seconds apart."""

    ups: tuple[UpsReading, ...]
    ticks: int
    dt: float
    pcs_report: bool     # the PCs send their status
    ack: bool            # the PCs ack what is pending
    button: bool
    command: str | None  # an edge command (silence, test_notice, ...) on the stretch's first tick


STRETCHES = st.builds(Stretch, ups=st.tuples(reading("meeting", True), reading("lights", False)),
                      ticks=st.integers(1, 15), dt=st.floats(0.2, 40), pcs_report=st.booleans(),
                      ack=st.booleans(), button=st.booleans(),
                      command=st.none() | st.sampled_from(EDGE_COMMAND_KINDS))


@dataclass
class Watch:
    """What one outage has done so far, as the daemon would carry it out."""

    started: float
    stages: list[str] = field(default_factory=list)
    events: Counter = field(default_factory=Counter)
    ids: dict[tuple[str, str], set[str]] = field(default_factory=dict)   # (kind, pc) -> ids

    @property
    def told(self) -> set[str]:
        return {pc for (kind, pc) in self.ids if kind in OUTAGE_KINDS}


def inputs(now: float, s: Stretch, state: RoomState, first: bool = False) -> Inputs:
    ups = tuple(replace(r, ts=now) for r in s.ups)
    pcs = tuple(PcReport(pc, available=True, last_seen=now, status=AgentStatus(pc, now))
                for pc in PCS) if s.pcs_report else ()
    acks = tuple((p.pc, Ack(p.command.id, p.command.kind, True, now)) for p in state.pending) \
        if s.ack else ()
    commands = (EdgeCommand(id=f"e{now}", ts=now, kind=s.command, by="test"),) \
        if first and s.command else ()
    return Inputs(now=now, ups=ups, pcs=pcs, acks=acks, commands=commands, button=s.button)


def check_tick(prev: RoomState, state: RoomState, inp: Inputs, sends, events,
               watch: Watch | None) -> Watch | None:
    """Assert the promises for one tick; returns the outage being watched."""
    feeding = [r for r in inp.ups if r.powers_pc]
    kinds = [cmd.kind for _, cmd in sends]
    if all(r.reachable and "OL" in r.flags and "OB" not in r.flags for r in feeding):
        assert "shutdown" not in kinds, f"shutdown sent while on line: {[r.status for r in feeding]}"
    if prev.outage is None and state.outage is not None:
        assert any(r.reachable and "OB" in r.flags for r in feeding), \
            "an outage started without a readable UPS saying OB (FSD alone is no outage)"
        watch = Watch(state.outage.started)
    if state.room in STAGE_ORDER:
        assert state.outage is not None
    if watch is not None:
        for kind, _ in events:
            watch.events[kind] += 1
        for pc, cmd in sends:
            watch.ids.setdefault((cmd.kind, pc), set()).add(cmd.id)
        for kind in OUTAGE_KINDS:
            assert watch.events[f"{kind}_sent"] <= 1, f"a second {kind} in one outage"
            assert all(len(watch.ids.get((kind, pc), ())) <= 1 for pc in PCS), \
                f"a {kind} with a new id in one outage"
        if state.outage is not None:
            stage = str(getattr(state.outage.stage, "value", state.outage.stage))
            assert not watch.stages or STAGE_ORDER.index(stage) >= STAGE_ORDER.index(watch.stages[-1]), \
                f"stage went back from {watch.stages[-1]} to {stage}"
            watch.stages.append(stage)
        else:   # power is back: everyone told anything hears "cancel" now
            cancelled = {pc for pc, cmd in sends if cmd.kind == "cancel"}
            assert watch.told <= cancelled, f"no cancel for {sorted(watch.told - cancelled)}"
            watch = None
    return watch


@given(stretches=st.lists(STRETCHES, min_size=1, max_size=12))
def test_the_room_keeps_its_promises_whatever_the_ups_and_pcs_say(stretches):
    now = 1_764_270_000.0
    state = RoomState(started=now)
    watch = None
    for s in stretches:
        for tick in range(s.ticks):
            now += s.dt
            inp = inputs(now, s, state, first=tick == 0)
            new, effects = step(state, inp, RULES)
            watch = check_tick(state, new, inp, effects.send, effects.events, watch)
            state = new


@given(stretches=st.lists(STRETCHES.map(lambda s: replace(
    s, ups=tuple(replace(r, error=r.error or "data_stale", status="") for r in s.ups))),
    min_size=1, max_size=6))
def test_an_unreadable_ups_alone_never_means_on_battery(stretches):
    now = 1_764_270_000.0
    state = RoomState(started=now)
    for s in stretches:
        for _ in range(s.ticks):
            now += s.dt
            state, effects = step(state, inputs(now, s, state), RULES)
            assert state.room == "fault" and state.outage is None
            assert not [cmd for _, cmd in effects.send if cmd.kind in OUTAGE_KINDS]
