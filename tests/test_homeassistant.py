"""Home Assistant discovery (CONTRACT §5.7, §6.4): the payloads pass the MQTT discovery schema of
the Home Assistant that make ha-venv installs, carry what HA 2025.10 and later read
(default_entity_id), name their entities in the site's language, their templates give the right
values on a real state, and on a real broker they are retained, cleared before the state changes
shape, published again on HA's birth message and cleared when discovery is turned off."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable

import jinja2
import pytest

from edge.daemon import Edge
from edge.homeassistant import EXPIRE_AFTER_S, discovery_configs, start_discovery, to_clear
from protocol.config import load_config
from protocol.durations import Span, duration
from dashboard.texts.page import TEXTS as PAGE_TEXTS
from protocol.messages import EdgeCommand, Room, decode
from tests.homeassistant_support import HA_ROOT, HA_VENV
from tests.observer import Observer
from tests.broker_support import PASSWORDS, Client
from siaga.servers import free_port
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[1]
HA_PYTHON = HA_VENV / "bin" / "python"


def config_file(tmp_path: Path, port: int = 1883, upsd_port: int = 3493, discovery: bool = True,
                pcs: str = '["meeting-pc"]', language: str = "id", projector: bool = True,
                site: str = "rr1") -> Path:
    path = tmp_path / "siaga.toml"
    projector_ups = f"""[[ups]]
name = "projector"
port = {upsd_port}
powers_pc = false
""" if projector else ""
    path.write_text(f"""
