"""The Pi boots after it powered itself off at the end of an outage: `siaga edge` (in process, real
upsd + dummy-ups, real mosquitto, mock pins) resumes the outage from the journal while upsd does
not answer yet, and must not write the killpower flag again: on mains it would power the Pi and
the room's outlets off at every boot.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from edge.daemon import Edge, boot_id
from edge.journal import Journal
from edge.powerdown import PowerdownFlag
from siaga.servers import Upsd, stop_process
from tests.edge_support import FakePc, write_config
from tests.waiting import wait_until

TICKS_WITHOUT_UPSD = 8   # 2 s at poll_interval_s = 0.25


def powered_off_an_hour_ago(path: Path) -> None:
    """The journal of an outage that ended with pi_poweroff, and no power_restored: the Pi was
    off when the mains came back."""
    journal = Journal(path)
    t = time.time() - 3600
    for dt, kind, detail in [
            (0, "power_lost", {"ups": ["meeting"], "runtime_s": 900}),
            (5, "notice_sent", {"pcs": ["meeting-pc"], "runtime_s": 895}),
            (600, "wrapup_sent", {"pcs": ["meeting-pc"], "runtime_s": 300}),
            (780, "shutdown_sent", {"pcs": ["meeting-pc"], "runtime_s": 120}),
            (781, "pc_ack", {"pc": "meeting-pc", "id": "x", "kind": "shutdown", "ok": True}),
            (820, "pc_off", {"pc": "meeting-pc"}),
            (821, "pi_poweroff", {})]:
        journal.append("rr1", t + dt, kind, detail)
    journal.close()


@pytest.mark.parametrize("upsd_at_boot", ["refused", "driver_not_connected"])
def test_a_pi_that_powered_itself_off_boots_on_mains_and_stays_on(tmp_path, broker, watch,
                                                                  edge_in_process, monkeypatch,
                                                                  request, upsd_at_boot):
    powered_off_an_hour_ago(tmp_path / "journal.sqlite3")
    upsd = Upsd(tmp_path / "nut")
    request.addfinalizer(upsd.stop)
    if upsd_at_boot == "driver_not_connected":   # the UPS's USB still enumerating
        upsd.start()
        stop_process(upsd.drivers["meeting"])
    wanted: list[bool] = []   # every decision the daemon hands the flag, not only the last
    hold = PowerdownFlag.hold
    monkeypatch.setattr(PowerdownFlag, "hold", lambda self, on: (wanted.append(on), hold(self, on)))
    ticks: list[int] = []
    tick = Edge.tick

    async def counted(self: Edge) -> None:
        await tick(self)
        ticks.append(1)

    monkeypatch.setattr(Edge, "tick", counted)
    flag = tmp_path / "killpower"
    config = write_config(tmp_path, upsd, broker)
    config.write_text(config.read_text().replace("[edge]\n", f'[edge]\npowerdown_flag = "{flag}"\n'))

    edge_in_process(config)
    wait_until(lambda: len(ticks) >= TICKS_WITHOUT_UPSD, 15, what="ticks without upsd")
    started = [e for e in watch.json_on("/edge/event") if e["kind"] == "edge_started"]
    assert started[-1]["detail"]["resumed_outage"] is True
    assert True not in wanted and not flag.exists()
    assert "pi_poweroff" not in watch.event_kinds()

    if upsd_at_boot == "refused":
        upsd.start()
    else:
        upsd.start_driver("meeting")
    watch.wait(lambda: "power_restored" in watch.event_kinds(), what="power_restored")
    watch.wait(lambda: (s := watch.state()) and s["outage"] is None, what="the outage closed")
    assert True not in wanted and not flag.exists()
    assert "pi_poweroff" not in watch.event_kinds()


def went_down_with_a_flat_battery(path: Path, boot: str = "an-earlier-boot") -> None:
    """The journal of an outage whose UPS ran flat at the wrap-up stage (it claimed more runtime
    than it had): the Pi went down hard before any shutdown, and no power_restored. ``boot``: the
    boot id the edge that saw the cut ran in."""
    journal = Journal(path)
    t = time.time() - 3600
    for dt, kind, detail in [
            (-60, "edge_started", {"resumed_outage": False, "clock_synced": True, "boot": boot}),
            (0, "power_lost", {"ups": ["meeting"], "runtime_s": 900}),
            (5, "notice_sent", {"pcs": ["meeting-pc"], "runtime_s": 895}),
            (600, "wrapup_sent", {"pcs": ["meeting-pc"], "runtime_s": 300})]:
        journal.append("rr1", t + dt, kind, detail)
    journal.close()


def resume_with_upsd_unreadable(tmp_path: Path, broker, edge_in_process,
                                request) -> tuple[Upsd, FakePc]:
    """The edge starts on the journal in ``tmp_path`` while upsd runs without its driver (the
    UPS unreadable), with 1 s unreadable windows; returns upsd and the meeting PC."""
    upsd = Upsd(tmp_path / "nut")
    request.addfinalizer(upsd.stop)
    upsd.start()
    stop_process(upsd.drivers["meeting"])
    pc = FakePc(broker.port)
    request.addfinalizer(pc.close)
    edge_in_process(write_config(tmp_path, upsd, broker, unreadable_wrapup_after_s=1,
                                 unreadable_shutdown_after_s=1))
    return upsd, pc


def test_a_pi_that_went_down_with_a_flat_battery_boots_on_mains_and_shuts_no_pc_down(
        tmp_path, broker, watch, edge_in_process, request):
    """The mains comes back, the UPS turns its outlets on, the Pi and the meeting PC boot; upsd's
    driver is not connected yet (the UPS's USB). The edge resumed the outage at its wrap-up stage
    and, with the UPS unreadable, walked it on by time alone: unreadable_shutdown_after_s (120 s)
    after the boot it sent the PC that had just booted a shutdown, on mains."""
    went_down_with_a_flat_battery(tmp_path / "journal.sqlite3")
    upsd, pc = resume_with_upsd_unreadable(tmp_path, broker, edge_in_process, request)
    watch.wait(lambda: "ups_unreachable" in watch.event_kinds(), what="the UPS unreadable")
    time.sleep(4)   # the unreadable windows (1 s + 1 s) twice over
    assert "shutdown_sent" not in watch.event_kinds()
    assert "shutdown" not in pc.kinds()
    assert watch.state()["room"] == "wrapup"        # as the journal left it, no further

    upsd.start_driver("meeting")   # on mains: the outage ends, the PC is told the power is back
    watch.wait(lambda: "power_restored" in watch.event_kinds(), what="power_restored")
    watch.wait(lambda: "cancel" in pc.kinds(), what="the cancel")
    assert "shutdown" not in pc.kinds()


def test_an_edge_restarted_mid_cut_in_the_same_boot_still_shuts_the_pc_down_when_upsd_dies(
        tmp_path, broker, watch, edge_in_process, request):
    """Only the edge restarted (an update, a crash) while the cut goes on, and upsd died with it:
    the Pi never lost power, so this is the outage it read on battery in this boot. The unreadable
    timers must walk the meeting to a clean shutdown before the battery runs flat, as they do for
    an edge that never restarted; only a new boot (the flat-battery test above) waits for a reading
    on battery."""
    went_down_with_a_flat_battery(tmp_path / "journal.sqlite3", boot=boot_id())
    _, pc = resume_with_upsd_unreadable(tmp_path, broker, edge_in_process, request)
    watch.wait(lambda: "shutdown_sent" in watch.event_kinds(), timeout=15, what="shutdown_sent")
    wait_until(lambda: "shutdown" in pc.kinds(), timeout=10, what="the PC told to shut down")
    started = [e for e in watch.json_on("/edge/event") if e["kind"] == "edge_started"]
    assert started and started[-1]["detail"]["boot"] == boot_id()
