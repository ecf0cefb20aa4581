"""Signed commands end to end: the edge's bus signs, a real `siaga agent` process on a real
mosquitto obeys only commands signed with its own PC's key (CONTRACT §5.9)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge.bus import EdgeBus
from protocol.config import load_config
from protocol.messages import PcCommand
from protocol.signing import sign
from siaga.servers import stop_process
from tests.agent_helpers import PC, SITE, write_agent_config
from tests.waiting import wait_until

MEETING_KEY = "m" * 40
OTHER_KEY = "o" * 40      # the key of another PC of the room, e.g. stolen with its broker password


@pytest.fixture
def agent_process(broker, tmp_path: Path, pc_client):
    """`python -m siaga agent` with a command key, its shutdown a marker file."""
    (tmp_path / "pc.key").write_text(MEETING_KEY + "\n")
    config = write_agent_config(tmp_path, broker.port, shutdown_grace_s=2,
                                command_key_file="pc.key")
    log = tmp_path / "agent.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "siaga", "agent", "-c", str(config)],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        pc_client.wait_for("status", timeout=15)
        yield log
    finally:
        stop_process(proc)


@pytest.fixture
def edge_bus(broker, tmp_path: Path):
    """The edge's real bus, with the keys of both PCs in keys_dir."""
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / f"{PC}.key").write_text(MEETING_KEY + "\n")
    (keys / "other-pc.key").write_text(OTHER_KEY + "\n")
    path = tmp_path / "siaga.toml"
    path.write_text(f'[site]\nid = "{SITE}"\n[mqtt]\nport = {broker.port}\n[[ups]]\nname = "meeting"\n'
                    f'[edge]\npcs = ["{PC}", "other-pc"]\nkeys_dir = "keys"\n')
    bus = EdgeBus(load_config(path))
    bus.start()
    assert bus.link.listening.wait(5)
    yield bus
    bus.stop()


def forged(pc_client, kind: str, key: str | None) -> dict:
    """A command as an attacker on the broker sends it: unsigned, or signed with another key."""
    cmd = pc_client.command(kind, grace_s=0)
    if key:
        cmd["sig"] = sign(cmd, key.encode())
    pc_client.send_raw(json.dumps(cmd).encode())
    return cmd


def test_only_commands_signed_with_the_pcs_own_key_are_obeyed(agent_process, edge_bus, pc_client,
                                                              tmp_path):
    marker = tmp_path / "shutdown.marker"
    for key, why in ((None, "refused: not signed"), (OTHER_KEY, "refused: bad signature")):
        cmd = forged(pc_client, "shutdown", key)
        _, _, ack = pc_client.wait_for("ack", lambda a, c=cmd: a["id"] == c["id"])
        assert ack["ok"] is False and ack["detail"].startswith(why)
    time.sleep(2.5)   # longer than the PC's grace: a forged shutdown would have run by now
    assert not marker.exists()

    now = time.time()
    edge_bus.send(PC, PcCommand(id="real-shutdown", ts=now, expires=now + 120, kind="shutdown"))
    _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == "real-shutdown")
    assert (ack["ok"], ack["detail"]) == (True, "shutdown in 2 s")
    fake_cancel = forged(pc_client, "cancel", OTHER_KEY)   # power "is back": keep the PC on
    _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == fake_cancel["id"])
    assert ack["ok"] is False
    wait_until(marker.exists, timeout=10, what="the signed shutdown ran despite the fake cancel")
    log = agent_process.read_text()
    assert "refused: not signed" in log and "refused: bad signature" in log


def test_edge_signs_with_each_pcs_own_key(edge_bus, pc_client):
    now = time.time()
    edge_bus.send(PC, PcCommand(id="n1", ts=now, expires=now + 120, kind="notice", title="Listrik padam"))
    _, _, sent = pc_client.wait_for("command", lambda c: c["id"] == "n1")
    assert sent["sig"] == sign(sent, MEETING_KEY.encode()) != sign(sent, OTHER_KEY.encode())
