"""The fleet on real brokers: a room's mosquitto bridged with the shipped siaga-bridge.conf (TLS,
its own password) to a central mosquitto with the shipped siaga-central.conf and .acl; a real
edge on the room's side and a real dashboard feed and store on the central side."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from dashboard.store import feed as feed_module
from dashboard.store.feed import Feed
from dashboard.store.store import Store
from protocol.config import load_config
from tests.dashboard_support import write_config as dashboard_config
from siaga.servers import stop_process
from tests.fleet_support import (CENTRAL_DASHBOARD, PI_USERS, Fleet, Uplink, central_broker, held,
                                 journal, with_login)
from tests.edge_support import run_edge_process, write_config
from tests.broker_support import Client
from tests.waiting import wait_until
from tests.fleet_support import started

SITE = "rr1"   # the site id of tests.test_edge_outage.write_config


@pytest.fixture
def fleet(tmp_path: Path, request: pytest.FixtureRequest) -> Fleet:
    """The central broker (started) for site rr1."""
    f = central_broker(tmp_path / "fleet", [SITE, "rr2"])
    started(f.central, request)
    return f


def central_dashboard(tmp_path: Path, fleet: Fleet) -> tuple[Store, Feed]:
    d = tmp_path / "central-dash"
    d.mkdir()
    config = load_config(with_login(dashboard_config(d, mqtt_port=fleet.central.port),
                                    *CENTRAL_DASHBOARD))
    store = Store(str(d / "dashboard.sqlite3"))
    feed = Feed(config, store, client_id="central-dashboard")
    feed.start()
    return store, feed


def test_outage_reaches_the_central_dashboard_and_survives_both_brokers_restarting(
        tmp_path, upsd, fleet, edge_in_process, request):
    pi = started(fleet.room_broker(SITE), request)
    watcher = Client(pi.port, "siaga-edge", PI_USERS["siaga-edge"])
    request.addfinalizer(watcher.close)
    watcher.subscribe(f"siaga/{SITE}/edge/event")
    edge = edge_in_process(with_login(write_config(tmp_path, upsd, pi), "siaga-edge",
                                      PI_USERS["siaga-edge"]))
    store, feed = central_dashboard(tmp_path, fleet)
    request.addfinalizer(store.close)
    request.addfinalizer(feed.stop)
    show = lambda: f"held {[r[0] for r in held(store, SITE)]}, journal {[r[0] for r in journal(tmp_path)]}"  # noqa: E731

    # An outage on the room's side reaches the central page through the TLS bridge.
    upsd.set(ups_status="OB")
    wait_until(lambda: (e := store.entry(SITE)) and e.state.room == "on_battery", 20,
               what="the room on battery on the central dashboard", context=show)
    wait_until(lambda: "notice_sent" in [r[2] for r in held(store, SITE)], 15,
               what="notice_sent on the central dashboard", context=show)

    # The uplink breaks: the central broker goes away; the power comes back meanwhile.
    fleet.central.stop()
    upsd.set(ups_status="OL")
    wait_until(lambda: "power_restored" in [r[2] for r in journal(tmp_path)], 15,
               what="power_restored journaled")
    # ... and reached the room's broker, which acknowledged it: an event still in flight when the
    # broker dies (journaled, its PUBACK not yet back) is sent again by paho to the restarted
    # broker and needs no replay (that interleaving ended this test once in CI).
    wait_until(lambda: any(b'"power_restored"' in m[1] for m in watcher.messages), 10,
               what="power_restored on the room's broker", context=lambda: str(watcher.messages))
    wait_until(lambda: not edge.bus.link.client._out_messages, 10,   # paho's unacked QoS 1
               what="the room's broker acknowledged every event")
    # The room's broker dies too (killed: no chance to save its bridge queue) and restarts,
    # while the uplink is still down ...
    pi.proc.kill()
    pi.proc.wait()
    pi.start()
    wait_until(lambda: edge.bus.link.connected.is_set(), 20, what="edge back on its broker")
    upsd.set(ups_status="OB")      # ... and the power fails again
    wait_until(lambda: [r[2] for r in journal(tmp_path)].count("power_lost") == 2, 15,
               what="second power_lost journaled")
    upsd.set(ups_status="OL")
    wait_until(lambda: [r[2] for r in journal(tmp_path)].count("power_restored") == 2, 15,
               what="second power_restored journaled")

    # The uplink returns: the central dashboard ends with every event, once, seq contiguous.
    fleet.central.start()
    wait_until(lambda: held(store, SITE)[-1:] and held(store, SITE)[-1][0] >= journal(tmp_path)[-1][0]
               and held(store, SITE) == journal(tmp_path)[:len(held(store, SITE))]
               and len(held(store, SITE)) == held(store, SITE)[-1][0], 60,
               what="every event once on the central dashboard", context=show)
    seqs = [r[0] for r in held(store, SITE)]
    assert seqs == list(range(1, len(seqs) + 1))
    assert held(store, SITE) == journal(tmp_path)[:len(seqs)]
    # The queue died with the broker: what it held came back by replay.
    restored = [r[0] for r in journal(tmp_path) if r[2] == "power_restored"][0]
    assert [r for r in journal(tmp_path)
            if r[2] == "replayed" and r[3]["from_seq"] <= restored <= r[3]["to_seq"]]
    assert store.entry(SITE).state.outage is None       # the page shows the power back


def test_the_bridge_is_up_and_says_so_on_the_room_broker(tmp_path, fleet, request) -> None:
    """mosquitto's own retained bridge status, which `siaga check` reads, is 1 while connected."""
    pi = started(fleet.room_broker(SITE), request)
    watcher = Client(pi.port, "siaga-edge", PI_USERS["siaga-edge"])
    request.addfinalizer(watcher.close)
    watcher.subscribe(f"$SYS/broker/connection/siaga-bridge-{SITE}/state")
    wait_until(lambda: watcher.messages and watcher.messages[-1][1] == b"1", 10,
               what="bridge state 1", context=lambda: str(watcher.messages))


