"""`siaga check` shows a bridge to the central broker that cannot connect, and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocol.config import MqttConfig
from siaga.bridgecheck import check_bridge, probe_central, read_bridge
from tests.fleet_support import PI_USERS, Fleet, bridge_config, central_broker, make_certificates
from tests.fleet_support import started
from tests.waiting import wait_until

SITE = "rr1"


@pytest.fixture
def fleet(tmp_path: Path, request: pytest.FixtureRequest) -> Fleet:
    f = central_broker(tmp_path / "fleet", [SITE])
    started(f.central, request)
    return f


def bridge_file(tmp_path: Path, fleet: Fleet, *, password: str | None = None,
                cafile: Path | None = None, port: int | None = None) -> Path:
    path = tmp_path / "siaga-bridge.conf"
    path.write_text(bridge_config(SITE, f"127.0.0.1:{port or fleet.tls_port}",
                                  cafile or fleet.certs["ca.crt"],
                                  password or fleet.central_users[SITE]))
    return path


def test_probe_says_why_the_central_broker_cannot_be_used(tmp_path, fleet) -> None:
    assert probe_central(read_bridge(bridge_file(tmp_path, fleet))) is None
    refused = probe_central(read_bridge(bridge_file(tmp_path, fleet, password="wrong")))
    assert "refused the bridge's login" in refused
    other_ca = make_certificates(tmp_path / "other-ca")["ca.crt"]
    tls = probe_central(read_bridge(bridge_file(tmp_path, fleet, cafile=other_ca)))
    assert tls.startswith("TLS error") and "CERTIFICATE_VERIFY_FAILED" in tls
    fleet.central.stop()
    gone = probe_central(read_bridge(bridge_file(tmp_path, fleet)))
    assert "unreachable: connection refused" in gone


def test_check_line_for_a_bridge_up_and_down(tmp_path, fleet, request) -> None:
    pi = started(fleet.room_broker(SITE), request)
    mqtt = MqttConfig(port=pi.port, username="siaga-edge", password=PI_USERS["siaga-edge"])
    path = bridge_file(tmp_path, fleet)
    up = wait_until(lambda: (r := check_bridge(mqtt, path)) and r[0] and r, 10, what="bridge ok")
    assert up[1:] == ("bridge", f"siaga-central -> 127.0.0.1:{fleet.tls_port}", "connected")
    fleet.central.stop()
    down = wait_until(lambda: (r := check_bridge(mqtt, path)) and not r[0] and r, 10,
                      what="bridge FAIL")
    assert "unreachable" in down[3] and "the room keeps working locally" in down[3]
    # Without the file (not root): mosquitto's own state still says the bridge is down.
    no_file = check_bridge(mqtt, tmp_path / "missing.conf")
    assert no_file is not None and not no_file[0] and "bridge down" in no_file[3]


def test_no_bridge_no_line(tmp_path, broker) -> None:
    assert check_bridge(MqttConfig(port=broker.port), tmp_path / "missing.conf") is None
