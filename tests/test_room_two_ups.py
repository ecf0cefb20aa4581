"""The room core with two UPSes feeding the PC, as tables: one of them cannot be read, or one is
on mains beside one on battery. What the PC is told, the journal, and whether the Pi powers off.

The first rule: nothing ends a meeting on mains. A UPS that cannot be read says nothing about the
mains; one that can be read on mains says the mains is there.
"""

from __future__ import annotations

import pytest

from edge.room import Inputs, PcReport, RoomState, Rules, UpsReading, step
from edge.room_view import snapshot
from protocol.config import PolicyConfig
from protocol.messages import AgentStatus

RULES = Rules(policy=PolicyConfig(), site_id="rr1", expected_pcs=("pc1",), powerdown=True)
T0 = 1_000_000.0


def ups(name: str, status: str, runtime: float | None = 1800.0, charge: float = 100.0) -> UpsReading:
    return UpsReading(name=name, ts=0, status=status, charge_pct=charge, runtime_s=runtime)


def dead(name: str, why: str = "driver_not_connected") -> UpsReading:
    return UpsReading(name=name, ts=0, error=why, error_detail="x")


def run(ticks, state=None):
    """Feed (t, readings) ticks (seconds after T0, the PC online); return every (state, effects)."""
    state = state or RoomState(started=T0 - 100)
    out = []
    for t, readings in ticks:
        pc = PcReport("pc1", True, T0 + t, AgentStatus(pc="pc1", ts=0, meeting_app=True))
        state, fx = step(state, Inputs(T0 + t, tuple(readings), (pc,)), RULES)
        out.append((state, fx))
    return out


def sent(out) -> list[str]:
    """Every command the PC was sent, in order (resends included)."""
    return [cmd.kind for _, fx in out for _, cmd in fx.send]


def events(out) -> list[str]:
    return [kind for _, fx in out for kind, _ in fx.events]


def detail(out, kind: str) -> dict:
    return next(d for _, fx in out for k, d in fx.events if k == kind)


# What "aux" did before its driver died: never read; read on mains, full, an hour before; read on
# mains while recharging after an earlier cut (what it would give if cut then: 110 s).
AUX_BEFORE = {
    "never_read": [],
    "read_on_mains_an_hour_before": [(0, [ups("meeting", "OL"), ups("aux", "OL")])],
    "read_recharging": [(0, [ups("meeting", "OL"), ups("aux", "OL CHRG", 110.0, 60.0)])],
}


@pytest.mark.parametrize("before", AUX_BEFORE)
def test_a_flicker_beside_a_dead_ups_ends_when_the_mains_is_back(before):
    ok = ups("meeting", "OL")
    ticks = [*AUX_BEFORE[before], (1, [ok, dead("aux")]), (3600, [ok, dead("aux")]),
             (3601, [ups("meeting", "OB DISCHRG", 1700.0), dead("aux")])]   # one poll on battery
    ticks += [(t, [ok, dead("aux")]) for t in (3602, 3610, 3700, 4000, 7600)]
    out = run(ticks)
    assert "power_lost" in events(out[-6:-5])
    assert events(out[-5:-4]) == ["power_restored"]          # at the first poll on mains
    assert detail(out, "power_restored") == {"duration_s": 1.0}
    assert sent(out) == []                                   # no notice, wrap-up or shutdown
    assert not any(fx.powerdown for _, fx in out) and "pi_poweroff" not in events(out)
    assert [s.room for s, _ in out[-5:]] == ["fault"] * 5    # aux still needs IT


def test_a_ups_lost_on_battery_still_shuts_the_pc_down_on_its_estimate():
    """The case the estimate is for: aux's USB dies mid-outage while it truly runs on battery."""
    ticks = [(0, [ups("meeting", "OB DISCHRG", 1500.0), ups("aux", "OB DISCHRG", 400.0)]),
             (6, [ups("meeting", "OB DISCHRG", 1490.0), ups("aux", "OB DISCHRG", 400.0)]),
             (10, [ups("meeting", "OB DISCHRG", 1480.0), dead("aux")]),
             (105, [ups("meeting", "OB DISCHRG", 1400.0), dead("aux")]),
             (107, [ups("meeting", "OB DISCHRG", 1400.0), dead("aux")]),   # 400 - 101 s
             (287, [ups("meeting", "OB DISCHRG", 1200.0), dead("aux")])]   # 400 - 281 s
    out = run(ticks)
    assert [s.room for s, _ in out] == ["on_battery"] * 4 + ["wrapup", "shutdown"]
    assert detail(out, "runtime_estimated") == {"ups": "aux", "runtime_s": 396, "from_s": 400}
    assert detail(out, "wrapup_sent")["why"] == "runtime_estimated"
    assert detail(out, "shutdown_sent")["why"] == "runtime_estimated"
    assert "power_restored" not in events(out)