@pytest.mark.parametrize(("user", "topic", "answer"), [
    ("siaga-dashboard", f"siaga/{SITE}/edge/command", "accepted"),
    (SITE, f"siaga/{SITE}/edge/command", "Not authorized"),     # a room cannot ask for replays
    ("rr2", f"siaga/{SITE}/edge/command", "Not authorized"),
    (SITE, f"siaga/{SITE}/edge/event", "accepted"),
    ("rr2", f"siaga/{SITE}/edge/state", "Not authorized"),      # nor fake another room
    ("siaga-dashboard", f"siaga/{SITE}/edge/state", "Not authorized"),
])
def test_central_acl_only_the_dashboard_sends_commands(fleet, request, user, topic, answer) -> None:
    """Under MQTT 5 the broker's PUBACK says whether the ACL let a replay through."""
    client = Client(fleet.central.port, user, fleet.central_users[user])
    request.addfinalizer(client.close)
    assert client.connected.is_set()
    replay = json.dumps({"v": 1, "id": "r1", "ts": time.time(), "kind": "replay",
                         "by": user, "from_seq": 1})
    info = client.client.publish(topic, replay, qos=1)
    info.wait_for_publish(5)
    assert client.acks.get(info.mid) == answer


def test_room_acl_refuses_a_replay_from_a_meeting_pc(fleet, request) -> None:
    pi = started(fleet.room_broker(SITE), request)
    pc = Client(pi.port, "meeting-pc", PI_USERS["meeting-pc"])
    request.addfinalizer(pc.close)
    info = pc.client.publish(f"siaga/{SITE}/edge/command", json.dumps(
        {"v": 1, "id": "r2", "ts": time.time(), "kind": "replay", "from_seq": 1}), qos=1)
    info.wait_for_publish(5)
    assert pc.acks.get(info.mid) == "Not authorized"


def test_install_pi_central_writes_the_bridge_for_this_room(tmp_path: Path) -> None:
    """`install-pi.sh --central HOST` writes the shipped bridge with the site id, HOST:8883 and a
    password of its own, once; a second run keeps the file."""
    import subprocess

    from tests.fleet_support import REPO
    root = tmp_path / "root"
    argv = ["bash", str(REPO / "scripts" / "install-pi.sh"), "--root", str(root), "--no-venv",
            "--central", "central.pemda.example"]
    first = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    conf = (root / "etc/mosquitto/conf.d/siaga-bridge.conf").read_text()
    password = (root / "etc/siaga/bridge.password").read_text().split()[0]
    site = "bappeda-rr1"     # the example siaga.toml's site.id, copied by the installer
    assert "\naddress central.pemda.example:8883\n" in conf
    assert f"\nremote_username {site}\nremote_password {password}\n" in conf
    assert f"\ntopic siaga/{site}/edge/command in 1\n" in conf and "\nremote_password CHANGE-ME" not in conf
    second = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert "siaga-bridge.conf exists, kept as it is" in second.stdout
    assert (root / "etc/mosquitto/conf.d/siaga-bridge.conf").read_text() == conf


# --- edge commands queued while the room was cut off -------------------------------------------

