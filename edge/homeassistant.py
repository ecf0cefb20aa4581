"""Home Assistant MQTT discovery of the room (CONTRACT §5.7, §6.4).

With ``[homeassistant] discovery = true`` the edge publishes, retained, one discovery config per
entity under ``{discovery_prefix}/{component}/siaga_{site}/{key}/config``: one HA device per room
(identifiers ``siaga_{site}``) whose entities read the retained ``P/edge/state`` (through
``value_template`` over HA's ``value_json``) and ``P/edge/availability``, named in the site's
language. The builders are pure; ``Discovery`` is the I/O: on every connection it clears every
retained config under this room's node id that is not wanted now (a PC or UPS removed from
siaga.toml, or discovery turned off), then publishes the wanted ones, and it publishes them again
when Home Assistant says it (re)started (its birth message). So removing a room is:
discovery = false, restart once. A room whose site.id changed clears the configs of the site ids
its journal has known too (``old_sites``): HA would keep the old device, unavailable, for ever.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from typing import Any

from protocol.config import Config
from protocol.config.declare import ID_PATTERN
from protocol.messages import Room, Topics
from protocol.mqtt import MqttLink
from protocol.texts import ha_room, ha_text

logger = logging.getLogger(__name__)

SETTLE_S = 1.0   # retained configs arrive right after SUBACK; wait this long for them
# The edge publishes its state at least every 30 s (CONTRACT §3); a value older than three of
# those intervals is from an edge that hangs while its connection (and so its will) stays up.
EXPIRE_AFTER_S = 3 * 30
BIRTH_ONLINE = b"online"   # HA's birth message on {discovery_prefix}/status after it started

# The `silence` button: a fresh id per press (the edge acts once per command id).
SILENCE_TEMPLATE = ('{"v": 1, "id": "ha-{{ now().timestamp() }}", "ts": {{ now().timestamp() }}, '
                    '"kind": "silence", "by": "homeassistant"}')
# On battery: known only while the edge reads the UPS feeding the PC. It says ON when it does and
# that UPS is on battery, OFF when the room is ready or needs attention (every UPS feeding the PC
# read, none on battery); otherwise (the room's UPS unreadable: fault, or an outage it keeps open
# while the UPS cannot be read) "None", which HA shows as unknown rather than a false "off".
ON_BATTERY_TEMPLATE = ("{{ 'ON' if value_json.power.on_battery else "
                       "('OFF' if value_json.room in ['ready', 'attention'] else None) }}")
# The runtime in whole minutes, rounded down as the status page and the banner round the runtime
# left (protocol.durations, Span.AVAILABLE): HA shows "10 min" where the page says "10 mnt", not
# "600 s". round(3) first, as durations does, so float noise never costs a minute.
RUNTIME_TEMPLATE = ("{% set s = value_json.power.runtime_s %}"
                    "{{ ((s | round(3)) // 60) | int if s is number else None }}")
# The room state's attributes: why it is what it is (machine-readable causes), and its code.
ROOM_ATTRIBUTES = ('{{ {"reasons": value_json.reasons, "code": value_json.room, '
                   '"since": value_json.since} | tojson }}')


def node_id(site: str) -> str:
    """The device's identifier and the node id in discovery topics."""
    return f"siaga_{site}"


def _ups_value(name: str, field: str) -> str:
    return (f"{{% set u = value_json.ups | selectattr('name', 'eq', {json.dumps(name)}) | first %}}"
            f"{{{{ u.{field} if u else None }}}}")


def _pc_online(pc: str) -> str:
    return (f"{{% set p = value_json.pcs | selectattr('id', 'eq', {json.dumps(pc)}) | first %}}"
            "{{ 'ON' if p and p.online else 'OFF' }}")


def room_words(language: str) -> dict[str, str]:
    """Room code -> the word HA shows for it (the enum sensor's options, in this order)."""
    return {room.value: ha_room(language, room) for room in Room}


def _room_state(language: str) -> dict[str, Any]:
    words = room_words(language)
    # The words are both the states and the options: the edge that publishes a code also
    # publishes its word (HA 2024.3 ignores options; later releases refuse a state outside them).
    return {"name": ha_text(language, "room"), "device_class": "enum",
            "options": list(words.values()), "icon": "mdi:presentation",
            "value_template": f"{{{{ {json.dumps(words, ensure_ascii=False)}.get(value_json.room) }}}}",
            "json_attributes_template": ROOM_ATTRIBUTES}


def _measurement(name: str, unit: str, template: str, device_class: str | None) -> dict[str, Any]:
    # Whole numbers: "10 min", "100 %" (HA 2026 shows "10.00 min" for a duration otherwise).
    part = {"name": name, "unit_of_measurement": unit, "state_class": "measurement",
            "suggested_display_precision": 0, "value_template": template}
    return {**part, "device_class": device_class} if device_class else part