def test_every_ups_lost_on_battery_keeps_the_outage_and_the_estimate():
    ticks = [(0, [ups("meeting", "OB DISCHRG", 1500.0), ups("aux", "OB DISCHRG", 400.0)]),
             (6, [ups("meeting", "OB DISCHRG", 1490.0), ups("aux", "OB DISCHRG", 400.0)]),
             (10, [dead("meeting", "refused"), dead("aux", "refused")]),     # upsd gone
             (287, [dead("meeting", "refused"), dead("aux", "refused")])]
    out = run(ticks)
    assert [s.room for s, _ in out] == ["on_battery"] * 3 + ["shutdown"]
    assert "power_restored" not in events(out)
    assert sent(out)[-1] == "shutdown"


def test_a_ups_lost_on_battery_does_not_hold_the_outage_once_the_other_says_mains():
    ticks = [(0, [ups("meeting", "OB DISCHRG", 1500.0), ups("aux", "OB DISCHRG", 400.0)]),
             (6, [ups("meeting", "OB DISCHRG", 1490.0), ups("aux", "OB DISCHRG", 400.0)]),
             (10, [ups("meeting", "OB DISCHRG", 1480.0), dead("aux")]),
             (20, [ups("meeting", "OL CHRG"), dead("aux")]),
             (400, [ups("meeting", "OL CHRG"), dead("aux")])]
    out = run(ticks)
    assert "power_restored" in events(out[3:4])
    assert sent(out) == ["notice", "cancel"]
    assert out[-1][0].outage is None and out[-1][0].room == "fault"


@pytest.mark.parametrize("aux_before", [
    # an earlier outage: aux read on battery (400 s), then its driver died; mains came back
    [(0, [ups("meeting", "OB DISCHRG", 1500.0), ups("aux", "OB DISCHRG", 400.0)]),
     (10, [ups("meeting", "OB DISCHRG", 1480.0), dead("aux")]),
     (20, [ups("meeting", "OL CHRG"), dead("aux")])],
    # aux read on mains, full, then its driver died
    [(0, [ups("meeting", "OL"), ups("aux", "OL")]), (20, [ups("meeting", "OL"), dead("aux")])],
], ids=["read_on_battery_in_an_earlier_outage", "read_on_mains"])
def test_a_runtime_from_before_the_outage_does_not_count_down_in_it(aux_before):
    """An hour later the mains goes for real. aux's old runtime would give an estimate of 0 and
    a shutdown at the end of the flicker guard; without a runtime read in this outage, time
    decides (unreadable_wrapup_after_s, then unreadable_shutdown_after_s)."""
    cut = [(t, [ups("meeting", "OB DISCHRG", 1700.0), dead("aux")]) for t in (3600, 3606, 3667)]
    out = run(aux_before + cut)
    this_outage, first, later = out[-3:], out[-2:-1], out[-1:]
    assert "runtime_estimated" not in events(this_outage)
    assert sent(first) == ["notice"] and "shutdown" not in sent(this_outage)
    assert sent(later)[-1] == "wrapup" and detail(later, "wrapup_sent")["why"] == "ups_unreadable"


# aux on mains, readable: its values are what it would give if cut now, not what the PC has left.
AUX_ON_MAINS = {
    "recharging_110_s": ups("aux", "OL CHRG", 110.0, 60.0),      # below shutdown_at_runtime_s
    "recharging_250_s": ups("aux", "OL CHRG", 250.0, 70.0),      # below wrapup_at_runtime_s
    "charge_only_20_pct": ups("aux", "OL CHRG", None, 20.0),     # below shutdown_at_charge_pct
}


@pytest.mark.parametrize("aux", AUX_ON_MAINS)
def test_a_flicker_beside_a_ups_on_mains_keeps_the_flicker_guard(aux):
    ok, other = ups("meeting", "OL"), AUX_ON_MAINS[aux]
    out = run([(0, [ok, other]), (1, [ups("meeting", "OB DISCHRG", 1700.0), other]),
               (2, [ok, other]), (10, [ok, other])])
    assert out[1][0].room == "on_battery" and out[2][0].outage is None
    assert sent(out) == []            # no notice, wrap-up and shutdown at once, no cancel after
    assert detail(out, "power_lost")["runtime_s"] == 1700.0
    assert detail(out, "power_lost")["charge_pct"] == 100.0


@pytest.mark.parametrize("aux", AUX_ON_MAINS)
def test_in_an_outage_the_ups_on_battery_leads_and_the_one_on_mains_is_shown(aux):
    other = AUX_ON_MAINS[aux]
    ticks = [(t, [ups("meeting", "OB DISCHRG", r), other]) for t, r in ((0, 1700.0), (6, 1690.0),
                                                                       (1400, 290.0), (1600, 110.0))]
    out = run(ticks)
    assert [s.room for s, _ in out] == ["on_battery", "on_battery", "wrapup", "shutdown"]
    assert [sent(out[i:i + 1]) for i in range(3)] == [[], ["notice"], ["wrapup"]]
    assert detail(out, "wrapup_sent")["runtime_s"] == 290.0
    state, fx = out[1]
    snap = snapshot(state, Inputs(T0 + 6, tuple(ticks[1][1])), fx, RULES)
    assert snap.power.runtime_s == 1690.0 and snap.power.charge_pct == 100.0
    assert [u.runtime_s for u in snap.ups] == [1690.0, other.runtime_s]   # aux's own, for IT
