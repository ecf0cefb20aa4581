"""Siaga in a real Home Assistant Core (2024.3.3, make ha-venv): HA's MQTT integration on the
shipped central broker (its ACL, HA logged in as siaga-dashboard), each room a real `siaga edge`
with discovery on, publishing to its own mosquitto bridged up with the shipped siaga-bridge.conf.
Checked through HA's REST API: entity ids, names, units, device classes and states through a
power cut, the edge stopping, the room's language, the silence button; and that HA logged no
warning. HA starts once for the module (slow, CPU-heavy); `make test` runs the first test only,
`make ha` all of them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fleet_support import CENTRAL_DASHBOARD, PI_USERS, Fleet, central_broker, with_login
from tests.homeassistant_support import REPO, HomeAssistant
from tests.edge_support import run_edge_process, write_config
from tests.waiting import wait_until

# HA's start alone may take minutes while the whole suite loads the machine.
pytestmark = pytest.mark.timeout(400)
# The rest of the HA tests run in make ha (SIAGA_HA_FULL=1); make test leaves them out
# (tests/conftest.py deselects them: not run is not the same as skipped).
only_in_make_ha = pytest.mark.ha_full
SITES = ["rr1", "rr2", "rr3", "rr4"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    """The central broker and a Home Assistant whose MQTT integration reads it."""
    directory = tmp_path_factory.mktemp("ha-world")
    fleet = central_broker(directory / "fleet", SITES)
    fleet.central.start()
    ha = HomeAssistant.in_temp(directory / "ha")
    try:
        ha.start()
        print(f"Home Assistant started in {ha.started_in_s:.1f} s")
        entry = ha.add_mqtt(fleet.central.port, *CENTRAL_DASHBOARD)
        assert entry["type"] == "create_entry", entry
        yield fleet, ha
    except BaseException:
        _print_logs(directory)
        raise
    finally:
        ha.stop()
        fleet.central.stop()


def _print_logs(directory: Path) -> None:
    for log in sorted(directory.rglob("*.log")):
        print(f"----- {log} -----\n{log.read_text(errors='replace')[-6000:]}")


class Room:
    """One room: its mosquitto bridged to the central broker and a real `siaga edge`."""

    def __init__(self, fleet: Fleet, site: str, tmp_path: Path, upsd, language: str = "id"):
        self.site = site
        self.directory = tmp_path / site
        self.directory.mkdir()
        self.broker = fleet.room_broker(site).start()
        config = with_login(write_config(self.directory, upsd, self.broker, site=site),
                            "siaga-edge", PI_USERS["siaga-edge"])
        config.write_text(config.read_text().replace('name = "Ruang Rapat 1"',
                                                     f'name = "Ruang {site}"\nlanguage = "{language}"')
                          + "\n[homeassistant]\ndiscovery = true\n")
        self.config = config
        self.edge: subprocess.Popen | None = run_edge_process(config, self.directory)

    def stop_edge(self) -> None:
        """Stop the edge as systemd does (SIGTERM)."""
        if self.edge is not None and self.edge.poll() is None:
            self.edge.send_signal(signal.SIGTERM)
            try:
                self.edge.wait(15)
            except subprocess.TimeoutExpired:
                self.edge.kill()
                self.edge.wait(5)

    def close(self) -> None:
        """Stop the edge and the room's broker."""
        self.stop_edge()
        self.broker.stop()


@pytest.fixture
def rooms(world, tmp_path: Path, upsd, request: pytest.FixtureRequest):
    """rooms(site, language) -> a running Room, stopped after the test (logs on failure)."""
    fleet, _ = world
    made: list[Room] = []

    def make(site: str, language: str = "id") -> Room:
        room = Room(fleet, site, tmp_path, upsd, language)
        made.append(room)
        return room

    yield make
    for room in made:
        room.close()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        _print_logs(tmp_path)
        _print_logs(fleet.directory)
        print((world[1].directory / "ha.log").read_text(errors="replace")[-6000:])


def ha_state(ha: HomeAssistant, entity_id: str) -> str | None:
    """The state HA shows for an entity (None: no such entity yet)."""
    found = ha.state(entity_id)
    return found["state"] if found else None


