"""Home Assistant MQTT discovery of the room (CONTRACT §5.7).

With ``[homeassistant] discovery = true`` the edge publishes, retained, one discovery config per
entity under ``{discovery_prefix}/{component}/siaga_{site}/{key}/config``: one HA device per room
(identifiers ``siaga_{site}``) whose entities read the retained ``P/edge/state`` (through
``value_template`` over HA's ``value_json``) and ``P/edge/availability``. The builders are pure;
``Discovery`` is the I/O: on every connection it clears every retained config under this room's
node id that is not wanted now (a PC or UPS removed from siaga.toml, or discovery turned off),
then publishes the wanted ones. So removing a room is: discovery = false, restart once.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from protocol.config import Config
from protocol.messages import Topics
from protocol.mqtt import MqttLink

logger = logging.getLogger(__name__)

SETTLE_S = 1.0   # retained configs arrive right after SUBACK; wait this long for them

# The `silence` button: a fresh id per press (the edge acts once per command id).
SILENCE_TEMPLATE = ('{"v": 1, "id": "ha-{{ now().timestamp() }}", "ts": {{ now().timestamp() }}, '
                    '"kind": "silence", "by": "homeassistant"}')


def node_id(site: str) -> str:
    """The device's identifier and the node id in discovery topics."""
    return f"siaga_{site}"


def _ups_value(name: str, field: str) -> str:
    return (f"{{% set u = value_json.ups | selectattr('name', 'eq', {json.dumps(name)}) | first %}}"
            f"{{{{ u.{field} if u else None }}}}")


def _pc_online(pc: str) -> str:
    return (f"{{% set p = value_json.pcs | selectattr('id', 'eq', {json.dumps(pc)}) | first %}}"
            "{{ 'ON' if p and p.online else 'OFF' }}")


def entities(config: Config) -> dict[tuple[str, str], dict[str, Any]]:
    """(component, key) -> the entity-specific part of each discovery config."""
    onoff = "{{ 'ON' if value_json.power.on_battery else 'OFF' }}"
    out: dict[tuple[str, str], dict[str, Any]] = {
        ("sensor", "room"): {"name": "Room state", "value_template": "{{ value_json.room }}",
                             "icon": "mdi:presentation"},
        ("binary_sensor", "on_battery"): {"name": "On battery", "value_template": onoff,
                                          "icon": "mdi:power-plug-off"},
        ("sensor", "charge"): {"name": "Battery charge", "device_class": "battery",
                               "unit_of_measurement": "%", "state_class": "measurement",
                               "value_template": "{{ value_json.power.charge_pct }}"},
        ("sensor", "runtime"): {"name": "Battery runtime", "device_class": "duration",
                                "unit_of_measurement": "s", "state_class": "measurement",
                                "value_template": "{{ value_json.power.runtime_s }}"},
    }
    for ups in config.ups:
        out[("sensor", f"load_{ups.name}")] = {
            "name": f"UPS {ups.name} load", "device_class": "power_factor",
            "unit_of_measurement": "%", "state_class": "measurement",
            "value_template": _ups_value(ups.name, "load_pct")}
        out[("sensor", f"input_voltage_{ups.name}")] = {
            "name": f"UPS {ups.name} input voltage", "device_class": "voltage",
            "unit_of_measurement": "V", "state_class": "measurement",
            "value_template": _ups_value(ups.name, "input_voltage")}
    for pc in config.edge.pcs:
        out[("binary_sensor", f"pc_{pc}")] = {"name": f"PC {pc} online",
                                              "device_class": "connectivity",
                                              "value_template": _pc_online(pc)}
    return out


def discovery_configs(config: Config) -> dict[str, dict[str, Any]]:
    """Discovery topic -> config payload, for every entity of the room."""
    site = config.site.id
    topics = Topics(config.mqtt.topic_prefix, site)
    node = node_id(site)
    device = {"identifiers": [node], "name": config.site.name or site, "manufacturer": "Siaga",
              "model": "Siaga edge (meeting room UPS)"}
    out = {}
    for (component, key), part in entities(config).items():
        payload = {**part, "unique_id": f"{node}_{key}", "object_id": f"{node}_{key}",
                   "device": device, "availability_topic": topics.edge("availability"),
                   "payload_available": "online", "payload_not_available": "offline"}
        payload["state_topic"] = topics.edge("state")
        out[topic(config, component, key)] = payload
    button = {"name": "Silence buzzer", "unique_id": f"{node}_silence",
              "object_id": f"{node}_silence", "device": device,
              "availability_topic": topics.edge("availability"),
              "command_topic": topics.edge("command"), "command_template": SILENCE_TEMPLATE,
              "icon": "mdi:volume-off"}
    out[topic(config, "button", "silence")] = button
    return out


def topic(config: Config, component: str, key: str) -> str:
    """``{discovery_prefix}/{component}/siaga_{site}/{key}/config``."""
    return f"{config.homeassistant.discovery_prefix}/{component}/{node_id(config.site.id)}/{key}/config"


def to_clear(retained: set[str], wanted: set[str]) -> list[str]:
    """Retained config topics of this room to clear (empty retained payload): the unwanted ones."""
    return sorted(retained - wanted)


class Discovery:
    """Keeps this room's retained discovery configs equal to what siaga.toml wants."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.wanted = discovery_configs(config) if config.homeassistant.discovery else {}
        prefix = config.homeassistant.discovery_prefix
        self._pattern = f"{prefix}/+/{node_id(config.site.id)}/+/config"
        self._retained: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.link = MqttLink(config.mqtt, f"siaga-ha-{config.site.id}",
                             subscriptions=(self._pattern,), on_message=self._on_message,
                             on_connected=self._on_connected)

    def start(self) -> None:
        """Connect in the background; the configs follow on every connection."""
        self.link.start()

    def stop(self) -> None:
        """Disconnect (once)."""
        if not self._stop.is_set():
            self._stop.set()
            self.link.stop()

    def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        with self._lock:
            if payload:
                self._retained.add(topic)
            else:
                self._retained.discard(topic)

    def _on_connected(self) -> None:
        threading.Thread(target=self.sync, name="siaga-ha", daemon=True).start()

    def sync(self) -> None:
        """After the retained configs have arrived: clear the unwanted, publish the wanted."""
        if self._stop.wait(SETTLE_S):
            return
        with self._lock:
            stale = to_clear(self._retained, set(self.wanted))
        sent = [self.link.publish(t, b"", retain=True) for t in stale]
        sent += [self.link.publish(t, json.dumps(payload, ensure_ascii=False), retain=True)
                 for t, payload in self.wanted.items()]
        if stale or self.wanted:
            logger.info("Home Assistant discovery: %d published, %d cleared", len(self.wanted),
                        len(stale))
        if not self.wanted:   # discovery is off: nothing more to keep, close the connection
            for info in sent:  # ... once the broker has the clearing (stop() does not flush)
                _wait(info)
            self.stop()


def _wait(info: Any, timeout: float = 5.0) -> None:
    """Wait until the broker acknowledged one publish; give up quietly when the link dropped."""
    try:
        if info is not None:
            info.wait_for_publish(timeout)
    except (RuntimeError, ValueError):
        pass


def start_discovery(config: Config) -> Discovery:
    """Run discovery for this room when it is on, or once to clear what an earlier run left."""
    discovery = Discovery(config)
    discovery.start()
    return discovery
