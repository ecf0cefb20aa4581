"""The runtime learner (edge.runtime_model, edge.runtime_learner): pure, the time passed in."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.power import UpsReading
from edge.runtime_learner import Learning, learned_runtimes, observe
from edge.runtime_model import DEFAULT_LOW_PCT, UpsModel, runtime_learned


def reading(charge: float | None, load: float | None = 35.0, status: str = "OB DISCHRG",
            **more) -> UpsReading:
    return UpsReading("meeting", 0.0, status=status, charge_pct=charge, load_pct=load, **more)


def cut(learning: Learning, rate: float, load: float = 35.0, seconds: float = 120,
        start: float = 100.0, step: float = 0.0, t0: float = 0.0, every: float = 1.0,
        **more) -> tuple[Learning, list, list]:
    """One discharge at ``rate`` pct/s, sampled every ``every`` s, then mains again.
    ``step``: the charge as the firmware reports it, in steps of this many points."""
    events, notes = [], []
    t = 0.0
    while t <= seconds:
        charge = max(0.0, start - rate * t)
        if step:
            charge = step * math.ceil(charge / step)
        learning, out = observe(learning, (reading(charge, load, **more),), t0 + t, 1000 + t0 + t)
        events += out.events
        notes += out.notes
        t += every
    learning, out = observe(learning, (reading(start - rate * seconds, load, "OL CHRG", **more),),
                            t0 + t, 1000 + t0 + t)
    return learning, events + out.events, notes + out.notes


def test_first_cut_learns_the_true_time_to_the_low_point():
    learning, events, notes = cut(Learning(), rate=0.25, seconds=120, charge_low_pct=20.0)
    assert [e[0].value for e in events] == ["runtime_learned"] and notes == []
    detail = events[0][1]
    assert detail["ups"] == "meeting" and detail["discharges"] == 1
    assert detail["rate_pct_per_min"] == pytest.approx(15.0, rel=0.02)
    assert detail["load_pct"] == pytest.approx(35.0)
    now = reading(80.0, charge_low_pct=20.0)
    assert learned_runtimes(learning, (now,))["meeting"] == pytest.approx(60 / 0.25, rel=0.02)


def test_a_lighter_load_lasts_longer_and_two_loads_fit_the_exponent():
    learning, _, _ = cut(Learning(), rate=0.2, load=40.0)
    learning, _, _ = cut(learning, rate=0.1, load=20.0, t0=1000)
    model = learning.models["meeting"]
    assert model.fit()[1] == pytest.approx(1.0, abs=0.05)
    assert runtime_learned(model, reading(50.0, 20.0)) > 1.9 * runtime_learned(model, reading(50.0, 40.0))


def test_low_point_is_battery_charge_low_else_last_lb_else_ten():
    learning, _, _ = cut(Learning(), rate=0.25)
    model = learning.models["meeting"]
    assert runtime_learned(model, reading(60.0)) == pytest.approx((60 - DEFAULT_LOW_PCT) / 0.25, rel=0.02)
    assert runtime_learned(model, reading(60.0, charge_low_pct=30.0)) == pytest.approx(30 / 0.25, rel=0.02)
    # LB said at 40 %: that is its low point from now on.
    learning, _ = observe(learning, (reading(40.0, status="OB DISCHRG LB"),), 5000, 6000)
    learning, _ = observe(learning, (reading(40.0, status="OL CHRG"),), 5001, 6001)
    assert runtime_learned(learning.models["meeting"], reading(60.0)) == pytest.approx(20 / 0.25, rel=0.02)


@pytest.mark.parametrize("why, kwargs, said", [
    ("constant 100", dict(rate=0.0), "fell 0 points"),
    ("too short", dict(rate=1.0, seconds=20), "lasted 21 s"),
    ("load 0", dict(rate=0.25, load=0.0), "no believable load"),
    ("load unreadable (562020 is dropped by the reader)", dict(rate=0.25, load=None),
     "no believable load"),
])
def test_bad_data_learns_nothing_and_says_why_once(why, kwargs, said):
    learning, events, notes = cut(Learning(), **kwargs)
    learning, events2, notes2 = cut(learning, t0=1000, **kwargs)
    assert events == events2 == []
    assert len(notes) == 1 and said in notes[0] and notes2 == []  # once, not per cut
    assert learned_runtimes(learning, (reading(80.0),)) == {}


def test_battery_replaced_mid_cut_learns_nothing_and_forgets_the_old_battery():
    learning, _, _ = cut(Learning(), rate=0.25, battery_date="2024-01-15", serial="A1")
    assert learned_runtimes(learning, (reading(80.0, serial="A1"),))
    events, notes = [], []
    for t in range(60):
        serial = "A1" if t < 30 else "B2"
        learning, out = observe(learning, (reading(100 - 0.5 * t, serial=serial),), 5000 + t, 9000 + t)
        events += out.events
        notes += out.notes
    learning, out = observe(learning, (reading(70.0, status="OL", serial="B2"),), 5100, 9100)
    assert events + out.events == []
    assert any("replaced" in n for n in notes + out.notes)
    assert learned_runtimes(learning, (reading(80.0, serial="B2"),)) == {}


def test_charge_jumping_up_when_the_load_drops_is_not_charge_gained():
    learning = Learning()
    charges = [100 - 0.25 * t for t in range(80)] + [85.0] * 5 + [80 - 0.25 * t for t in range(40)]
    for t, c in enumerate(charges):  # the load drops at t=80 and the voltage (charge) recovers
        learning, _ = observe(learning, (reading(c, 35.0),), float(t), 1000.0 + t)
    learning, out = observe(learning, (reading(70.0, 35.0, "OL"),), 200.0, 1200.0)
    rate = out.events[0][1]["rate_pct_per_min"] / 60
    assert 0.15 < rate <= 0.26


@settings(max_examples=60, deadline=None)
@given(rate=st.floats(0.02, 0.5), load=st.floats(5, 100), low=st.sampled_from([None, 20.0, 30.0]),
       second=st.floats(0.8, 1.25))
def test_estimate_never_rises_while_the_charge_falls_at_constant_load(rate, load, low, second):
    learning, _, _ = cut(Learning(), rate=rate, load=load, seconds=max(40, 30 / rate),
                         charge_low_pct=low)
    learning, _, _ = cut(learning, rate=rate * second, load=load, seconds=max(40, 30 / rate),
                         t0=10_000, charge_low_pct=low)
    before = math.inf
    for t in range(0, int(100 / rate), max(1, int(1 / rate))):
        charge = max(0.0, 100 - rate * t)
        learning, _ = observe(learning, (reading(charge, load, charge_low_pct=low),), 50_000 + t, 0)
        estimate = learned_runtimes(learning, (reading(charge, load, charge_low_pct=low),))["meeting"]
        assert estimate <= before
        before = estimate


@settings(max_examples=60, deadline=None)
@given(rate=st.floats(0.02, 0.4), load=st.floats(5, 100), fall=st.floats(25, 80),
       at=st.floats(30, 95))
def test_a_stepped_charge_gives_the_same_estimate_within_15_percent(rate, load, fall, at):
    smooth, _, _ = cut(Learning(), rate=rate, load=load, seconds=fall / rate)
    stepped, _, _ = cut(Learning(), rate=rate, load=load, seconds=fall / rate, step=5.0)
    now = (reading(at, load),)
    a, b = learned_runtimes(smooth, now)["meeting"], learned_runtimes(stepped, now)["meeting"]
    assert b == pytest.approx(a, rel=0.15)
    assert a == pytest.approx((at - DEFAULT_LOW_PCT) / rate, rel=0.15)


def test_no_model_no_estimate_and_unreadable_ups_changes_nothing():
    unreadable = UpsReading("meeting", 0.0, error="refused")
    learning, out = observe(Learning(), (unreadable,), 0.0, 0.0)
    assert learning.models == {} and not out.changed
    assert runtime_learned(None, reading(50.0)) is None
    assert runtime_learned(UpsModel(), reading(50.0)) is None


def test_a_fall_made_only_of_the_sag_or_of_two_loads_learns_nothing_and_says_why():
    """40 s on battery: 100 -> 74 at once (a charge read from the voltage under the load), then
    3 points: 26 points fell, 3 of them over time. And a cut whose PC shut down 20 s in."""
    for charges, loads, said in (
            ([100.0] + [74.0 - 0.1 * t for t in range(1, 41)], [35.0] * 41, "at once when the load"),
            ([100.0 - 0.5 * t for t in range(61)], [35.0] * 21 + [10.0] * 40,
             "the load changed from 35 % to 10 %")):
        learning = Learning()
        learning, _ = observe(learning, (reading(100.0, 35.0, "OL"),), 0.0, 0.0)
        for t, (c, load) in enumerate(zip(charges, loads), 1):
            learning, _ = observe(learning, (reading(float(round(c)), load),), float(t), float(t))
        learning, out = observe(learning, (reading(90.0, 35.0, "OL"),), 100.0, 100.0)
        assert out.events == [] and len(out.notes) == 1 and said in out.notes[0], out.notes
        assert learned_runtimes(learning, (reading(80.0),)) == {}
