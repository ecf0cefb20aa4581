"""Vocabulary once (issue 17 item 2): command kinds and availability are enums beside the
messages, the outage's stages are one table (protocol/outage_stages.py) that the core, the page, the
alerts and the docs' legend read, and nobody compares a kind to a string literal again."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from dashboard.alerts import rules as alert_rules
from dashboard.store.entry import SiteEntry
from dashboard.web import present
from protocol.config import PolicyConfig
from protocol.looks import LOOKS
from protocol.messages import (AVAILABILITY, EDGE_COMMAND_KINDS, PC_COMMAND_KINDS, Ack, Availability,
                           EdgeCommandKind, OutageView, PcCommandKind, Room, to_dict)
from edge.room import Inputs, PcReport, RoomState, Rules, UpsReading, step
from edge.room_view import snapshot
from edge.stages import Outage
from protocol.outage_stages import COMMAND_STAGES, OUTAGE_STAGES, by_command, by_event

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [p for d in ("edge", "dashboard", "agent", "protocol", "siaga") if (ROOT / d).is_dir()
           for p in sorted((ROOT / d).rglob("*.py"))]
KIND_WORDS = "|".join(sorted({*PC_COMMAND_KINDS, *EDGE_COMMAND_KINDS, *AVAILABILITY}))
# `kind == "shutdown"`, `.get("kind") != "test"`, `kind in ("cancel", ...)`, `== "offline"`.
KIND_COMPARE = re.compile(rf'''(kind\W{{0,3}}\s*(==|!=|in|not in)\s*\(?\s*"({KIND_WORDS})"|'''
                          rf'''(==|!=)\s*"(online|offline)")''')
RULES = Rules(policy=PolicyConfig(), site_id="rr1", place="Ruang Rapat 1", lang="id",
              expected_pcs=("pc1",))


def _where(pattern: re.Pattern[str]) -> list[str]:
    return [f"{p.relative_to(ROOT)}:{n}: {line.strip()}" for p in SOURCES
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if pattern.search(line) and p.name != "messages.py"]


def test_no_command_kind_or_availability_is_compared_to_a_string():
    assert _where(KIND_COMPARE) == []


def test_no_stage_is_rebuilt_from_a_string():
    assert _where(re.compile(r'''f["']\{\w+\}_sent|removesuffix\(["']_sent|endswith\(["']_sent''')) == []


def test_the_enums_are_the_contracts_words():
    """CONTRACT §3: the PC command kinds, edge command kinds and availability payloads."""
    assert PC_COMMAND_KINDS == ("notice", "wrapup", "shutdown", "cancel", "test")
    assert EDGE_COMMAND_KINDS == ("silence", "test_indicator", "test_notice", "ups_selftest",
                                  "replay")
    assert AVAILABILITY == ("online", "offline")
    # Written on the wire and in f-strings as the bare word (StrEnum), never "PcCommandKind.X".
    assert f"{PcCommandKind.WRAPUP}-{EdgeCommandKind.REPLAY}-{Availability.ONLINE}" == \
        "wrapup-replay-online"


def test_every_stage_row_names_real_things():
    """Each row's outage field is in the state message and the core's Outage, its event is the
    journal's, its look is in the looks table, its command is a PC command."""
    view_fields = [f.name for f in dataclasses.fields(OutageView)]
    assert [s.field for s in OUTAGE_STAGES] == view_fields
    outage_fields = {f.name for f in dataclasses.fields(Outage)}
    for stage in OUTAGE_STAGES:
        assert stage.field in outage_fields, stage
        assert stage.look in LOOKS, stage
        assert by_event(stage.event) is stage
        if stage.command is not None:
            assert by_command(stage.command) is stage
    assert [s.command for s in COMMAND_STAGES] == ["notice", "wrapup", "shutdown"]


def _outage_ticks() -> tuple:
    """A power cut that goes straight to LB: the core sends every command stage in one tick,
    then the PC acks the shutdown and goes off."""
    state, events, sent = RoomState(started=0.0), [], []
    pc = PcReport("pc1", True, 0.0, None)
    off = PcReport("pc1", False, 3.0, None)
    ticks = [("OL", (pc,), ()), ("OB DISCHRG LB", (pc,), ()), ("OB DISCHRG LB", (pc,), "ack"),
             ("OB DISCHRG LB", (off,), ())]
    for t, (status, pcs, acks) in enumerate(ticks):
        if acks == "ack":
            shut = next(c for _, c in sent if c.kind == PcCommandKind.SHUTDOWN)
            acks = (("pc1", Ack(id=shut.id, kind=shut.kind, ok=True, ts=t)),)
        inp = Inputs(now=1000.0 + t, ups=(UpsReading(name="meeting", ts=t, status=status,
                                                       charge_pct=50.0, runtime_s=600.0),),
                     pcs=pcs, acks=acks)
        state, fx = step(state, inp, RULES)
        events += [kind for kind, _ in fx.events]
        sent += list(fx.send)
    return state, events, sent, inp, fx


def test_the_core_goes_through_the_table_in_order():
    state, events, sent, inp, fx = _outage_ticks()
    stage_events = [e for e in events if by_event(e) is not None]
    assert stage_events == [s.event for s in OUTAGE_STAGES]
    assert [c.kind for _, c in sent] == [s.command for s in COMMAND_STAGES]
    assert isinstance(state.room, Room) and state.room is Room.SHUTDOWN
    snap = snapshot(state, inp, fx, RULES)
    assert all(getattr(snap.outage, s.field) is not None for s in OUTAGE_STAGES)


def test_the_page_and_the_alerts_read_the_table():
    state, _, _, inp, fx = _outage_ticks()
    snap = snapshot(state, inp, fx, RULES)
    rows = present.outage_stages(snap)
    assert [stage for stage, _, _ in rows] == list(OUTAGE_STAGES)
    assert present.status(SiteEntry(snap, to_dict(snap))) == OUTAGE_STAGES[-1].look
    assert set(alert_rules.STAGE_ALERTS) == {s.event for s in COMMAND_STAGES}


@pytest.mark.parametrize("stage", OUTAGE_STAGES, ids=lambda s: s.id)
def test_the_docs_legend_has_every_stage_look(stage):
    legend = (ROOT / "docs" / "indicator.md").read_text(encoding="utf-8")
    assert re.search(rf"^\| `{stage.look}`", legend, re.M), stage
