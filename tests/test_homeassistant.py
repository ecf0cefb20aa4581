"""Home Assistant discovery (CONTRACT §5.7): the payloads carry what HA's MQTT discovery documents
(unique_id, device.identifiers, state_topic, availability_topic, value_template; a button's
command_topic), their templates give the right values on a real state, and on a real broker they
are retained and cleared again when discovery is turned off."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import jinja2
import pytest

from edge.homeassistant import discovery_configs, start_discovery, to_clear
from protocol.config import load_config
from protocol.messages import EdgeCommand, decode
from tests.observer import Observer
from tests.broker_support import PASSWORDS, Client
from tests.waiting import wait_until


def config_file(tmp_path: Path, port: int = 1883, upsd_port: int = 3493, discovery: bool = True,
                pcs: str = '["meeting-pc"]') -> Path:
    path = tmp_path / "siaga.toml"
    path.write_text(f"""
[site]
id = "rr1"
name = "Ruang Rapat 1"
[mqtt]
port = {port}
[[ups]]
name = "meeting"
port = {upsd_port}
[[ups]]
name = "projector"
port = {upsd_port}
powers_pc = false
[edge]
journal = "{tmp_path / 'journal.sqlite3'}"
pcs = {pcs}
[gpio]
pin_factory = "mock"
[homeassistant]
discovery = {str(discovery).lower()}
""")
    return path


def test_every_entity_has_the_fields_ha_documents(tmp_path: Path) -> None:
    configs = discovery_configs(load_config(config_file(tmp_path)))
    keys = {t.split("/")[3] for t in configs}
    assert keys == {"room", "on_battery", "charge", "runtime", "load_meeting", "load_projector",
                    "input_voltage_meeting", "input_voltage_projector", "pc_meeting-pc", "silence"}
    unique = [c["unique_id"] for c in configs.values()]
    assert len(set(unique)) == len(unique)
    for t, c in configs.items():
        prefix, component, node, key, leaf = t.split("/")
        assert (prefix, node, leaf) == ("homeassistant", "siaga_rr1", "config")
        assert component in ("sensor", "binary_sensor", "button")
        assert c["device"]["identifiers"] == ["siaga_rr1"] and c["device"]["name"] == "Ruang Rapat 1"
        assert c["availability_topic"] == "siaga/rr1/edge/availability"
        if component == "button":
            assert c["command_topic"] == "siaga/rr1/edge/command"
        else:
            assert c["state_topic"] == "siaga/rr1/edge/state" and c["value_template"]


@pytest.mark.parametrize(("retained", "wanted", "cleared"), [
    ({"a", "b"}, {"a", "b"}, []),
    ({"a", "b", "old-pc"}, {"a", "b"}, ["old-pc"]),       # a PC removed from siaga.toml
    ({"a", "b"}, set(), ["a", "b"]),                       # discovery turned off: the room goes
    (set(), {"a"}, []),
])
def test_what_is_cleared(retained, wanted, cleared) -> None:
    assert to_clear(retained, wanted) == cleared


def render(template: str, state: dict) -> str:
    """A template as HA renders it for an MQTT entity: the payload's JSON as ``value_json``."""
    env = jinja2.Environment()
    env.globals["now"] = lambda: dt.datetime.now(dt.timezone.utc)
    return env.from_string(template).render(value_json=state, value=json.dumps(state))


def configs_on(watch: Observer) -> dict[str, dict]:
    with watch._lock:
        latest = {}
        for _, t, p, _ in watch.messages:
            if t.startswith("homeassistant/"):
                latest[t] = json.loads(p) if p else None
    return {t: c for t, c in latest.items() if c is not None}


