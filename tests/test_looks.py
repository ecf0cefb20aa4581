"""The LED shown is the LED on the wall: for every room state (and a shutdown whose PCs are off),
the dot the page draws has the colour and rhythm the Pi's indicator drives on its pins, and the
docs' legend says the same."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from dashboard.store.entry import SiteEntry
from dashboard.web import present
from edge.indicator import Indicator
from edge.room import Inputs, PcReport, RoomState, Rules, UpsReading, step
from edge.room_view import snapshot
from protocol.config import GpioConfig, PolicyConfig
from protocol.looks import LOOKS, PC_OFF, Buzz, Pattern
from protocol.messages import Ack, AgentStatus, Room, to_dict

ROOT = Path(__file__).resolve().parent.parent
RULES = Rules(policy=PolicyConfig(), site_id="rr1", place="Ruang Rapat 1", lang="id",
              expected_pcs=("pc1",))
RGB = GpioConfig(pin_factory="mock", led_kind="rgb", led_pins=(17, 27, 22), buzzer_pin=23,
                 button_pin=24)
T0 = 1_000.0
COLOURS = {(1, 0, 0): "red", (1, 1, 0): "amber", (0, 1, 0): "green", (0, 0, 0): "off"}


def _ups(status: str = "OL", runtime: float = 1800.0) -> UpsReading:
    return UpsReading(name="meeting", ts=0, status=status, charge_pct=100.0, runtime_s=runtime)


def _pc(online: bool = True, t: float = 0.0) -> PcReport:
    status = AgentStatus(pc="pc1", ts=0, disk_free_gb=100.0) if online else None
    return PcReport("pc1", online, T0 + t, status)


def _room(name: str):
    """Drive the Pi's core into room ``name``: (inputs, state, effects) of its last tick."""
    plans = {"ready": [_ups()], "attention": [_ups("OL CHRG RB")], "fault": [None],
             "on_battery": [_ups("OB DISCHRG")], "wrapup": [_ups("OB DISCHRG", 250.0)],
             "shutdown": [_ups("OB DISCHRG LB")], PC_OFF: [_ups("OB DISCHRG LB")] * 3}
    state, fx, inp = RoomState(started=T0), None, None
    for t, reading in enumerate(plans[name]):
        reading = reading or UpsReading(name="meeting", ts=0, error="refused", error_detail="x")
        acks, pcs = (), (_pc(t=t),)
        if name == PC_OFF and t == 1:    # the PC acks its shutdown, then goes offline
            shutdown = next(c for _, c in fx.send if c.kind == "shutdown")
            acks = (("pc1", Ack(id=shutdown.id, kind="shutdown", ok=True, ts=0)),)
        if name == PC_OFF and t == 2:
            pcs = (_pc(online=False, t=t),)
        inp = Inputs(T0 + t, (reading,), pcs, acks=acks)
        state, fx = step(state, inp, RULES)
    return inp, state, fx


def _wall(indicator: Indicator, mock_factory, fx) -> tuple[str, str]:
    """(colour, rhythm) the RGB LED shows on the mock pins after the Pi's ``show``.

    Read from each mock pin's own record of its changes (gpiozero stamps every change with the
    time since the one before), not by sampling: on a busy machine a sampler misses edges and a
    fast blink looked like a slow one."""
    pins = [mock_factory.pin(p) for p in RGB.led_pins]
    for pin in pins:
        pin.clear_states()
    indicator.show(fx.led, fx.pattern, fx.buzzer)
    time.sleep(1.2)
    records = [list(pin.states) for pin in pins]
    ever = tuple(1 if any(s.state > 0 for s in record) else 0 for record in records)
    colour = COLOURS.get(ever, "mixed")
    if colour == "off":
        return colour, "off"
    changes = records[ever.index(1)][1:]        # the first lit pin's changes after show()
    gaps = sorted(s.timestamp for s in changes[1:])   # its on and off times
    if len(changes) <= 1:
        return colour, "solid"
    # ~0.125 s on/off is the fast blink, ~0.5 s the slow one: the middle gap tells them apart.
    return colour, "fast_blink" if gaps and gaps[len(gaps) // 2] < 0.3 else "blink"


@pytest.mark.parametrize("name", [r.value for r in Room] + [PC_OFF])
def test_the_page_draws_the_led_the_pi_drives(name, mock_factory):
    inp, state, fx = _room(name)
    snap = snapshot(state, inp, fx, RULES)
    page = present.card_led(SiteEntry(snap, to_dict(snap)))
    assert present.status(SiteEntry(snap, to_dict(snap))) == name
    indicator = Indicator(RGB, lambda: None)
    try:
        assert _wall(indicator, mock_factory, fx) == page
    finally:
        indicator.close()


# How docs/indicator.md words a look (the rgb/traffic column and the buzzer column).
DOC_PATTERN = {Pattern.SOLID: "steady", Pattern.BLINK: "blinking ~1 Hz",
               Pattern.BLINK_FAST: "fast blinking ~4 Hz"}
DOC_BUZZ = {Buzz.OFF: "silent", Buzz.OUTAGE: "3 short beeps, then one chirp a minute",
            Buzz.WRAPUP: "one beep every 10 s", Buzz.SHUTDOWN: "fast beeps (0.2 s on, 0.3 s off)"}


def test_the_docs_legend_is_the_table():
    rows = {}
    for line in (ROOT / "docs" / "indicator.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| `(\w+)`", line)
        if match:
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[match.group(1)] = (cells[1], cells[3])
    assert set(rows) == set(LOOKS)
    for name, look in LOOKS.items():
        assert rows[name] == (f"{look.led.value}, {DOC_PATTERN[look.pattern]}", DOC_BUZZ[look.buzz]), name


SVG_PATTERN = {Pattern.SOLID: "steady", Pattern.BLINK: "blinking", Pattern.BLINK_FAST: "fast blinking"}


def test_the_printed_legend_has_every_look():
    """docs/led-legend.svg (printed beside the room): one row per look, its English words the
    table's colour and rhythm, "silent" exactly where the buzzer is off."""
    svg = (ROOT / "docs" / "led-legend.svg").read_text(encoding="utf-8")
    rows = re.findall(r'font-size="12" fill="#555" font-style="italic">([^<]+)</text>\n'
                      r'(?:.*\n)*?.*monospace">room = ([\w, ]+)</text>', svg)
    looks = {name.split(", ")[-1]: words for words, name in rows}
    assert set(looks) == set(LOOKS)
    for name, look in LOOKS.items():
        assert looks[name] == f"{look.led.value}, {SVG_PATTERN[look.pattern]}", name
