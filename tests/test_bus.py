"""The edge's MQTT decoding, as a table: topic + payload -> Incoming, None, or BadMessage."""

import json
import time

import pytest

from edge.bus import EdgeBus, decode_incoming
from protocol.config import load_config
from protocol.messages import BadMessage, Topics
from tests.observer import Observer
from tests.waiting import wait_until

T = Topics("siaga", "rr1")
STATUS = json.dumps({"v": 1, "pc": "pc1", "ts": 5.0, "disk_free_gb": 10.5}).encode()
ACK = json.dumps({"v": 1, "id": "a", "kind": "notice", "ok": True, "ts": 1}).encode()
CMD = json.dumps({"v": 1, "id": "c", "ts": 1, "kind": "silence", "by": "admin"}).encode()


@pytest.mark.parametrize("topic, payload, retained, what, pc", [
    ("siaga/rr1/pc/pc1/status", STATUS, False, "status", "pc1"),
    ("siaga/rr1/pc/pc1/status", STATUS, True, "status", "pc1"),
    ("siaga/rr1/pc/pc1/availability", b"online", True, "availability", "pc1"),
    ("siaga/rr1/pc/pc1/availability", b"offline", True, "availability", "pc1"),
    ("siaga/rr1/pc/pc1/ack", ACK, False, "ack", "pc1"),
    ("siaga/rr1/edge/command", CMD, False, "command", ""),
])
def test_good_messages(topic, payload, retained, what, pc):
    m = decode_incoming(T, topic, payload, retained)
    assert (m.what, m.pc) == (what, pc)


@pytest.mark.parametrize("topic", ["siaga/rr2/edge/command", "other/rr1/edge/command",
                                   "siaga/rr1/pc/pc1/command", "siaga/rr1/edge/state",
                                   "siaga/rr1/pc/pc1/status/extra"])
def test_not_ours(topic):
    assert decode_incoming(T, topic, CMD, False) is None


@pytest.mark.parametrize("topic, payload, retained, reason", [
    ("siaga/rr1/edge/command", CMD, True, "never retained"),
    ("siaga/rr1/edge/command", b"{}", False, "missing"),
    ("siaga/rr1/edge/command", CMD.replace(b"silence", b"reboot"), False, "unknown"),
    ("siaga/rr1/pc/pc1/status", STATUS.replace(b'"pc1"', b'"pc2"'), False, "topic of"),
    ("siaga/rr1/pc/pc1/status", b"\xff" * 10, False, "not JSON"),
    ("siaga/rr1/pc/pc1/status", b"[" * 70000, False, "over"),
    ("siaga/rr1/pc/pc1/availability", b"yes", False, "online or offline"),
    ("siaga/rr1/pc/pc1/ack", ACK.replace(b"true", b'"yes"'), False, "ok: expected bool"),
    # an ack's args were relayed into the journal as they came
    ("siaga/rr1/pc/pc1/ack", ACK.replace(b'"ts": 1', b'"ts": 1, "args": {"seconds": NaN}'), False,
     "not JSON: NaN is not a JSON number"),
])
def test_bad_messages(topic, payload, retained, reason):
    with pytest.raises(BadMessage, match=reason):
        decode_incoming(T, topic, payload, retained)


def test_only_the_rooms_own_pcs_are_kept(tmp_path, broker):
    # Anyone on the broker can invent PC ids; the edge keeps only the ones it expects.
    path = tmp_path / "siaga.toml"
    path.write_text(f'[site]\nid = "rr1"\n[mqtt]\nport = {broker.port}\n[[ups]]\nname = "m"\n'
                    '[edge]\npcs = ["pc1"]\n')
    bus = EdgeBus(load_config(path))
    bus.start()
    sender = Observer(broker.port, "nothing")
    try:
        assert bus.link.listening.wait(5)
        time.sleep(0.2)  # let the edge's subscriptions settle
        for i in range(200):
            stranger = json.dumps({"v": 1, "pc": f"x{i}", "ts": 5.0})
            sender.publish(f"siaga/rr1/pc/x{i}/status", stranger)
            sender.publish(f"siaga/rr1/pc/x{i}/availability", "bad")
        sender.publish("siaga/rr1/pc/pc1/status", STATUS)
        pcs = wait_until(lambda: bus.drain()[0], what="pc1's status")
        assert [p.id for p in pcs] == ["pc1"]
        assert bus._bad_logged == set()  # noqa: SLF001 - nothing remembered about strangers
    finally:
        sender.close()
        bus.stop()
