"""Home Assistant on the central broker (CONTRACT §6.4): a room's mosquitto bridged with the
shipped siaga-bridge.conf to a central mosquitto with the shipped siaga-central.conf and .acl; a
real edge with discovery on. HA's logins there read every config; its birth message reaches the
room, whose edge publishes its configs again; install-pi.sh --central writes the lines, also
into a bridge written before them."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.broker_support import Client
from tests.fleet_support import PI_USERS, REPO, central_broker, started, with_login
from tests.edge_support import write_config
from tests.waiting import wait_until

SITE = "rr1"   # the site id of tests.test_edge_outage.write_config
HA_USER = ("siaga-homeassistant", "central-ha-pw")


def discovery_on(path: Path) -> Path:
    """Turn Home Assistant discovery on in a siaga.toml."""
    path.write_text(path.read_text() + "\n[homeassistant]\ndiscovery = true\n")
    return path


def configs(client: Client, since: int = 0) -> dict[str, dict]:
    """The discovery configs a client holds (latest per topic, cleared ones left out)."""
    latest = dict(client.messages[since:])
    return {t: json.loads(p) for t, p in latest.items() if p and t.endswith("/config")}


@pytest.fixture
def fleet(tmp_path: Path, request: pytest.FixtureRequest):
    """The central broker (started) for rr1 and rr2, with a Home Assistant login."""
    f = central_broker(tmp_path / "fleet", [SITE, "rr2"], users=dict([HA_USER]))
    started(f.central, request)
    return f


def test_home_assistant_on_the_central_broker_sees_the_room(tmp_path, upsd, fleet,
                                                            edge_in_process, request) -> None:
    pi = started(fleet.room_broker(SITE), request)
    ha = Client(fleet.central.port, *HA_USER)
    dashboard = Client(fleet.central.port, "siaga-dashboard", fleet.central_users["siaga-dashboard"])
    request.addfinalizer(ha.close)
    request.addfinalizer(dashboard.close)
    for client in (ha, dashboard):
        client.subscribe("homeassistant/#")
        client.subscribe(f"siaga/{SITE}/edge/state")
    edge_in_process(discovery_on(with_login(write_config(tmp_path, upsd, pi), "siaga-edge",
                                            PI_USERS["siaga-edge"])))
    for client in (ha, dashboard):
        wait_until(lambda c=client: len(configs(c)) == 9, 20,
                   what="the room's 9 configs over the bridge",
                   context=lambda c=client: str(sorted(configs(c))))
    got = configs(ha)
    assert all(t.split("/")[2] == f"siaga_{SITE}" for t in got)
    assert {c["state_topic"] for c in got.values() if "state_topic" in c} == {
        f"siaga/{SITE}/edge/state"}
    wait_until(lambda: any(t.endswith("/edge/state") for t, _ in ha.messages), 10,
               what="the room's state on the central broker")

    # HA on the central broker restarts: its birth message passes the central ACL, goes down
    # the bridge, and the room's edge publishes its configs again, which come up.
    before = len(ha.messages)
    birth = ha.client.publish("homeassistant/status", b"online", qos=1)
    birth.wait_for_publish(5)
    assert ha.acks.get(birth.mid) == "accepted"
    wait_until(lambda: len(configs(ha, before)) == 9, 15,
               what="the configs again after HA's birth message")


def test_a_room_cannot_write_another_rooms_configs(fleet, request) -> None:
    """The central ACL: the bridge of rr2 may publish only rr2's discovery configs."""
    rr2 = Client(fleet.central.port, "rr2", fleet.central_users["rr2"])
    request.addfinalizer(rr2.close)
    assert rr2.publish("homeassistant/sensor/siaga_rr2/room/config") == "accepted"
    assert rr2.publish(f"homeassistant/sensor/siaga_{SITE}/room/config") == "Not authorized"


def install(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(REPO / "scripts" / "install-pi.sh"), "--root", str(root),
                           "--no-venv", "--central", "central.pemda.example", *args],
                          capture_output=True, text=True, timeout=120)


def test_install_pi_central_forwards_home_assistant_also_on_an_older_bridge(tmp_path) -> None:
    site = "bappeda-rr1"     # the example siaga.toml's site.id, copied by the installer
    lines = [f"topic homeassistant/+/siaga_{site}/+/config out 1", "topic homeassistant/status in 1"]
    fresh = tmp_path / "fresh"
    assert install(fresh).returncode == 0
    written = (fresh / "etc/mosquitto/conf.d/siaga-bridge.conf").read_text().splitlines()
    assert all(line in written for line in lines)

    # A Pi whose bridge was written before: the lines are added, once, the rest kept.
    older = tmp_path / "older"
    conf = older / "etc/mosquitto/conf.d/siaga-bridge.conf"
    conf.parent.mkdir(parents=True)
    old_text = "\n".join(line for line in written if "homeassistant" not in line) + "\n"
    conf.write_text(old_text)
    dry = install(older, "--dry-run")
    assert f"[dry-run] append_bridge_homeassistant {conf} {site}" in dry.stdout.splitlines()
    assert conf.read_text() == old_text
    done = install(older)
    assert f"+ append_bridge_homeassistant {conf} {site}" in done.stdout.splitlines()
    as_done = lambda out: [re.sub(r"^\[dry-run\] ", "+ ", line) for line in out.splitlines()]  # noqa: E731
    assert as_done(dry.stdout) == as_done(done.stdout)   # the dry run said, line for line, what ran
    now = conf.read_text()
    assert now.startswith(old_text) and all(line in now.splitlines() for line in lines)
    again = install(older)
    assert "append_bridge_homeassistant" not in again.stdout and conf.read_text() == now
