"""The edge as the outage tests run it: its config, an in-process edge, a fake PC."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from edge.daemon import Edge
from protocol.config import load_config
from tests.observer import Observer

PREFIX = "siaga/rr1"


def write_config(tmp_path: Path, upsd, broker, site: str = "rr1", *, name: str = "siaga.toml",
                 calendar: str = "", pcs: tuple[str, ...] = ("meeting-pc",), **policy) -> Path:
    """A siaga.toml for the test servers; fast polling so the suite stays quick. ``name`` for a
    test that writes a dashboard's siaga.toml beside it; ``calendar``: the room's bookings URL."""
    rules = {"notice_after_s": 1, "pc_offline_after_s": 4, "resend_after_s": 1,
             "unreadable_wrapup_after_s": 3, **policy}
    path = tmp_path / name
    path.write_text(f"""
[site]
id = "{site}"
name = "Ruang Rapat 1"
{f'calendar = "{calendar}"' if calendar else ""}
[mqtt]
port = {broker.port}
[[ups]]
name = "meeting"
port = {upsd.port}
[edge]
poll_interval_s = 0.25
journal = "{tmp_path / 'journal.sqlite3'}"
pcs = {json.dumps(list(pcs))}
[policy]
{chr(10).join(f'{k} = {v}' for k, v in rules.items())}
[gpio]
pin_factory = "mock"
""")
    return path


class FakePc(Observer):
    """Plays the meeting PC's agent: online, a status now and then, acks every command."""

    def __init__(self, port: int, ack: bool = True) -> None:
        self.ack = ack
        self.expiries: list = []
        super().__init__(port, f"{PREFIX}/pc/meeting-pc/command")
        self.publish(f"{PREFIX}/pc/meeting-pc/availability", "online", retain=True)
        self.status()
        self.stopped = threading.Event()
        threading.Thread(target=self._heartbeat, daemon=True).start()

    def _heartbeat(self) -> None:
        while not self.stopped.wait(1.0):
            self.status()

    def close(self) -> None:
        self.stopped.set()
        super().close()

    def status(self) -> None:
        payload = {"v": 1, "pc": "meeting-pc", "ts": time.time(), "disk_free_gb": 120.5,
                   "meeting_app": True}
        self.client.publish(f"{PREFIX}/pc/meeting-pc/status", json.dumps(payload), qos=1, retain=True)

    def _on_message(self, client, userdata, msg) -> None:
        super()._on_message(client, userdata, msg)
        cmd = json.loads(msg.payload)
        expiry = getattr(msg.properties, "MessageExpiryInterval", None)
        self.expiries.append(expiry)
        if self.ack:
            ack = {"v": 1, "id": cmd["id"], "kind": cmd["kind"], "ok": True, "ts": time.time()}
            client.publish(f"{PREFIX}/pc/meeting-pc/ack", json.dumps(ack), qos=1)

    def commands(self) -> list[dict]:
        """Distinct commands received (a resend keeps its id), in order."""
        seen = {}
        for c in self.json_on("/command"):
            seen.setdefault(c["id"], c)
        return list(seen.values())

    def kinds(self) -> list[str]:
        return [c["kind"] for c in self.commands()]


@pytest.fixture
def edge_in_process(mock_factory):
    """Run an Edge in a thread of its own, so the test can read the mock pins."""
    running = []

    def start(path: Path) -> Edge:
        edge = Edge(load_config(path))
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_until_complete, args=(edge.run(),), daemon=True)
        thread.start()
        running.append((edge, loop, thread))
        return edge

    yield start
    for edge, loop, thread in running:
        loop.call_soon_threadsafe(edge.stopping.set)
        thread.join(10)
        edge.close()
        loop.close()


@pytest.fixture
def watch(broker):
    observer = Observer(broker.port, f"{PREFIX}/#")
    yield observer
    observer.close()


def run_edge_process(config: Path, tmp_path: Path, env: dict | None = None) -> subprocess.Popen:
    """`siaga edge` as its own process, its output in tmp_path/edge.log (``env``: extra variables)."""
    with open(tmp_path / "edge.log", "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "siaga", "edge", "-c", str(config)],
                                stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, **env} if env else None)