[site]
id = "{site}"
name = "Ruang Rapat 1"
language = "{language}"
[mqtt]
port = {port}
[[ups]]
name = "meeting"
port = {upsd_port}
{projector_ups}[edge]
journal = "{tmp_path / 'journal.sqlite3'}"
pcs = {pcs}
[gpio]
pin_factory = "mock"
[homeassistant]
discovery = {str(discovery).lower()}
""")
    return path


KEYS = {"room", "on_battery", "charge", "runtime", "silenced", "load_meeting", "load_projector",
        "input_voltage_meeting", "input_voltage_projector", "pc_meeting-pc", "silence"}


def test_every_entity_has_the_fields_ha_documents(tmp_path: Path) -> None:
    configs = discovery_configs(load_config(config_file(tmp_path)))
    assert {t.split("/")[3] for t in configs} == KEYS
    unique = [c["unique_id"] for c in configs.values()]
    assert len(set(unique)) == len(unique)
    for t, c in configs.items():
        prefix, component, node, key, leaf = t.split("/")
        assert (prefix, node, leaf) == ("homeassistant", "siaga_rr1", "config")
        assert component in ("sensor", "binary_sensor", "button")
        assert c["device"]["identifiers"] == ["siaga_rr1"] and c["device"]["name"] == "Ruang Rapat 1"
        assert c["availability_topic"] == "siaga/rr1/edge/availability"
        # HA before 2025.10 reads object_id, 2025.10 and later the whole entity id.
        entity = f"siaga_rr1_{key}".replace("-", "_")   # [a-z0-9_] only: pc_meeting_pc
        assert c["object_id"] == entity and c["unique_id"] == f"siaga_rr1_{key}"
        assert c["default_entity_id"] == f"{component}.{entity}"
        if component == "button":
            assert c["command_topic"] == "siaga/rr1/edge/command" and "expire_after" not in c
        else:
            assert c["state_topic"] == "siaga/rr1/edge/state" and c["value_template"]
            assert c["expire_after"] == EXPIRE_AFTER_S == 90   # three 30 s state intervals


def ha_schema_verdicts(configs: dict) -> dict:
    """tests/ha_schema.py run by Home Assistant's own Python: make ha-venv's 2024.3.3, or under
    `make ha` (SIAGA_HA_ROOT) the current release in its Debian 13 root."""
    if HA_ROOT is None:
        assert HA_PYTHON.exists(), f"{HA_PYTHON} is missing: run make ha-venv"
        argv = [str(HA_PYTHON), str(REPO / "tests" / "ha_schema.py")]
    else:
        shutil.copy(REPO / "tests" / "ha_schema.py", HA_ROOT / "tmp" / "siaga-ha-schema.py")
        argv = ["chroot", str(HA_ROOT), "/opt/ha/bin/python", "/tmp/siaga-ha-schema.py"]
    run = subprocess.run(argv, check=True, input=json.dumps(configs), capture_output=True,
                         text=True, timeout=300)
    return json.loads(run.stdout)


def test_the_payloads_pass_home_assistants_discovery_schema(tmp_path: Path) -> None:
    """Home Assistant's own schema accepts every payload. 2024.3 ignores default_entity_id,
    which only 2025.10 and later know, and the room state's options, which MQTT sensors learned
    after 2024.3 (that HA shows the words without the list); the current release ignores
    nothing."""
    configs = discovery_configs(load_config(config_file(tmp_path)))
    answer = ha_schema_verdicts(configs)
    verdicts = answer["results"]
    assert {t: v["error"] for t, v in verdicts.items() if v["error"]} == {}
    # HA publishes a press of "Silence buzzer" at the QoS it reads here: CONTRACT §3 says 1.
    assert {t: v["qos"] for t, v in verdicts.items()} == {t: 1 for t in configs}
    room = "homeassistant/sensor/siaga_rr1/room/config"
    if HA_ROOT is None:
        assert answer["version"] == "2024.3.3"
        assert {t: v["dropped"] for t, v in verdicts.items()} == {
            t: ["default_entity_id", "options"] if t == room else ["default_entity_id"]
            for t in configs}
    else:
        assert answer["version"].startswith("2026.")
        assert {t: v["dropped"] for t, v in verdicts.items()} == {t: [] for t in configs}


def test_the_room_state_is_an_enum_with_its_reasons_and_the_load_is_no_power_factor(
        tmp_path: Path) -> None:
    configs = {t.split("/")[3]: c for t, c in
               discovery_configs(load_config(config_file(tmp_path))).items()}
    room = configs["room"]
    assert room["device_class"] == "enum"
    # The page's words for the same rooms: HA says what the status page says.
    page = [PAGE_TEXTS[f"room_{room.value}"][0] for room in Room]
    assert room["options"] == page
    assert room["options"][:2] == ["Siap", "Perlu dicek"]
    assert "unit_of_measurement" not in room and "state_class" not in room
    assert room["json_attributes_topic"] == "siaga/rr1/edge/state"
    load = configs["load_meeting"]
    assert "device_class" not in load and load["unit_of_measurement"] == "%"


@pytest.mark.parametrize(("language", "names"), [
    ("id", {"room": "Status ruangan", "on_battery": "Memakai baterai", "charge": "Muatan baterai",
            "load_meeting": "Beban UPS meeting", "pc_meeting-pc": "PC meeting-pc menyala",
            "silenced": "Buzzer dibisukan", "silence": "Bisukan buzzer"}),
    ("en", {"room": "Room state", "on_battery": "On battery", "charge": "Battery charge",
            "load_meeting": "UPS meeting load", "pc_meeting-pc": "PC meeting-pc online",
            "silenced": "Buzzer silenced", "silence": "Silence buzzer"}),
])
def test_entity_names_follow_the_sites_language(tmp_path: Path, language, names) -> None:
    configs = discovery_configs(load_config(config_file(tmp_path, language=language)))
    got = {t.split("/")[3]: c["name"] for t, c in configs.items()}
    assert {k: got[k] for k in names} == names


@pytest.mark.parametrize(("retained", "wanted", "cleared"), [
    ({"a", "b"}, {"a", "b"}, []),
    ({"a", "b", "old-pc"}, {"a", "b"}, ["old-pc"]),       # a PC removed from siaga.toml
    ({"a", "b"}, set(), ["a", "b"]),                       # discovery turned off: the room goes
    (set(), {"a"}, []),
])
def test_what_is_cleared(retained, wanted, cleared) -> None:
    assert to_clear(retained, wanted) == cleared


def test_the_runtime_is_the_minutes_the_status_page_shows(tmp_path: Path) -> None:
    """HA shows the runtime in whole minutes, rounded down as the page does ("9 min" for 599 s,
    where the page says "9 mnt"), not "599 s"; unknown when the edge has none."""
    runtime = {t.split("/")[3]: c for t, c in
               discovery_configs(load_config(config_file(tmp_path))).items()}["runtime"]
    assert (runtime["unit_of_measurement"], runtime["device_class"]) == ("min", "duration")
    for seconds in (1800, 599, 659.9, 299.9996, 61, 3900):
        shown = render(runtime["value_template"], {"power": {"runtime_s": seconds}})
        page = duration(seconds, "en", Span.AVAILABLE)
        assert f"{shown} min" == page or (shown, page) == ("65", "1 h 5 min"), seconds
    assert render(runtime["value_template"], {"power": {"runtime_s": 59}}) == "0"
    assert render(runtime["value_template"], {"power": {"runtime_s": None}}) == "None"


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
        wait_until(lambda: len(configs_on(watch)) == 11, 10, what="11 discovery configs")
        state = watch.wait(lambda: (s := watch.state()) and s["ups"][0]["reachable"] and s, 10)
        configs = {t.split("/")[3]: c for t, c in configs_on(watch).items()}
        got = {k: render(c["value_template"], state) for k, c in configs.items()
               if "value_template" in c}
        assert got == {"room": "Perlu dicek", "on_battery": "OFF", "charge": "100.0",
                       "runtime": "30", "load_meeting": "35.0", "load_projector": "None",
                       "input_voltage_meeting": "220.0", "input_voltage_projector": "None",
                       "pc_meeting-pc": "OFF", "silenced": "OFF"}
        assert got["room"] in configs["room"]["options"]
        attributes = json.loads(render(configs["room"]["json_attributes_template"], state))
        assert "ups_unreachable:projector" in state["reasons"]   # why the room needs IT
        assert attributes == {"reasons": state["reasons"], "code": "attention",
                              "since": state["since"]}
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
        wait_until(lambda: len(configs_on(retained)) == 11, 5, what="configs retained")
    finally:
        retained.close()


def test_discovery_off_clears_the_rooms_configs(tmp_path, upsd, broker, edge_in_process) -> None:
    on, off = tmp_path / "on", tmp_path / "off"
    on.mkdir()
    off.mkdir()
    edge = edge_in_process(config_file(on, broker.port, upsd.port, pcs='["meeting-pc", "old-pc"]'))
    first = Observer(broker.port, "homeassistant/#")
    wait_until(lambda: len(configs_on(first)) == 12, 10, what="12 discovery configs")
    first.close()
    edge.homeassistant.stop()   # the room's edge stops (its daemon loop ends in the teardown) ...
    edge.bus.stop()
    watch = Observer(broker.port, "homeassistant/#")
    wait_until(lambda: len(configs_on(watch)) == 12, 5, what="configs retained")
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
    shown = lambda: {t for t, p in dict(ha.messages).items() if p and t.endswith("/config")}  # noqa: E731
    on = start_discovery(load_config(path))
    try:
        wait_until(lambda: len(shown()) == 11, 10, what="configs published under the ACL")
        # Home Assistant restarts: its birth message passes the ACL and the configs come again.
        before = len(ha.messages)
        birth = ha.client.publish("homeassistant/status", b"online", qos=1)
        birth.wait_for_publish(5)
        assert ha.acks.get(birth.mid) == "accepted"
        wait_until(lambda: len({t for t, p in ha.messages[before:] if p and t.endswith("/config")})
                   == 11, 10,
                   what="the configs published again after HA's birth message")
    finally:
        on.stop()
    path.write_text(path.read_text().replace("discovery = true", "discovery = false"))
    off = start_discovery(load_config(path))
    try:
        wait_until(lambda: not shown(), 10, what="configs cleared under the ACL")
    finally:
        off.stop()
        ha.close()


def run_edge(path: Path) -> tuple[Edge, Callable[[], None]]:
    """An Edge running in a thread of its own, and the function that stops it as systemd would."""
    edge = Edge(load_config(path))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(edge.run(),), daemon=True)
    thread.start()

    def stop() -> None:
        loop.call_soon_threadsafe(edge.stopping.set)
        thread.join(10)
        edge.close()
        loop.close()
    return edge, stop


def published_once(config: Path, port: int) -> None:
    """An edge on ``config`` runs until its 11 discovery configs are on the broker, then stops."""
    _, stop = run_edge(config)
    try:
        first = Observer(port, "homeassistant/#")
        wait_until(lambda: len(configs_on(first)) == 11, 10, what="11 discovery configs")
        first.close()
    finally:
        stop()


def test_a_removed_ups_leaves_ha_before_the_state_changes_shape(tmp_path, upsd, broker,
                                                                 mock_factory) -> None:
    """The edge restarts without the "projector" UPS: its configs are cleared (empty retained)
    before the first state without it, so HA never renders their templates on such a state."""
    before, after = tmp_path / "before", tmp_path / "after"
    before.mkdir()
    after.mkdir()
    published_once(config_file(before, broker.port, upsd.port), broker.port)
    watch = Observer(broker.port, "#")
    _, stop = run_edge(config_file(after, broker.port, upsd.port, projector=False))
    try:
        gone = "homeassistant/sensor/siaga_rr1/load_projector/config"
        wait_until(lambda: any(t == gone and not p for _, t, p, _ in watch.messages), 15,
                   what="the projector's configs cleared")
        wait_until(lambda: len(watch.json_on("/edge/state")) >= 2, 15, what="a new state")
        with watch._lock:
            order = [(t, p) for _, t, p, retained in watch.messages if not retained]
        cleared_at = order.index((gone, b""))
        first_new_state = next(i for i, (t, p) in enumerate(order) if t.endswith("/edge/state")
                               and len(json.loads(p)["ups"]) == 1)
        assert cleared_at < first_new_state
    finally:
        stop()
        watch.close()


def test_on_battery_is_unknown_while_the_ups_feeding_the_pc_cannot_be_read(
        tmp_path, broker, edge_in_process) -> None:
    """The edge cannot read the UPS that feeds the PC (its upsd is gone): the page says "UPS
    tidak terbaca" and HA must not say "Memakai baterai: Off" (the room may well be on battery).
    A rendered "None" is what HA shows as unknown. On mains or on battery it says so."""
    edge_in_process(config_file(tmp_path, broker.port, free_port(), projector=False))
    watch = Observer(broker.port, "#")
    try:
        wait_until(lambda: len(configs_on(watch)) == 9, 10, what="9 discovery configs")
        state = watch.wait(lambda: (s := watch.state()) and s["room"] == "fault" and s, 15)
        configs = {t.split("/")[3]: c for t, c in configs_on(watch).items()}
        got = {k: render(configs[k]["value_template"], state)
               for k in ("room", "on_battery", "charge", "runtime")}
        assert got == {"room": "UPS tidak terbaca", "on_battery": "None", "charge": "None",
                       "runtime": "None"}
    finally:
        watch.close()
    template = configs["on_battery"]["value_template"]
    for room, on_battery, shown in (("ready", False, "OFF"), ("attention", False, "OFF"),
                                    ("on_battery", True, "ON"), ("wrapup", True, "ON"),
                                    ("on_battery", False, "None")):   # unreadable mid-outage
        seen = {**state, "room": room, "power": {**state["power"], "on_battery": on_battery}}
        assert render(template, seen) == shown, (room, on_battery)


def test_a_new_site_id_takes_the_old_rooms_device_out_of_ha(tmp_path, upsd, broker,
                                                            mock_factory) -> None:
    """The room's site id changes in siaga.toml (rr1 -> rr1-lantai2, same Pi, same journal): HA
    would keep a second device "Ruang Rapat 1" with the old entity ids, unavailable forever. The
    edge clears the configs of every site id its journal has known, as for a removed UPS."""
    published_once(config_file(tmp_path, broker.port, upsd.port), broker.port)
    _, stop = run_edge(config_file(tmp_path, broker.port, upsd.port, site="rr1-lantai2"))
    try:
        watch = Observer(broker.port, "homeassistant/#")
        wait_until(lambda: len([t for t in configs_on(watch) if "/siaga_rr1-lantai2/" in t]) == 11,
                   10, what="the new site's 11 configs")
        wait_until(lambda: not [t for t in configs_on(watch) if "/siaga_rr1/" in t], 10,
                   what="the old site's configs cleared",
                   context=lambda: str(sorted(configs_on(watch))))
        watch.close()
    finally:
        stop()
    later = Observer(broker.port, "homeassistant/#")
    try:
        wait_until(lambda: len(configs_on(later)) == 11, 5, what="the retained configs")
        assert {t.split("/")[2] for t in configs_on(later)} == {"siaga_rr1-lantai2"}
    finally:
        later.close()