def test_the_room_appears_in_ha_and_goes_again(tmp_path, upsd, broker, edge_in_process) -> None:
    edge_in_process(config_file(tmp_path, broker.port, upsd.port))
    watch = Observer(broker.port, "#")
    try:
        wait_until(lambda: len(configs_on(watch)) == 10, 10, what="10 discovery configs")
        state = watch.wait(lambda: (s := watch.state()) and s["ups"][0]["reachable"] and s, 10)
        got = {t.split("/")[3]: render(c["value_template"], state)
               for t, c in configs_on(watch).items() if "value_template" in c}
        assert got == {"room": "attention", "on_battery": "OFF", "charge": "100.0",
                       "runtime": "1800.0", "load_meeting": "35.0", "load_projector": "None",
                       "input_voltage_meeting": "220.0", "input_voltage_projector": "None",
                       "pc_meeting-pc": "OFF"}
        # No agent in this test: the PC is offline. upsd has no "projector": its values are
        # None, which HA shows as "unknown" (it treats a rendered "None" as no value).
        button = configs_on(watch)["homeassistant/button/siaga_rr1/silence/config"]
        press = decode(EdgeCommand, render(button["command_template"], state))
        again = decode(EdgeCommand, (time.sleep(0.01), render(button["command_template"], state))[1])
        assert press.kind == "silence" and press.id != again.id   # each press acts once
    finally:
        watch.close()
    retained = Observer(broker.port, "homeassistant/#")
    try:
        wait_until(lambda: len(configs_on(retained)) == 10, 5, what="configs retained")
    finally:
        retained.close()


def test_discovery_off_clears_the_rooms_configs(tmp_path, upsd, broker, edge_in_process) -> None:
    on, off = tmp_path / "on", tmp_path / "off"
    on.mkdir()
    off.mkdir()
    edge = edge_in_process(config_file(on, broker.port, upsd.port, pcs='["meeting-pc", "old-pc"]'))
    first = Observer(broker.port, "homeassistant/#")
    wait_until(lambda: len(configs_on(first)) == 11, 10, what="11 discovery configs")
    first.close()
    edge.homeassistant.stop()   # the room's edge stops (its daemon loop ends in the teardown) ...
    edge.bus.stop()
    watch = Observer(broker.port, "homeassistant/#")
    wait_until(lambda: len(configs_on(watch)) == 11, 5, what="configs retained")
    # ... and starts again with discovery off (what Edge.run does first)
    removed = start_discovery(load_config(config_file(off, broker.port, upsd.port, discovery=False)))
    try:
        wait_until(lambda: not configs_on(watch), 10, what="every config cleared",
                   context=lambda: str(configs_on(watch).keys()))
    finally:
        watch.close()
        removed.stop()
    later = Observer(broker.port, "homeassistant/#")
    try:
        time.sleep(0.5)
        assert later.messages == []            # nothing retained any more
    finally:
        later.close()


def test_the_shipped_acl_lets_the_edge_publish_and_clear_discovery(tmp_path, room_broker) -> None:
    """With firmware_config/mosquitto's ACL: the edge's login (siaga-edge) may publish and read
    back the discovery configs; Home Assistant's login (siaga-dashboard) reads them."""
    path = config_file(tmp_path, room_broker.port)
    secret = tmp_path / "mqtt.password"
    secret.write_text(PASSWORDS["siaga-edge"])
    path.write_text(path.read_text().replace(
        "[mqtt]\n", f'[mqtt]\nusername = "siaga-edge"\npassword_file = "{secret}"\n'))
    ha = Client(room_broker.port, "siaga-dashboard")
    ha.subscribe("homeassistant/#")
    shown = lambda: {t for t, p in dict(ha.messages).items() if p}  # noqa: E731 - latest per topic
    on = start_discovery(load_config(path))
    try:
        wait_until(lambda: len(shown()) == 10, 10, what="configs published under the ACL")
    finally:
        on.stop()
    path.write_text(path.read_text().replace("discovery = true", "discovery = false"))
    off = start_discovery(load_config(path))
    try:
        wait_until(lambda: not shown(), 10, what="configs cleared under the ACL")
    finally:
        off.stop()
        ha.close()
