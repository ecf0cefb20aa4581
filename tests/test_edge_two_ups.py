"""Two UPSes feed the meeting PC: the edge on a real upsd with two dummy-ups drivers and a real
mosquitto, mock pins. One UPS flickers (OB for a moment, then OL) while the other cannot be read
(its driver dead): the outage ends with the mains and the PC is never wrapped up or shut down.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from siaga.servers import Upsd, stop_process
from tests.edge_support import PREFIX, FakePc, write_config


@pytest.fixture
def two_ups(tmp_path: Path, request: pytest.FixtureRequest) -> Upsd:
    """A real upsd serving "meeting" and "aux", both on mains."""
    server = Upsd(tmp_path / "nut", names=("meeting", "aux"))
    request.addfinalizer(server.stop)
    return server.start()


@pytest.fixture
def pc(broker):
    fake = FakePc(broker.port)
    yield fake
    fake.close()


def with_aux(path: Path, upsd: Upsd) -> Path:
    """The test's siaga.toml with a second UPS feeding the PC."""
    path.write_text(path.read_text() + f'\n[[ups]]\nname = "aux"\nport = {upsd.port}\n')
    return path


def commands(watch) -> list[str]:
    """The kinds of every command published to the PC, in order (seen on the same subscription
    as the journal's events, so in the order the edge sent them)."""
    return [json.loads(p)["kind"] for p in watch.on(f"{PREFIX}/pc/meeting-pc/command")]


@pytest.mark.parametrize("aux", ["dead_before_the_edge_started", "dead_after_a_reading_on_mains"])
def test_a_flicker_beside_a_dead_ups_ends_with_the_mains(tmp_path, two_ups, broker, watch, pc,
                                                         edge_in_process, aux):
    path = with_aux(write_config(tmp_path, two_ups, broker, unreadable_shutdown_after_s=5), two_ups)
    if aux == "dead_before_the_edge_started":
        stop_process(two_ups.drivers["aux"])
        edge_in_process(path)
    else:  # read on mains while recharging after an earlier cut: 125 s if cut then
        two_ups.set("aux", ups_status="OL CHRG", battery_runtime="125", battery_charge="60")
        edge_in_process(path)
        watch.wait(lambda: (s := watch.state()) and s["ups"][1]["runtime_s"] == 125, what="aux read")
        stop_process(two_ups.drivers["aux"])
    watch.wait_room("fault")
    two_ups.set("meeting", ups_status="OB DISCHRG")
    watch.wait(lambda: "power_lost" in watch.event_kinds(), what="power_lost")
    two_ups.set("meeting", ups_status="OL")
    watch.wait(lambda: "power_restored" in watch.event_kinds(), what="power_restored")
    assert "wrapup" not in commands(watch) and "shutdown" not in commands(watch)
    kinds = watch.event_kinds()
    assert not {"wrapup_sent", "shutdown_sent", "runtime_estimated"} & set(kinds)
    if "notice" in commands(watch):   # the flicker outlasted notice_after_s (1 s here)
        watch.wait(lambda: "cancel" in commands(watch), what="cancel")
    snap = watch.wait_room("fault")
    assert snap["outage"] is None and "ups_unreachable:aux" in snap["reasons"]


def test_a_flicker_beside_a_ups_recharging_on_mains_tells_the_pc_nothing(tmp_path, two_ups,
                                                                          broker, watch, pc,
                                                                          edge_in_process):
    """aux is on mains after an earlier cut, recharging: it says 110 s (what it would give if cut
    then), below shutdown_at_runtime_s. A flicker of the other UPS must not take that for the
    PC's runtime: it would skip the flicker guard and send notice, wrap-up and shutdown at once."""
    path = with_aux(write_config(tmp_path, two_ups, broker, notice_after_s=30), two_ups)
    two_ups.set("aux", ups_status="OL CHRG", battery_runtime="110", battery_charge="60")
    edge_in_process(path)
    watch.wait(lambda: (s := watch.state()) and s["ups"][1]["runtime_s"] == 110, what="aux read")
    two_ups.set("meeting", ups_status="OB DISCHRG")
    snap = watch.wait_room("on_battery")
    assert snap["power"]["runtime_s"] == 1800 and snap["ups"][1]["runtime_s"] == 110
    two_ups.set("meeting", ups_status="OL")
    watch.wait(lambda: "power_restored" in watch.event_kinds(), what="power_restored")
    assert commands(watch) == []
    lost = next(e["detail"] for e in watch.json_on("/edge/event") if e["kind"] == "power_lost")
    assert lost["runtime_s"] == 1800
