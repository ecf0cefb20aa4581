"""The room's broker as shipped (firmware_config/mosquitto): passwords, ACL, a client."""

from __future__ import annotations

import re
import subprocess
import threading
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from siaga.servers import Mosquitto, find_program

REPO = Path(__file__).resolve().parents[1]
FIRMWARE = REPO / "firmware_config"
PASSWORDS = {"siaga-edge": "edge-pw", "siaga-dashboard": "dash-pw", "meeting-pc": "pc1-pw",
             "other-pc": "pc2-pw"}


@pytest.fixture
def room_broker(tmp_path: Path, request: pytest.FixtureRequest) -> Mosquitto:
    """mosquitto with the example siaga.conf and siaga.acl, on a free loopback port."""
    passwd = tmp_path / "siaga.passwd"
    tool = find_program("mosquitto_passwd", "mosquitto")
    for user, password in PASSWORDS.items():
        create = ["-c"] if not passwd.exists() else []
        subprocess.run([tool, *create, "-b", str(passwd), user, password], check=True)
    conf = (FIRMWARE / "mosquitto" / "siaga.conf").read_text()
    conf = re.sub(r"^(listener|certfile|keyfile) .*$", "", conf, flags=re.M)  # Mosquitto() adds its own
    conf = conf.replace("/etc/mosquitto/siaga.passwd", str(passwd))
    conf = conf.replace("/etc/mosquitto/siaga.acl", str(FIRMWARE / "mosquitto" / "siaga.acl"))
    broker = Mosquitto(tmp_path / "mosquitto", extra=conf).start()
    request.addfinalizer(broker.stop)
    return broker


class Client:
    """A small MQTT 5 client that remembers PUBACK reasons and received messages."""

    def __init__(self, port: int, user: str, password: str | None = None) -> None:
        self.acks: dict[int, str] = {}
        self.messages: list[tuple[str, bytes]] = []
        self.connected = threading.Event()
        self.answered = threading.Event()
        self.subscribed = threading.Event()
        self.connect_reason = ""
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{user}",
                                  protocol=paho.MQTTv5)
        self.client.username_pw_set(user, PASSWORDS.get(user, "") if password is None else password)
        self.client.on_connect = self._on_connect
        self.client.on_publish = lambda c, u, mid, reason, props: self.acks.__setitem__(
            mid, "accepted" if not reason.is_failure else str(reason))
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.client.on_message = lambda c, u, msg: self.messages.append((msg.topic, msg.payload))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.answered.wait(5)

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        self.connect_reason = str(reason)
        self.answered.set()
        if not reason.is_failure:
            self.connected.set()

    def publish(self, topic: str) -> str:
        """Publish at QoS 1: "accepted" or the broker's PUBACK failure reason."""
        info = self.client.publish(topic, b'{"v": 1}', qos=1)
        info.wait_for_publish(5)
        return self.acks.get(info.mid, "no puback")

    def subscribe(self, topic: str) -> None:
        """Subscribe and wait for the SUBACK."""
        self.subscribed.clear()
        self.client.subscribe(topic, qos=1)
        assert self.subscribed.wait(5)

    def close(self) -> None:
        """Disconnect; drop the callbacks so that paho's sockets close with the client."""
        self.client.disconnect()
        self.client.loop_stop()
        self.client.on_connect = self.client.on_publish = None
        self.client.on_subscribe = self.client.on_message = None
