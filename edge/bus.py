"""The edge's MQTT adapter: decoded agent messages and edge commands in; state, events and PC
commands out. Decoding is the pure ``decode_incoming``; bad payloads are logged once and dropped.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from typing import Any, Callable, Container

from edge.clock import wall
from edge.room import PcReport
from protocol.config import Config
from protocol.messages import (Ack, AgentStatus, BadMessage, EdgeCommand, JournalEvent, PcCommand,
                               StateSnapshot, Topics, decode, parse_topic, to_json)
from protocol.mqtt import MqttLink
from protocol.signing import command_payload

logger = logging.getLogger(__name__)

COMMAND_EXPIRY_S = 120
SEEN_IDS = 256  # edge command ids remembered, so a duplicate delivery acts once


@dataclass(frozen=True)
class Incoming:
    """One message for the edge: ``what`` is status, availability, ack or command."""

    what: str
    pc: str = ""
    message: Any = None
    retained: bool = False


def decode_incoming(topics: Topics, topic: str, payload: bytes, retained: bool,
                    pcs: Container[str] | None = None) -> Incoming | None:
    """Turn one MQTT message into an ``Incoming``; None when the topic is not ours (or is about
    a PC not in ``pcs``, when given); BadMessage when the payload breaks the contract."""
    parsed = parse_topic(topics.prefix, topic)
    if parsed is None or parsed[0] != topics.site:
        return None
    rest = parsed[1]
    if rest == ["edge", "command"]:
        if retained:
            raise BadMessage("edge commands are never retained; a retained one is stale")
        return Incoming("command", message=decode(EdgeCommand, payload))
    if len(rest) != 3 or rest[0] != "pc":
        return None
    pc, leaf = rest[1], rest[2]
    if pcs is not None and pc not in pcs:
        return None  # not this room's PC: keeping it would let anyone grow our memory
    if leaf == "availability":
        text = payload.decode("utf-8", "replace").strip()
        if text not in ("online", "offline"):
            raise BadMessage(f"availability must be online or offline, got {text[:20]!r}")
        return Incoming("availability", pc, text == "online")
    if leaf == "status":
        status = decode(AgentStatus, payload)
        if status.pc != pc:
            raise BadMessage(f"status of {status.pc!r} on the topic of {pc!r}")
        return Incoming("status", pc, status, retained)
    if leaf == "ack":
        return Incoming("ack", pc, decode(Ack, payload))
    return None  # our own command topic, echoed back: not for us


class EdgeBus:
    """The edge's MQTT side; the paho thread fills it, the daemon loop drains it."""

    def __init__(self, config: Config) -> None:
        self.topics = Topics(config.mqtt.topic_prefix, config.site.id)
        self.pcs = frozenset(config.edge.pcs)
        self.keys = dict(config.edge.command_keys)
        if config.edge.keys_dir:
            for pc in sorted(self.pcs - self.keys.keys()):
                logger.warning("no key %s.key in %s: commands to %s are not signed", pc,
                               config.edge.keys_dir, pc)
        self._lock = threading.Lock()
        self._pcs: dict[str, PcReport] = {}
        self._acks: list[tuple[str, Ack]] = []
        self._commands: list[EdgeCommand] = []
        self._seen: list[str] = []
        self._bad_logged: set[str] = set()
        self.reconnected = threading.Event()
        self.on_replay: Callable[[EdgeCommand], None] | None = None  # I/O, kept out of the core
        self.link = MqttLink(
            config.mqtt, f"siaga-edge-{config.site.id}",
            availability_topic=self.topics.edge("availability"),
            subscriptions=(self.topics.pc("+", "status"), self.topics.pc("+", "availability"),
                           self.topics.pc("+", "ack"), self.topics.edge("command")),
            on_message=self._on_message, on_connected=self.reconnected.set)

    def start(self) -> None:
        """Connect in the background."""
        self.link.start()

    def stop(self) -> None:
        """Publish ``offline`` and disconnect."""
        self.link.stop()

    def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        try:
            incoming = decode_incoming(self.topics, topic, payload, retained, self.pcs)
        except BadMessage as exc:
            if topic not in self._bad_logged:  # one line per topic, not a flood
                logger.warning("ignored a bad message on %s: %s", topic, exc)
                self._bad_logged.add(topic)
            return
        if incoming is not None:
            self._bad_logged.discard(topic)
            self._take(incoming)

    def _take(self, m: Incoming) -> None:
        with self._lock:
            report = self._pcs.get(m.pc, PcReport(m.pc))
            if m.what == "status":
                # A retained status may be hours old: then its own ts is the best guess.
                seen = min(wall(), m.message.ts) if m.retained else wall()
                self._pcs[m.pc] = replace(report, status=m.message, last_seen=seen, available=True)
            elif m.what == "availability":
                self._pcs[m.pc] = replace(report, available=m.message)
            elif m.what == "ack":
                self._acks.append((m.pc, m.message))
            elif m.what == "command" and m.message.id not in self._seen:
                self._seen = (self._seen + [m.message.id])[-SEEN_IDS:]
                if m.message.kind == "replay":
                    if self.on_replay is not None:
                        self.on_replay(m.message)
                else:
                    self._commands.append(m.message)

    def drain(self) -> tuple[tuple[PcReport, ...], tuple[tuple[str, Ack], ...], tuple[EdgeCommand, ...]]:
        """(every PC heard of, acks and edge commands since the last call)."""
        with self._lock:
            acks, commands = tuple(self._acks), tuple(self._commands)
            self._acks.clear()
            self._commands.clear()
            return tuple(self._pcs.values()), acks, commands

    def publish_state(self, snap: StateSnapshot) -> None:
        """Retained state snapshot."""
        self.link.publish(self.topics.edge("state"), to_json(snap), retain=True)

    def publish_event(self, event: JournalEvent) -> None:
        """One journal event (not retained)."""
        self.link.publish(self.topics.edge("event"), to_json(event))

    def send(self, pc: str, command: PcCommand) -> None:
        """A PC command, signed when we hold the PC's key: never retained, expires after 120 s
        (MQTT 5)."""
        self.link.publish(self.topics.pc(pc, "command"), command_payload(command, self.keys.get(pc)),
                          expiry_s=COMMAND_EXPIRY_S)