def wait_state(ha: HomeAssistant, entity_id: str, wanted: str, timeout: float = 30) -> float:
    """Wait until HA shows ``wanted``; the seconds it took."""
    begun = time.monotonic()
    wait_until(lambda: ha_state(ha, entity_id) == wanted, timeout,
               what=f"{entity_id} = {wanted!r} in Home Assistant",
               context=lambda: f"it shows {ha_state(ha, entity_id)!r}")
    return time.monotonic() - begun


# entity id -> (name after the device's, unit, device class), for a room in Bahasa Indonesia
ENTITIES_ID = {
    "sensor.siaga_{s}_room": ("Status ruangan", None, "enum"),
    "binary_sensor.siaga_{s}_on_battery": ("Memakai baterai", None, None),
    "sensor.siaga_{s}_charge": ("Muatan baterai", "%", "battery"),
    "sensor.siaga_{s}_runtime": ("Sisa waktu baterai", "min", "duration"),
    "sensor.siaga_{s}_load_meeting": ("Beban UPS meeting", "%", None),
    "sensor.siaga_{s}_input_voltage_meeting": ("Tegangan masuk UPS meeting", "V", "voltage"),
    "binary_sensor.siaga_{s}_pc_meeting_pc": ("PC meeting-pc menyala", None, "connectivity"),
    "binary_sensor.siaga_{s}_silenced": ("Buzzer dibisukan", None, None),
    "button.siaga_{s}_silence": ("Bisukan buzzer", None, None),
}


def test_a_room_in_home_assistant_through_the_central_broker(world, rooms, upsd) -> None:
    """The sample `make test` runs: a room bridged up to the central broker appears in HA with
    its entities named in Indonesian, and follows a power cut."""
    _, ha = world
    rooms("rr1")
    wait_state(ha, "sensor.siaga_rr1_room", "Perlu dicek", 60)   # no PC agent: attention
    for pattern, (name, unit, device_class) in ENTITIES_ID.items():
        entity_id = pattern.format(s="rr1")
        found = ha.state(entity_id)
        assert found is not None, f"{entity_id} missing in Home Assistant"
        attributes = found["attributes"]
        assert attributes["friendly_name"] == f"Ruang rr1 {name}"
        assert attributes.get("unit_of_measurement") == unit, entity_id
        assert attributes.get("device_class") == device_class, entity_id
    room_state = ha.state("sensor.siaga_rr1_room")["attributes"]
    assert room_state["code"] == "attention" and "pc_offline:meeting-pc" in room_state["reasons"]
    assert {e: ha_state(ha, f"sensor.siaga_rr1_{e}") for e in
            ("charge", "runtime", "load_meeting", "input_voltage_meeting")} == {
        "charge": "100.0", "runtime": "30", "load_meeting": "35.0",
        "input_voltage_meeting": "220.0"}
    assert ha_state(ha, "binary_sensor.siaga_rr1_on_battery") == "off"

    upsd.set(ups_status="OB DISCHRG")
    took = wait_state(ha, "binary_sensor.siaga_rr1_on_battery", "on", 30)
    wait_state(ha, "sensor.siaga_rr1_room", "Listrik padam: pakai baterai", 10)
    print(f"power cut seen by Home Assistant through the bridge after {took:.1f} s")
    assert ha.problems() == []


@only_in_make_ha
def test_the_edge_stopping_makes_the_room_unavailable(world, rooms, upsd) -> None:
    """upsd stops: HA says the UPS cannot be read and "on battery" is unknown (not "off"); then
    the edge stops: every entity is unavailable."""
    _, ha = world
    room = rooms("rr2")
    wait_state(ha, "sensor.siaga_rr2_room", "Perlu dicek", 60)
    upsd.stop_upsd()
    wait_state(ha, "sensor.siaga_rr2_room", "UPS tidak terbaca", 30)
    assert {e: ha_state(ha, e) for e in ("binary_sensor.siaga_rr2_on_battery",
                                         "sensor.siaga_rr2_charge", "sensor.siaga_rr2_runtime")} \
        == dict.fromkeys(("binary_sensor.siaga_rr2_on_battery", "sensor.siaga_rr2_charge",
                          "sensor.siaga_rr2_runtime"), "unknown")
    room.stop_edge()
    for entity_id in ("sensor.siaga_rr2_room", "sensor.siaga_rr2_charge",
                      "binary_sensor.siaga_rr2_on_battery", "button.siaga_rr2_silence"):
        wait_state(ha, entity_id, "unavailable", 15)
    assert ha.problems() == []


