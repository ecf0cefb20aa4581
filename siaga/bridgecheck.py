"""`siaga check`'s line for the bridge to a central broker (siaga-bridge.conf, docs/fleet.md).

Two sources: mosquitto's own retained ``$SYS/broker/connection/<name>/state`` on the room's
broker (1 = up, 0 = down; present only when a bridge is configured), and, when the bridge file is
readable (root), a probe of the central broker with the bridge's own address, CA and login, which
tells why a bridge is down: unreachable, a TLS error, or refused. Either way the room keeps
working on its own broker; only the central page misses it (and catches up by replay).
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from protocol.config import MqttConfig

BRIDGE_FILE = Path("/etc/mosquitto/conf.d/siaga-bridge.conf")
STATE_TOPIC = "$SYS/broker/connection/+/state"
LOCAL_NOTE = "the room keeps working locally"

Result = tuple[bool, str, str, str]


def read_bridge(path: Path) -> dict[str, str]:
    """The first value of each option of a mosquitto bridge file ({} when unreadable)."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}
    out: dict[str, str] = {}
    for line in lines:
        parts = line.split(None, 1)
        if len(parts) == 2 and not parts[0].startswith("#"):
            out.setdefault(parts[0], parts[1].strip())
    return out


def _client(client_id: str, username: str, password: str) -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv311)
    if username:
        client.username_pw_set(username, password or None)
    return client


def _connack(client: paho.Client, host: str, port: int, timeout: float) -> Any:
    """Connect and wait for the CONNACK reason; raises OSError/ssl errors from the connect."""
    answered = threading.Event()
    outcome: dict[str, Any] = {}

    def on_connect(c: paho.Client, u: Any, f: Any, reason: Any, p: Any) -> None:
        outcome["r"] = reason
        answered.set()

    client.on_connect = on_connect
    client.connect_timeout = timeout
    client.connect(host, port, keepalive=10)
    client.loop_start()
    try:
        answered.wait(timeout)
        return outcome.get("r")
    finally:
        client.disconnect()
        client.loop_stop()


def probe_central(bridge: dict[str, str], timeout: float = 3.0) -> str | None:
    """Why the central broker of ``bridge`` cannot be used (one line), or None when it can."""
    address = bridge.get("address", "").split()
    if not address:
        return "the bridge file has no address"
    host, _, port = address[0].rpartition(":")
    if not host:
        host, port = address[0], "8883"
    where = f"{host}:{port}"
    cafile = bridge.get("bridge_cafile") or None
    try:   # our own handshake first: paho leaves the socket of a failed TLS handshake open
        context = ssl.create_default_context(cafile=cafile)
        with socket.create_connection((host, int(port)), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=host):
                pass
    except ssl.SSLError as exc:
        return f"TLS error with {where}: {exc.reason or exc}"
    except ConnectionRefusedError:
        return f"central broker {where} unreachable: connection refused"
    except (TimeoutError, socket.timeout):
        return f"central broker {where} unreachable: no answer"
    except (OSError, ValueError) as exc:
        return f"central broker {where} unreachable: {getattr(exc, 'strerror', None) or exc}"
    client = _client(f"siaga-check-bridge-{os.getpid()}", bridge.get("remote_username", ""),
                     bridge.get("remote_password", ""))
    try:
        client.tls_set(ca_certs=cafile)
        reason = _connack(client, host, int(port), timeout)
    except (OSError, ValueError) as exc:
        return f"central broker {where}: {exc}"
    if reason is None:
        return f"central broker {where} did not answer within {timeout:g} s"
    if reason.is_failure:
        return f"central broker {where} refused the bridge's login: {reason}"
    return None


def bridge_states(mqtt: MqttConfig, wait_s: float = 1.0) -> dict[str, str]:
    """Bridge name -> "1"/"0" from the room broker's retained $SYS states ({} = no bridge)."""
    states: dict[str, str] = {}
    client = _client(f"siaga-check-sys-{os.getpid()}", mqtt.username, mqtt.password)
    client.on_message = lambda c, u, m: states.__setitem__(m.topic.split("/")[3],
                                                           m.payload.decode(errors="replace"))
    done = threading.Event()

    def on_connect(c: paho.Client, u: Any, f: Any, reason: Any, p: Any) -> None:
        c.subscribe(STATE_TOPIC)
        done.set()

    client.on_connect = on_connect
    try:
        if mqtt.tls:
            client.tls_set()
        client.connect(mqtt.host, mqtt.port, keepalive=10)
    except (OSError, ValueError):
        return {}  # the broker line of `siaga check` says why
    client.loop_start()
    try:
        if done.wait(wait_s * 3):
            threading.Event().wait(wait_s)   # retained states arrive right after SUBACK
        return dict(states)
    finally:
        client.disconnect()
        client.loop_stop()


def check_bridge(mqtt: MqttConfig, bridge_file: Path = BRIDGE_FILE) -> Result | None:
    """The bridge line of `siaga check`, or None when this room has no bridge."""
    bridge = read_bridge(bridge_file)
    states = bridge_states(mqtt)
    if not states and not bridge:
        return None
    name = bridge.get("connection", "") or ",".join(sorted(states))
    what = f"{name} -> {bridge.get('address', '?')}"
    down = [n for n, v in states.items() if v.strip() != "1"]
    problem = probe_central(bridge) if bridge else None
    if problem or down:
        detail = problem or "mosquitto reports the bridge down (journalctl -u mosquitto says why)"
        return False, "bridge", what, f"{detail}; {LOCAL_NOTE}"
    return True, "bridge", what, "connected"
