"""Helpers for the agent tests: a temporary agent.toml and a test client on the PC's topics."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest

from protocol.config import MqttConfig
from protocol.mqtt import MqttLink
from tests.waiting import wait_until  # noqa: F401 - the agent tests import it from here

SITE, PC = "bappeda-rr1", "meeting-pc"


def marker_argv(path: Path, text: str = "x", sleep_s: float = 0) -> list[str]:
    """A harmless command: appends ``text`` to ``path`` (after ``sleep_s``)."""
    code = f"import time; time.sleep({sleep_s}); open({str(path)!r}, 'a').write({text!r})"
    return [sys.executable, "-c", code]


def refused_shutdown(marker: Path) -> list[str]:
    """A shutdown command that fails as polkit refuses ``systemctl poweroff`` while another user
    is logged in: it says why and exits 1 (it also marks each run in ``marker``)."""
    code = (f"import sys; open({str(marker)!r}, 'a').write('x'); "
            "print('User anna is logged in on tty2.'); "
            "print('Call to PowerOff failed: Access denied'); sys.exit(1)")
    return [sys.executable, "-c", code]


def toml_value(value: Any) -> str:
    """A Python value as TOML (the few types agent.toml uses)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def write_agent_config(directory: Path, port: int, language: str = "id",
                       obs: dict[str, Any] | None = None, **agent: Any) -> Path:
    """agent.toml for a PC "meeting-pc" on the broker at ``port``; the shutdown is a marker file.

    ``obs``: the keys of an [agent.obs] table (none without it)."""
    settings = {"pc_id": PC, "interval_s": 1, "banner": False, "recordings_dir": str(directory),
                "shutdown_command": marker_argv(directory / "shutdown.marker"),
                "shutdown_grace_s": 1, "command_timeout_s": 20, **agent}
    lines = ["[site]", f'id = "{SITE}"', f'language = "{language}"', "", "[mqtt]",
             'host = "127.0.0.1"', f"port = {port}", "", "[agent]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in settings.items()]
    if obs is not None:
        lines += ["", "[agent.obs]"] + [f"{key} = {toml_value(value)}" for key, value in obs.items()]
    path = directory / "agent.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class PcClient:
    """Plays the edge: listens on ``P/pc/meeting-pc/#`` and sends commands to the agent."""

    def __init__(self, port: int) -> None:
        self.base = f"siaga/{SITE}/pc/{PC}"
        self.messages: list[tuple[float, str, bytes, bool]] = []
        self._cond = threading.Condition()
        self.link = MqttLink(MqttConfig(port=port), f"test-edge-{uuid.uuid4().hex[:8]}",
                             subscriptions=(f"{self.base}/#",), on_message=self._record)
        self.link.start()
        assert self.link.listening.wait(5), "test client could not subscribe on the broker"

    def _record(self, topic: str, payload: bytes, retained: bool) -> None:
        with self._cond:
            self.messages.append((time.monotonic(), topic.rsplit("/", 1)[-1], payload, retained))
            self._cond.notify_all()

    def wait_for(self, leaf: str, match: Callable[[Any], bool] = lambda m: True,
                 timeout: float = 5.0, after: int = 0) -> tuple[int, float, Any]:
        """(index, arrival time, payload) of the first ``leaf`` message from ``after`` on that matches."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i in range(after, len(self.messages)):
                    at, got, payload, _ = self.messages[i]
                    if got == leaf:
                        value = _parse(payload)
                        if match(value):
                            return i, at, value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching {leaf} message within {timeout} s; "
                                         f"got {[(m[1], m[2][:80]) for m in self.messages[after:]]}")
                self._cond.wait(left)

    def all(self, leaf: str) -> list[Any]:
        """Every payload received on ``leaf`` so far."""
        with self._cond:
            return [_parse(p) for _, got, p, _ in self.messages if got == leaf]

    def acks(self, cid: str) -> list[dict]:
        """Every ack received for command ``cid``."""
        return [a for a in self.all("ack") if isinstance(a, dict) and a.get("id") == cid]

    def command(self, kind: str, cid: str | None = None, ttl_s: float = 120, **fields: Any) -> dict:
        """A PC command as the edge writes it."""
        now = time.time()
        return {"v": 1, "id": cid or uuid.uuid4().hex, "ts": now, "expires": now + ttl_s,
                "kind": kind, "lang": "id", **fields}

    def send(self, kind: str, cid: str | None = None, **fields: Any) -> tuple[dict, float]:
        """Send a command; returns it and when it was sent (time.monotonic())."""
        cmd = self.command(kind, cid, **fields)
        return cmd, self.send_raw(json.dumps(cmd).encode())

    def send_raw(self, payload: bytes) -> float:
        """Publish any payload on the command topic, with the contract's 120 s expiry."""
        sent = time.monotonic()
        info = self.link.publish(f"{self.base}/command", payload, expiry_s=120)
        assert info is not None
        info.wait_for_publish(5)
        return sent

    def stop(self) -> None:
        """Disconnect."""
        self.link.stop()


def _parse(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return payload.decode(errors="replace")


@pytest.fixture
def pc_client(broker) -> PcClient:
    """A test client playing the edge on the real broker."""
    client = PcClient(broker.port)
    yield client
    client.stop()


@pytest.fixture
def start_agent(broker, tmp_path: Path, pc_client: PcClient):
    """Start an in-process agent on the real broker; waits until it is subscribed and reporting."""
    from agent.main import Agent
    from protocol.config import load_agent_config

    agents = []

    def start(*, restored_close_s: float = 20.0, language: str = "id", **settings: Any):
        path = write_agent_config(tmp_path, broker.port, language=language, **settings)
        agent = Agent(load_agent_config(path), restored_close_s=restored_close_s)
        agents.append(agent)
        seen = len(pc_client.messages)
        agent.start()
        # The first status is sent after the subscription: once it is here, commands reach the agent.
        pc_client.wait_for("status", after=seen, timeout=10)
        return agent

    yield start
    for agent in agents:
        agent.stop()


def fake_program(directory: Path, name: str) -> subprocess.Popen:
    """A process whose name is ``name`` (what psutil sees): a symlink to sleep, started."""
    link = directory / name
    link.symlink_to("/bin/sleep")
    return subprocess.Popen([str(link), "600"], start_new_session=True)


BUSY = ("import time\nwhile True:\n    t = time.monotonic()\n"
        "    while time.monotonic() - t < 0.02: pass\n    time.sleep(0.08)")


def busy_program(directory: Path, name: str) -> subprocess.Popen:
    """A process named ``name`` that works like a converter (~20 % of a core): python, linked."""
    link = directory / name
    link.symlink_to(Path("/usr/bin/python3").resolve())
    return subprocess.Popen([str(link), "-c", BUSY], start_new_session=True)