def entities(config: Config) -> dict[tuple[str, str], dict[str, Any]]:
    """(component, key) -> the entity-specific part of each discovery config."""
    lang = config.site.language
    out: dict[tuple[str, str], dict[str, Any]] = {
        ("sensor", "room"): _room_state(lang),
        ("binary_sensor", "on_battery"): {
            "name": ha_text(lang, "on_battery"), "icon": "mdi:power-plug-off",
            "value_template": ON_BATTERY_TEMPLATE},
        ("sensor", "charge"): _measurement(ha_text(lang, "charge"), "%",
                                           "{{ value_json.power.charge_pct }}", "battery"),
        ("sensor", "runtime"): _measurement(ha_text(lang, "runtime"), "min", RUNTIME_TEMPLATE,
                                            "duration"),
        ("binary_sensor", "silenced"): {
            "name": ha_text(lang, "silenced"), "icon": "mdi:volume-off",
            "value_template": "{{ 'ON' if value_json.indicator.silenced else 'OFF' }}"},
    }
    for ups in config.ups:
        # A UPS's load is a percentage of its rating: no HA device class fits (power_factor
        # would file it under cos phi), so a plain measurement in %.
        out[("sensor", f"load_{ups.name}")] = _measurement(
            ha_text(lang, "load", ups=ups.name), "%", _ups_value(ups.name, "load_pct"), None)
        out[("sensor", f"input_voltage_{ups.name}")] = _measurement(
            ha_text(lang, "input_voltage", ups=ups.name), "V",
            _ups_value(ups.name, "input_voltage"), "voltage")
    for pc in config.edge.pcs:
        out[("binary_sensor", f"pc_{pc}")] = {"name": ha_text(lang, "pc_online", pc=pc),
                                              "device_class": "connectivity",
                                              "value_template": _pc_online(pc)}
    return out


def _ids(component: str, node: str, key: str) -> dict[str, str]:
    """unique_id, and the entity id HA should give: `object_id` for HA before 2025.10,
    `default_entity_id` (the whole entity id) for 2025.10 and later, which drop `object_id`.
    An entity id has only [a-z0-9_] (a PC named meeting-pc: ..._pc_meeting_pc)."""
    slug = re.sub(r"[^a-z0-9_]", "_", f"{node}_{key}".lower())
    return {"unique_id": f"{node}_{key}", "object_id": slug,
            "default_entity_id": f"{component}.{slug}"}


def discovery_configs(config: Config) -> dict[str, dict[str, Any]]:
    """Discovery topic -> config payload, for every entity of the room."""
    site = config.site.id
    topics = Topics(config.mqtt.topic_prefix, site)
    node = node_id(site)
    device = {"identifiers": [node], "name": config.site.name or site, "manufacturer": "Siaga",
              "model": "Siaga edge (meeting room UPS)"}
    # QoS 1 as CONTRACT §3 has it for P/edge/command (HA's default is 0: a press could be lost)
    # and for the retained state and availability HA subscribes to.
    common = {"device": device, "availability_topic": topics.edge("availability"),
              "payload_available": "online", "payload_not_available": "offline", "qos": 1}
    out = {}
    for (component, key), part in entities(config).items():
        payload = {**part, **_ids(component, node, key), **common,
                   "state_topic": topics.edge("state"), "expire_after": EXPIRE_AFTER_S}
        if "json_attributes_template" in part:
            payload["json_attributes_topic"] = topics.edge("state")
        out[topic(config, component, key)] = payload
    button = {"name": ha_text(config.site.language, "silence"), **_ids("button", node, "silence"),
              **common, "command_topic": topics.edge("command"),
              "command_template": SILENCE_TEMPLATE, "icon": "mdi:volume-off"}
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

    def __init__(self, config: Config, old_sites: tuple[str, ...] = ()) -> None:
        self.config = config
        self.wanted = discovery_configs(config) if config.homeassistant.discovery else {}
        prefix = config.homeassistant.discovery_prefix
        self._pattern = f"{prefix}/+/{node_id(config.site.id)}/+/config"
        # This room under the site ids it had before: every retained config there is unwanted.
        old = tuple(f"{prefix}/+/{node_id(site)}/+/config" for site in old_sites
                    if site != config.site.id and ID_PATTERN.fullmatch(site))
        self._birth = f"{prefix}/status"
        self._retained: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        # Set once the first sync has cleared the unwanted configs (the broker acknowledged
        # it): the edge publishes its state only then, so HA never renders a removed UPS's
        # template against a state without it.
        self.cleared = threading.Event()
        self.link = MqttLink(config.mqtt, f"siaga-ha-{config.site.id}",
                             subscriptions=(self._pattern, *old, self._birth),
                             on_message=self._on_message, on_connected=self._on_connected)

    def start(self) -> None:
        """Connect in the background; the configs follow on every connection."""
        self.link.start()

    def stop(self) -> None:
        """Disconnect (once)."""
        if not self._stop.is_set():
            self._stop.set()
            self.link.stop()

    def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        if topic == self._birth:
            if payload == BIRTH_ONLINE and not retained and self.wanted:
                # HA (re)started: it asks every device for its configs again.
                threading.Thread(target=self.publish_wanted, name="siaga-ha-birth",
                                 daemon=True).start()
            return
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
        for info in [self.link.publish(t, b"", retain=True) for t in stale]:
            _wait(info)
        self.cleared.set()
        self.publish_wanted()
        if stale:
            logger.info("Home Assistant discovery: %d old configs cleared", len(stale))
        if not self.wanted:   # discovery is off: nothing more to keep, close the connection
            self.stop()

    def publish_wanted(self) -> None:
        """Publish (retained) every config this room wants."""
        for t, payload in self.wanted.items():
            self.link.publish(t, json.dumps(payload, ensure_ascii=False), retain=True)
        if self.wanted:
            logger.info("Home Assistant discovery: %d configs published", len(self.wanted))


def _wait(info: Any, timeout: float = 5.0) -> None:
    """Wait until the broker acknowledged one publish; give up quietly when the link dropped."""
    try:
        if info is not None:
            info.wait_for_publish(timeout)
    except (RuntimeError, ValueError):
        pass


def start_discovery(config: Config, old_sites: tuple[str, ...] = ()) -> Discovery:
    """Run discovery for this room when it is on, or once to clear what an earlier run left
    (under ``old_sites`` too: the site ids the room's journal had before this one)."""
    discovery = Discovery(config, old_sites)
    discovery.start()
    return discovery