@only_in_make_ha
def test_a_room_in_english(world, rooms) -> None:
    _, ha = world
    rooms("rr3", language="en")
    wait_state(ha, "sensor.siaga_rr3_room", "Needs attention", 60)
    names = {e: ha.state(e)["attributes"]["friendly_name"] for e in
             ("sensor.siaga_rr3_room", "sensor.siaga_rr3_load_meeting", "button.siaga_rr3_silence")}
    assert names == {"sensor.siaga_rr3_room": "Ruang rr3 Room state",
                     "sensor.siaga_rr3_load_meeting": "Ruang rr3 UPS meeting load",
                     "button.siaga_rr3_silence": "Ruang rr3 Silence buzzer"}
    assert ha.problems() == []


@only_in_make_ha
def test_the_silence_button_reaches_the_room_over_the_bridge(world, rooms, upsd) -> None:
    _, ha = world
    rooms("rr4")
    wait_state(ha, "sensor.siaga_rr4_room", "Perlu dicek", 60)
    upsd.set(ups_status="OB DISCHRG")
    wait_state(ha, "sensor.siaga_rr4_room", "Listrik padam: pakai baterai", 30)
    assert ha_state(ha, "binary_sensor.siaga_rr4_silenced") == "off"
    ha.press("button.siaga_rr4_silence")
    wait_state(ha, "binary_sensor.siaga_rr4_silenced", "on", 15)
    assert ha.problems() == []


@only_in_make_ha
def test_siaga_demo_homeassistant_in_a_fresh_home_assistant(tmp_path: Path) -> None:
    """`siaga demo --homeassistant` says what to type into HA's MQTT setup; typed into a fresh
    HA, the demo room appears. With SIAGA_HA_SCREENSHOT=FILE: a screenshot of its device page."""
    env = {**os.environ, "SIAGA_DEMO_STATE": str(tmp_path / "demo-state.json")}
    log = tmp_path / "demo.log"
    with open(log, "wb") as out:
        demo = subprocess.Popen([sys.executable, "-m", "siaga", "demo", "--homeassistant"],
                                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    ha = HomeAssistant.in_temp(tmp_path / "ha")
    try:
        said = wait_until(lambda: re.search(r"Broker: (\S+)\n\s+Port: (\d+)", log.read_text()),
                          90, what="the demo's Home Assistant lines",
                          context=lambda: log.read_text()[-3000:])
        assert said.group(1) == "127.0.0.1"
        ha.start()
        assert ha.add_mqtt(int(said.group(2)))["type"] == "create_entry"
        wait_state(ha, "sensor.siaga_demo_rr1_room", "Siap", 60)
        assert ha.state("sensor.siaga_demo_rr1_room")["attributes"]["friendly_name"] == (
            "Demo - Ruang Rapat 1 Status ruangan")
        if shot := os.environ.get("SIAGA_HA_SCREENSHOT"):
            screenshot_device_page(ha, "sensor.siaga_demo_rr1_room", Path(shot))
        assert ha.problems() == []
    finally:
        ha.stop()
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait(5)


def screenshot_device_page(ha: HomeAssistant, entity_id: str, path: Path) -> None:
    """HA's device page of the entity's device, in Chromium, logged in (tokens as the frontend
    keeps them after its login page)."""
    from playwright.sync_api import sync_playwright

    url = f"{ha.url}/config/devices/device/{ha.device_id(entity_id)}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_init_script(f"localStorage.setItem('hassTokens', "
                                    f"{json.dumps(json.dumps(ha.browser_tokens()))})")
            page = context.new_page()
            page.goto(url)
            page.wait_for_timeout(8000)   # the frontend builds the page from its websocket
            page.screenshot(path=str(path))
        finally:
            browser.close()