def cut_off_room(tmp_path, upsd, fleet, request):
    """A room behind an uplink we can cut, its `siaga edge` a process of its own whose wall clock
    the test can move (edge/clock.py); the central dashboard's feed. The bridge retries every
    second (the shipped 5 to 60 s would only make the test wait)."""
    uplink = Uplink(fleet.tls_port)
    request.addfinalizer(uplink.cut)
    pi = fleet.room_broker(SITE, bridge_port=uplink.port)
    pi.extra = pi.extra.replace("restart_timeout 5 60", "restart_timeout 1")
    started(pi, request)
    watcher = Client(pi.port, "siaga-dashboard", PI_USERS["siaga-dashboard"])
    request.addfinalizer(watcher.close)
    watcher.subscribe(f"siaga/{SITE}/edge/state")
    clock = tmp_path / "clock-offset"
    clock.write_text("0")
    config = with_login(write_config(tmp_path, upsd, pi), "siaga-edge", PI_USERS["siaga-edge"])
    edge = run_edge_process(config, tmp_path, env={"SIAGA_CLOCK_OFFSET_FILE": str(clock)})
    request.addfinalizer(lambda: stop_process(edge))
    store, feed = central_dashboard(tmp_path, fleet)
    request.addfinalizer(store.close)
    request.addfinalizer(feed.stop)
    wait_until(lambda: store.entry(SITE), 30, what="the room on the central dashboard")
    return uplink, clock, watcher, feed


def room_state(watcher) -> dict:
    states = [json.loads(p) for t, p in watcher.messages if t.endswith("/edge/state")]
    return states[-1] if states else {}


def test_a_silence_queued_while_the_room_was_cut_off_does_not_silence_a_later_cut(
        tmp_path, upsd, fleet, request):
    # IT presses "silence" on the central page while the room's uplink is down: the central
    # broker keeps it for the room's bridge (a persistent session, QoS 1).
    uplink, clock, watcher, feed = cut_off_room(tmp_path, upsd, fleet, request)
    uplink.cut()
    time.sleep(1)
    sent = feed.send_command(SITE, "silence", "admin")
    assert sent
    # Six hours later (by the room's clock) the power fails again and the buzzer sounds ...
    clock.write_text(str(6 * 3600))
    upsd.set(ups_status="OB")
    wait_until(lambda: room_state(watcher).get("room") == "on_battery"
               and room_state(watcher)["indicator"]["buzzer"] != "off", 20,
               what="the room on battery, its buzzer on", context=lambda: str(room_state(watcher)))
    # ... and only then the uplink comes back, with yesterday's silence in its queue.
    uplink.mend()
    refused = wait_until(lambda: [r for r in journal(tmp_path) if r[2] == "command"
                                  and r[3].get("id") == sent], 30,
                         what="the queued silence reaching the edge",
                         context=lambda: str([r[2] for r in journal(tmp_path)]))
    time.sleep(1.5)   # a few ticks: a silence would have been journaled and shown by now
    indicator = room_state(watcher)["indicator"]
    assert refused[0][3].get("ok") is False and refused[0][3]["age_s"] >= 6 * 3600, refused
    assert "silenced" not in [r[2] for r in journal(tmp_path)], journal(tmp_path)[-3:]
    assert indicator["silenced"] is False and indicator["buzzer"] != "off", indicator
    assert "ignored an edge command" in (tmp_path / "edge.log").read_text()


def test_the_central_broker_drops_a_command_that_expired_while_the_room_was_cut_off(
        tmp_path, upsd, fleet, request, monkeypatch):
    # The dashboard sends a person's command with an MQTT 5 expiry: the central broker drops it
    # from the cut-off room's queue once expired (here 2 s instead of minutes, for the test).
    monkeypatch.setattr(feed_module, "EDGE_COMMAND_MAX_AGE_S", 2, raising=False)
    uplink, _, _, feed = cut_off_room(tmp_path, upsd, fleet, request)
    uplink.cut()
    time.sleep(1)
    stale = feed.send_command(SITE, "silence", "admin")
    time.sleep(4)
    uplink.mend()
    monkeypatch.setattr(feed_module, "EDGE_COMMAND_MAX_AGE_S", 300, raising=False)
    # A command sent once the link is back arrives (the queued one would have gone before it).
    fresh = wait_until(lambda: feed.send_command(SITE, "test_indicator", "admin"), 10,
                       what="the central dashboard connected")
    ids = lambda: [r[3].get("id") for r in journal(tmp_path) if r[2] == "command"]  # noqa: E731
    wait_until(lambda: fresh in ids(), 30, what="the fresh command at the edge", context=lambda: str(ids()))
    assert stale not in ids()
    assert "silenced" not in [r[2] for r in journal(tmp_path)]
