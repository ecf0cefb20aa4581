"""The edge daemon end to end on a real upsd + dummy-ups and a real mosquitto, with mock pins.

A stand-in for the meeting PC's agent (status, availability, acks) runs on the same broker; the
real agent has its own tests. We assert what people would notice: the LED pins, the state
snapshot, the commands the PC receives, the journal.
"""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from siaga.servers import free_port
from tests.observer import Observer
from tests.edge_support import PREFIX, FakePc, run_edge_process, write_config


@pytest.fixture
def pc(broker):
    fake = FakePc(broker.port)
    yield fake
    fake.close()


def led(factory) -> tuple[float, float, float]:
    """(red, green, blue) of the rgb LED on its default pins."""
    return tuple(round(float(factory.pin(n).state), 2) for n in (17, 27, 22))


def journal_rows(tmp_path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(tmp_path / "journal.sqlite3") as db:
        return db.execute("SELECT seq, kind FROM events ORDER BY seq").fetchall()


def test_whole_outage_walks_the_meeting_through(tmp_path, upsd, broker, watch, pc, mock_factory,
                                                 edge_in_process):
    edge_in_process(write_config(tmp_path, upsd, broker))
    # Until the PC's retained status arrives the PC is "not heard yet", not offline.
    ready = watch.wait(lambda: (s := watch.state()) and s["room"] == "ready" and s["pcs"][0]["online"]
                       and s, what="ready with the PC online")
    assert ready["ups"][0]["status"] == "OL" and ready["reasons"] == []
    assert led(mock_factory) == (0, 1, 0)
    assert watch.on("/edge/availability")[-1] == b"online"

    upsd.set(ups_status="OB DISCHRG", battery_runtime="1500")
    snap = watch.wait_room("on_battery", 5)
    assert snap["power"]["on_battery"] and snap["outage"]["notice_sent"] is None
    assert snap["indicator"] == {"led": "amber", "pattern": "blink", "buzzer": "outage", "silenced": False}
    pc.wait(lambda: "notice" in pc.kinds(), 5, "notice")
    notice = pc.commands()[0]
    assert notice["lang"] == "id" and "25 mnt" in notice["text"] and notice["chat_text"]
    assert notice["expires"] - notice["ts"] == 120
    watch.wait(lambda: "pc_ack" in watch.event_kinds(), 5, "pc_ack")

    upsd.set(battery_runtime="250")
    watch.wait_room("wrapup", 5)
    pc.wait(lambda: "wrapup" in pc.kinds(), 5, "wrapup")
    upsd.set(ups_status="OB DISCHRG LB")
    snap = watch.wait_room("shutdown", 5)
    assert snap["indicator"]["pattern"] == "fast_blink" and snap["outage"]["shutdown_sent"]
    pc.wait(lambda: "shutdown" in pc.kinds(), 5, "shutdown")
    assert pc.commands()[-1]["grace_s"] == 30

    upsd.set(ups_status="OL CHRG")
    watch.wait_room("ready", 5)
    pc.wait(lambda: "cancel" in pc.kinds(), 5, "cancel")
    assert pc.kinds() == ["notice", "wrapup", "shutdown", "cancel"]
    assert set(pc.expiries) == {120}
    restored = [e for e in watch.json_on("/edge/event") if e["kind"] == "power_restored"]
    assert restored and restored[0]["detail"]["duration_s"] > 0
    kinds = watch.event_kinds()
    for kind in ("edge_started", "power_lost", "notice_sent", "wrapup_sent", "low_battery",
                 "shutdown_sent", "power_restored", "cancel_sent"):
        assert kinds.count(kind) == 1, kind
    rows = journal_rows(tmp_path)
    assert [seq for seq, _ in rows] == list(range(1, len(rows) + 1))
    assert [k for _, k in rows] == kinds  # every published event is in the journal, in order
    assert not any(retained for _, t, _, retained in watch.messages if t.endswith("/command"))


def test_flicker_shorter_than_notice_guard_tells_no_one(tmp_path, upsd, broker, watch, pc,
                                                        mock_factory, edge_in_process):
    edge_in_process(write_config(tmp_path, upsd, broker, notice_after_s=4))
    watch.wait_room("ready")
    upsd.set(ups_status="OB")
    watch.wait_room("on_battery", 5)
    upsd.set(ups_status="OL")
    watch.wait_room("ready", 5)
    time.sleep(1)
    assert pc.commands() == []
    assert watch.event_kinds()[-2:] == ["power_lost", "power_restored"]


def test_unreadable_ups_is_fault_not_outage_and_recovers(tmp_path, upsd, broker, watch, pc,
                                                          mock_factory, edge_in_process):
    edge_in_process(write_config(tmp_path, upsd, broker))
    watch.wait_room("ready")
    upsd.stop()  # upsd and driver gone: connection refused
    snap = watch.wait_room("fault", 5)
    assert "ups_unreachable:meeting" in snap["reasons"] and not snap["power"]["on_battery"]
    assert led(mock_factory) == (1, 0, 0)
    detail = [e["detail"] for e in watch.json_on("/edge/event") if e["kind"] == "ups_unreachable"]
    assert detail[0]["reason"] == "refused"
    upsd.start()
    watch.wait_room("ready", 15)
    assert watch.event_kinds()[-1] == "ups_reachable"
    assert pc.commands() == []


@pytest.mark.parametrize("how, reason", [("driver_stopped", "driver_not_connected"),
                                         ("driver_frozen", "data_stale")])
def test_driver_trouble_is_fault_with_its_reason(tmp_path, upsd, broker, watch, pc, mock_factory,
                                                 edge_in_process, how, reason):
    from siaga.servers import stop_process
    edge_in_process(write_config(tmp_path, upsd, broker))
    watch.wait_room("ready")
    driver = upsd.drivers["meeting"]
    if how == "driver_stopped":
        stop_process(driver)
    else:
        driver.send_signal(signal.SIGSTOP)
    watch.wait_room("fault", 12)
    detail = [e["detail"] for e in watch.json_on("/edge/event") if e["kind"] == "ups_unreachable"]
    assert detail[-1]["reason"] == reason
    if how == "driver_frozen":
        driver.send_signal(signal.SIGCONT)
        watch.wait_room("ready", 12)


def test_unreadable_mid_outage_keeps_the_outage_then_wraps_up(tmp_path, upsd, broker, watch, pc,
                                                              mock_factory, edge_in_process):
    from siaga.servers import stop_process
    edge_in_process(write_config(tmp_path, upsd, broker))
    watch.wait_room("ready")
    upsd.set(ups_status="OB DISCHRG", battery_runtime="0")  # runtime never known: time decides
    pc.wait(lambda: "notice" in pc.kinds(), 5, "notice")
    stop_process(upsd.drivers["meeting"])  # USB drops at the transition
    snap = watch.wait_room("wrapup", 10)   # after unreadable_wrapup_after_s = 3
    assert "ups_unreachable:meeting" in snap["reasons"] and snap["outage"]["started"]
    pc.wait(lambda: "wrapup" in pc.kinds(), 5, "wrapup")
    assert "power_restored" not in watch.event_kinds()


HOSTILE = [
    ("pc/meeting-pc/status", b"not json"),
    ("pc/meeting-pc/status", b"{" * 100000),
    ("pc/meeting-pc/status", json.dumps({"v": 1, "pc": "meeting-pc", "ts": "now"}).encode()),
    ("pc/meeting-pc/status", json.dumps({"v": 1, "pc": "other-pc", "ts": 1}).encode()),
    ("pc/meeting-pc/status", b"\xff\xfe\x00"),
    ("pc/meeting-pc/availability", b"maybe"),
    ("pc/meeting-pc/ack", json.dumps({"v": 1, "id": 5, "kind": "notice", "ok": "yes", "ts": 1}).encode()),
    ("pc/meeting-pc/ack", b"[]"),
    ("edge/command", json.dumps({"v": 1, "id": "x", "ts": 1, "kind": "self_destruct"}).encode()),
    ("edge/command", json.dumps({"v": 2, "id": "x", "ts": 1, "kind": "silence"}).encode()),
    ("edge/command", b""),
    ("pc/../../edge/command", b"{}"),
]


def test_hostile_payloads_are_dropped_and_the_edge_keeps_going(tmp_path, upsd, broker, watch, pc,
                                                              mock_factory, edge_in_process, caplog):
    # A stale retained command must not act when the edge (re)subscribes.
    watch.publish(f"{PREFIX}/edge/command",
                  json.dumps({"v": 1, "id": "r", "ts": time.time(), "kind": "silence"}), retain=True)
    edge_in_process(write_config(tmp_path, upsd, broker))
    watch.wait_room("ready")
    for leaf, payload in HOSTILE:
        watch.publish(f"{PREFIX}/{leaf}", payload)
    upsd.set(ups_status="OB")
    watch.wait_room("on_battery", 5)
    assert watch.state()["pcs"][0]["online"]  # a bad status did not knock the PC off
    assert watch.state()["indicator"]["buzzer"] == "outage"  # the retained silence was ignored
    good = {"v": 1, "id": "s1", "ts": time.time(), "kind": "silence", "by": "admin"}
    watch.publish(f"{PREFIX}/edge/command", json.dumps(good))
    watch.wait(lambda: watch.state()["indicator"]["silenced"], 5, "silenced")
    assert watch.event_kinds().count("command") == 1
    assert any("ignored a bad message" in r.message for r in caplog.records)


def test_sigkill_mid_outage_resumes_without_a_second_notice(tmp_path, upsd, broker, watch):
    pc = FakePc(broker.port, ack=False)  # the PC never acks: the notice stays pending
    config = write_config(tmp_path, upsd, broker)
    edge = run_edge_process(config, tmp_path)
    try:
        watch.wait_room("ready")
        upsd.set(ups_status="OB DISCHRG")
        pc.wait(lambda: "notice" in pc.kinds(), 8, "notice")
        edge.send_signal(signal.SIGKILL)
        edge.wait(5)
        watch.wait(lambda: watch.on("/edge/availability")[-1] == b"offline", 5, "last will")
        edge = run_edge_process(config, tmp_path)
        watch.wait(lambda: watch.event_kinds().count("edge_started") == 2, 10, "restart")
        started = [e for e in watch.json_on("/edge/event") if e["kind"] == "edge_started"]
        assert started[-1]["detail"]["resumed_outage"] is True
        time.sleep(2)
        assert watch.event_kinds().count("power_lost") == 1
        assert watch.event_kinds().count("notice_sent") == 1
        assert pc.kinds() == ["notice"]  # resent after the restart, with the same id
        upsd.set(ups_status="OL")
        pc.wait(lambda: "cancel" in pc.kinds(), 8, "cancel")
        edge.send_signal(signal.SIGTERM)
        assert edge.wait(10) == 0
        assert watch.on("/edge/availability")[-1] == b"offline"
    finally:
        if edge.poll() is None:
            edge.kill()
        pc.close()
        print((tmp_path / "edge.log").read_text(errors="replace")[-3000:])


def test_broker_restart_edge_reconnects_and_republishes_its_state(tmp_path, upsd, broker,
                                                                  mock_factory, edge_in_process):
    edge_in_process(write_config(tmp_path, upsd, broker))
    broker.stop()  # no persistence: every retained message is gone with it
    broker.start()
    fresh = Observer(broker.port, f"{PREFIX}/edge/#")  # subscribes after the restart
    try:
        fresh.wait(lambda: fresh.state() is not None, 40, "retained state after reconnect")
        fresh.wait(lambda: fresh.on("/edge/availability")[-1:] == [b"online"], 5, "online again")
        upsd.set(ups_status="OB")
        fresh.wait_room("on_battery", 5)
    finally:
        fresh.close()


def test_watchdog_is_pinged_at_systemds_pace_between_slow_polls(tmp_path, broker, mock_factory,
                                                                 edge_in_process, monkeypatch):
    # edge.poll_interval_s may be up to 60 s but the unit's WatchdogSec is 30 s: a ping only
    # after each poll would have systemd kill a healthy daemon. It pings as $WATCHDOG_USEC asks.
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify.sock"))
    monkeypatch.setenv("WATCHDOG_USEC", "400000")  # systemd wants a ping every 0.4 s
    config = write_config(tmp_path, SimpleNamespace(port=free_port()), broker)
    config.write_text(config.read_text().replace("poll_interval_s = 0.25", "poll_interval_s = 30"))
    try:
        edge_in_process(config)
        assert notify.recv(100) == b"READY=1"
        pings, deadline = [], time.monotonic() + 1.5
        notify.settimeout(0.1)
        while time.monotonic() < deadline:
            try:
                pings.append(notify.recv(100))
            except TimeoutError:
                pass
        assert pings.count(b"WATCHDOG=1") >= 4, pings
    finally:
        notify.close()
