"""One paho-mqtt client with the habits every Siaga program needs.

Used by the edge daemon, the agent and the dashboard: VERSION2 callbacks, MQTT 5 (3.1.1 when
the broker refuses 5), TCP_NODELAY (without it every hop waits ~40 ms for Nagle and delayed
ACK), a retained ``online`` on connect with an ``offline`` last will, subscriptions renewed in
``on_connect`` (they are lost on reconnect), reconnects with backoff, and callbacks that can
never kill paho's network thread.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from typing import Any, Callable, cast

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from protocol.config import MqttConfig

logger = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes, bool], None]
UNSUPPORTED_PROTOCOL = {1, 132}  # 3.1.1 CONNACK 1, MQTT 5 reason 0x84


class _Client(paho.Client):
    """paho's client, keeping why the last connection attempt failed (paho retries silently)."""

    last_error: OSError | None = None

    def reconnect(self) -> Any:
        try:
            return super().reconnect()
        except OSError as exc:
            self.last_error = exc
            raise


def connect_error(exc: BaseException, ca_file: str = "") -> str:
    """Why a connection to the broker failed, in words a person can act on."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        where = f"the CA in mqtt.ca_file ({ca_file})" if ca_file else "the system's CAs (set mqtt.ca_file)"
        return f"TLS: the broker's certificate is not trusted by {where}: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {exc.reason or exc} (is the broker's port a TLS listener?)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is mosquitto running?)"
    if isinstance(exc, TimeoutError):
        return "no answer (a firewall, or the wrong host?)"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


class MqttLink:
    """A connected-in-the-background MQTT client; ``publish`` never raises."""

    def __init__(self, config: MqttConfig, client_id: str, *, availability_topic: str = "",
                 subscriptions: tuple[str, ...] = (), on_message: MessageHandler | None = None,
                 on_connected: Callable[[], None] | None = None) -> None:
        self.config = config
        self.client_id = client_id
        self.availability_topic = availability_topic
        self.subscriptions = subscriptions
        self.on_message = on_message
        self.on_connected = on_connected
        self.connected = threading.Event()
        # Set once the broker has acknowledged our subscriptions after a connect: "connected"
        # comes first, and a message published meanwhile would pass the broker before we listen.
        self.listening = threading.Event()
        self._subscribe_mid: int | None = None
        # The MQTT v5 message expiry left on the message being handled (None: it had none), for
        # the handler to read: paho calls on_message from its one network thread, one at a time.
        self.expiry_left: int | None = None
        self._protocol = paho.MQTTv5
        self._lost_logged = False
        self._fail_logged = False
        self.client = self._build()

    def _build(self) -> paho.Client:
        c = _Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=self._protocol)
        if self.config.username:
            c.username_pw_set(self.config.username, self.config.password or None)
        if self.config.tls:
            c.tls_set(ca_certs=self.config.ca_file or None)
        if self.availability_topic:
            c.will_set(self.availability_topic, "offline", qos=1, retain=True)
        c.reconnect_delay_set(min_delay=1, max_delay=30)
        c.on_socket_open = _nodelay
        c.on_connect = self._guard(self._on_connect)
        c.on_disconnect = self._guard(self._on_disconnect)
        c.on_connect_fail = self._guard(self._on_connect_fail)
        c.on_message = self._guard(self._on_message)
        c.on_subscribe = self._guard(self._on_subscribe)
        return c

    def start(self) -> None:
        """Connect in the background; retries until ``stop``."""
        self.client.connect_async(self.config.host, self.config.port,
                                  keepalive=self.config.keepalive_s)
        self.client.loop_start()

    def stop(self) -> None:
        """Say ``offline`` (when we have an availability topic) and disconnect cleanly."""
        if self.availability_topic and self.connected.is_set():
            try:
                self.client.publish(self.availability_topic, "offline", qos=1,
                                    retain=True).wait_for_publish(2)
            except (RuntimeError, ValueError):
                pass  # the connection dropped meanwhile: the broker sends our last will instead
        self._lost_logged = True  # a disconnect we asked for is not worth a warning
        self.client.disconnect()
        self.client.loop_stop()
        # paho closes its wake-up socket pair only in Client.__del__; inside a reference cycle
        # the sockets can be finalized first and raise ResourceWarning. Close them now.
        self.client._reset_sockets(sockpair_only=True)

    def publish(self, topic: str, payload: bytes | str, *, retain: bool = False,
                expiry_s: int | None = None) -> paho.MQTTMessageInfo | None:
        """Publish at QoS 1; queued by paho while disconnected. Returns None on a local error."""
        props = None
        if expiry_s is not None and self._protocol == paho.MQTTv5:
            props = Properties(PacketTypes.PUBLISH)
            props.MessageExpiryInterval = int(expiry_s)
        try:
            return self.client.publish(topic, payload, qos=1, retain=retain, properties=props)
        except (ValueError, OSError) as exc:
            logger.warning("MQTT publish to %s failed: %s", topic, exc)
            return None

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if reason.is_failure:
            if reason.value in UNSUPPORTED_PROTOCOL and self._protocol == paho.MQTTv5:
                logger.warning("broker does not speak MQTT 5; using 3.1.1")
                self._protocol = paho.MQTTv311
                threading.Thread(target=self._restart, daemon=True).start()
            else:
                logger.warning("MQTT broker %s:%s refused us: %s", self.config.host,
                               self.config.port, reason)
            return
        logger.info("MQTT connected to %s:%s", self.config.host, self.config.port)
        self._lost_logged = self._fail_logged = False
        if self.availability_topic:
            client.publish(self.availability_topic, "online", qos=1, retain=True)
        self.listening.clear()
        if self.subscriptions:
            _, self._subscribe_mid = client.subscribe([(t, 1) for t in self.subscriptions])
        else:
            self.listening.set()
        self.connected.set()
        if self.on_connected:
            self.on_connected()

    def _on_subscribe(self, client: paho.Client, userdata: Any, mid: int, reasons: Any,
                      properties: Any) -> None:
        if mid == self._subscribe_mid:
            self.listening.set()

    def _restart(self) -> None:
        self.client.loop_stop()
        self.client = self._build()
        self.start()

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any,
                       properties: Any) -> None:
        self.connected.clear()
        self.listening.clear()
        if not self._lost_logged:
            logger.warning("MQTT connection to %s:%s lost (%s); reconnecting", self.config.host,
                           self.config.port, reason)
            self._lost_logged = True

    def _on_connect_fail(self, client: _Client, userdata: Any) -> None:
        """One line on the first failed attempt of a streak (paho itself says nothing)."""
        if self._fail_logged or client.last_error is None:
            return
        self._fail_logged = True
        logger.warning("cannot connect to the MQTT broker %s:%s: %s; still trying", self.config.host,
                       self.config.port, connect_error(client.last_error, self.config.ca_file))

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        if self.on_message:
            self.expiry_left = getattr(msg.properties, "MessageExpiryInterval", None)
            # paho types the payload bytes | bytearray; a received one is bytes (struct.unpack)
            self.on_message(msg.topic, cast(bytes, msg.payload), msg.retain)

    @staticmethod
    def _guard(callback: Callable[..., None]) -> Callable[..., None]:
        """Wrap a paho callback: an exception is logged, never allowed to end the loop."""

        def guarded(*args: Any) -> None:
            try:
                callback(*args)
            except Exception:  # noqa: BLE001 - paho's thread must survive anything we do
                logger.exception("error in MQTT callback %s", callback.__name__)

        return guarded


def _nodelay(client: paho.Client, userdata: Any, sock: Any) -> None:
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass  # not a TCP socket (e.g. a websocket wrapper): Nagle stays on, nothing breaks
