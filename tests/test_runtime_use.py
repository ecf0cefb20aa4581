"""The learned runtime in the room core, the snapshot and on disk (CONTRACT §6.1)."""

from __future__ import annotations

import json

import pytest

from edge.power import UpsReading
from edge.room import Inputs, RoomState, Rules, step
from edge.room_view import snapshot
from edge.runtime_learner import Learning, observe
from edge.runtime_model import Discharge, UpsModel
from edge.runtime_store import load_models, save_models, store_path
from protocol.config import PolicyConfig
from protocol.messages import to_dict
from siaga.cli import main

RULES = Rules(policy=PolicyConfig(), site_id="rr1", place="Ruang Rapat 1", lang="id",
              expected_pcs=("pc1",))
T0 = 1_000.0


def ups(status="OL", charge=100.0, runtime=1800.0, **kw) -> UpsReading:
    return UpsReading(name=kw.pop("name", "meeting"), ts=0, status=status, charge_pct=charge,
                      runtime_s=runtime, **kw)


def tick(reading, learned=None, state=None, t=0.0):
    state = state or RoomState(started=T0)
    inp = Inputs(T0 + t, (reading,), learned=learned or {})
    new, fx = step(state, inp, RULES)
    return new, fx, snapshot(new, inp, fx, RULES)


@pytest.mark.parametrize("claim, learned, runtime, source, room", [
    (1800.0, None, 1800.0, "ups", "on_battery"),       # no measurement yet: the claim
    (1800.0, 250.0, 250.0, "learned", "wrapup"),       # the claim is twice the truth and more
    (1800.0, 100.0, 100.0, "learned", "shutdown"),     # ... shut down on the measurement
    (200.0, 900.0, 200.0, "ups", "wrapup"),            # a modest claim stays the smaller
    (None, 250.0, 250.0, "learned", "wrapup"),         # a charge-only UPS: real stages
    (None, None, None, None, "on_battery"),            # neither: today's charge rules (80 %)
])
def test_stages_use_the_smaller_of_claim_and_measurement(claim, learned, runtime, source, room):
    reading = ups("OB DISCHRG", charge=80.0, runtime=claim)
    state, fx, snap = tick(reading, {"meeting": learned} if learned is not None else {})
    assert state.room == room
    assert snap.power.runtime_s == runtime and snap.power.runtime_source == source
    assert snap.ups[0].runtime_learned_s == learned and snap.ups[0].runtime_s == claim
    lost = dict(fx.events)["power_lost"]
    assert lost["runtime_learned_s"] == learned and lost["runtime_s"] == runtime


def test_ups_with_neither_runtime_nor_charge_keeps_todays_behaviour():
    state, fx, snap = tick(ups("OB DISCHRG", charge=None, runtime=None))
    assert state.room == "on_battery" and snap.power.runtime_source is None
    assert to_dict(snap)["ups"][0]["runtime_learned_s"] is None


def test_models_survive_on_disk_and_bad_files_start_fresh(tmp_path):
    path = store_path(tmp_path / "journal.sqlite3")
    assert path == tmp_path / "runtime.json"
    assert load_models(path) == ({}, "")                      # missing: fresh, nothing to say
    model = UpsModel(serial="A1", battery_date="2024-01-15", lb_charge_pct=30.0,
                     discharges=(Discharge(1.0, 0.25, 35.0, 120.0, 30.0),))
    save_models(path, {"meeting": model})
    assert load_models(path) == ({"meeting": model}, "")
    assert json.loads(path.read_text())["version"] == 1
    assert not list(tmp_path.glob(".runtime-*"))              # no temporary file left
    old = json.loads(path.read_text())                         # written before the sag was learned
    del old["ups"]["meeting"]["discharges"][0]["sag_pct"]
    path.write_text(json.dumps(old))
    assert load_models(path) == ({"meeting": model}, "")      # kept, with no sag
    path.write_text(path.read_text()[:40])                    # truncated by a power cut
    models, said = load_models(path)
    assert models == {} and "starting fresh" in said
    path.write_text(json.dumps({"version": 0, "ups": {}}))
    models, said = load_models(path)
    assert models == {} and "version 0" in said and "starting fresh" in said


def test_forget_runtime_resets_one_ups(tmp_path, capsys):
    config = tmp_path / "siaga.toml"
    config.write_text(f'[site]\nid = "rr1"\n[[ups]]\nname = "meeting"\n[[ups]]\nname = "aula"\n'
                      f'[edge]\njournal = "{tmp_path / "journal.sqlite3"}"\n')
    model = UpsModel(discharges=(Discharge(1.0, 0.25, 35.0, 120.0, 30.0),))
    save_models(tmp_path / "runtime.json", {"meeting": model, "aula": model})
    assert main(["edge", "-c", str(config), "--forget-runtime", "meeting"]) == 0
    assert 'forgot the learned runtime of UPS "meeting"' in capsys.readouterr().out
    assert load_models(tmp_path / "runtime.json")[0] == {"aula": model}
    assert main(["edge", "-c", str(config), "--forget-runtime", "lobby"]) == 1
    assert 'no UPS "lobby"' in capsys.readouterr().err


def test_learned_event_lists_the_contract_fields():
    learning = Learning()
    for t in range(100):
        learning, out = observe(learning, (ups("OB DISCHRG", charge=100 - 0.25 * t, runtime=None,
                                               load_pct=35.0),), float(t), float(t))
    learning, out = observe(learning, (ups("OL", charge=75.0, load_pct=35.0),), 100.0, 100.0)
    [(kind, detail)] = out.events
    assert kind.value == "runtime_learned" and set(kind.fields) <= set(detail)
    assert out.changed


def test_edge_says_once_that_a_bad_file_starts_fresh_and_reloads_a_forget(tmp_path, caplog,
                                                                          mock_factory):
    import logging
    import os

    from edge.daemon import Edge
    from protocol.config import load_config
    path = tmp_path / "siaga.toml"
    path.write_text(f'[site]\nid = "rr1"\n[[ups]]\nname = "meeting"\n[edge]\n'
                    f'journal = "{tmp_path / "journal.sqlite3"}"\n[gpio]\npin_factory = "mock"\n')
    (tmp_path / "runtime.json").write_text('{"version": 1, "ups": {"meet')   # cut mid-write
    caplog.set_level(logging.INFO)
    edge = Edge(load_config(path))
    try:
        for _ in range(3):
            edge.load_runtime()                                 # every tick: one stat, no noise
        said = [r.getMessage() for r in caplog.records if "runtime.json" in r.getMessage()]
        assert len(said) == 1 and "starting fresh" in said[0] and edge.learning.models == {}
        model = UpsModel(discharges=(Discharge(1.0, 0.25, 35.0, 120.0, 30.0),))
        save_models(tmp_path / "runtime.json", {"meeting": model})
        os.utime(tmp_path / "runtime.json", ns=(1, 10**18))    # a later mtime, whatever the clock
        edge.load_runtime()
        assert edge.learning.models == {"meeting": model}       # e.g. after --forget-runtime
    finally:
        edge.close()
