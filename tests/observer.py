"""A test-side MQTT client on the real broker: records everything, waits for what a user would see."""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from tests.waiting import wait_until


class Observer:
    """Subscribes to ``topic`` (default everything) and keeps every message in order."""

    def __init__(self, port: int, topic: str = "#") -> None:
        self.messages: list[tuple[float, str, bytes, bool]] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        self.client.on_connect = lambda c, u, f, rc, p: (c.subscribe(topic, qos=1), self._ready.set())
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self._ready.wait(5), "observer could not connect to the broker"
        time.sleep(0.1)  # let the subscription settle

    def _on_message(self, client: Any, userdata: Any, msg: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((time.time(), msg.topic, msg.payload, msg.retain))

    def on(self, suffix: str) -> list[bytes]:
        """Payloads of every message whose topic ends with ``suffix``."""
        with self._lock:
            return [p for _, t, p, _ in self.messages if t.endswith(suffix)]

    def json_on(self, suffix: str) -> list[dict]:
        """Decoded JSON payloads on ``suffix``."""
        return [json.loads(p) for p in self.on(suffix)]

    def state(self) -> dict | None:
        """The latest edge state snapshot."""
        states = self.json_on("/edge/state")
        return states[-1] if states else None

    def event_kinds(self) -> list[str]:
        """Kinds of every journal event seen, in order."""
        return [e["kind"] for e in self.json_on("/edge/event")]

    def wait(self, predicate: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
        """Wait until ``predicate()`` is truthy; fail with the last state when it never is."""
        return wait_until(predicate, timeout, what=what or str(predicate),
                          context=lambda: f"last state: {self.state()}; events: {self.event_kinds()}")

    def wait_room(self, room: str, timeout: float = 15.0) -> dict:
        """Wait for a snapshot with this room state."""
        return self.wait(lambda: (s := self.state()) and s["room"] == room and s, timeout, f"room {room}")

    def publish(self, topic: str, payload: str | bytes, retain: bool = False) -> None:
        """Publish at QoS 1 and wait until the broker has it."""
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()
