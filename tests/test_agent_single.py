"""One agent per PC, and one broker connection per banner process (agent/single.py).

Two `siaga agent` processes with one agent.toml (the installed one and one run "for a first
try") shared an MQTT client id: the broker dropped one for the other every second, the PC
flapped online/offline, and a cancel that reached the agent without the pending shutdown was
acked "nothing to cancel" while the other shut the PC down on mains. Two users logged on at
once each had a banner process, also with one client id between them: each missed banners."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from agent import single
from agent.banner_only import BannerOnly
from protocol.config import load_agent_config
from tests.agent_helpers import wait_until, write_agent_config

REPO = Path(__file__).resolve().parent.parent


def start(config: Path, name: str) -> subprocess.Popen:
    with open(config.with_name(f"{name}.log"), "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "siaga", "agent", "-c", str(config)],
                                cwd=REPO, stdout=log, stderr=subprocess.STDOUT)


def test_a_second_agent_for_the_same_pc_stops_and_a_cancel_still_cancels(broker, pc_client,
                                                                        tmp_path):
    config = write_agent_config(tmp_path, broker.port, shutdown_grace_s=6)
    first = start(config, "first")
    try:
        pc_client.wait_for("status", timeout=15)
        second = start(config, "second")
        try:
            assert second.wait(15) == 1          # it says why and stops; the first goes on
        finally:
            if second.poll() is None:
                second.terminate()
                second.wait(10)
        said = (tmp_path / "second.log").read_text()
        assert "agen lain untuk PC meeting-pc (situs bappeda-rr1) sudah berjalan" in said
        assert "Traceback" not in said
        seen = len(pc_client.messages)
        time.sleep(2)
        assert "offline" not in pc_client.all("availability")[seen:]   # no flapping

        for delay in (0.5, 1.5):   # whichever moment the cancel comes, the one agent has it
            (tmp_path / "shutdown.marker").unlink(missing_ok=True)
            shutdown, _ = pc_client.send("shutdown", grace_s=6)
            time.sleep(delay)
            cancel, _ = pc_client.send("cancel")
            _, _, ack = pc_client.wait_for("ack", lambda a, c=cancel: a["id"] == c["id"])
            assert ack["detail"] == "shutdown cancelled"
            time.sleep(6)
            assert not (tmp_path / "shutdown.marker").exists()   # the PC stays on, on mains
        assert first.poll() is None
    finally:
        first.terminate()
        first.wait(10)


def test_the_claim_is_per_pc_and_broker_and_ends_with_its_holder():
    name = single.name_of("bappeda-rr1", "meeting-pc", "127.0.0.1", 1883)
    held = single.claim(name)
    assert held is not None
    assert single.claim(name) is None                                   # the same PC, again
    other = single.claim(single.name_of("bappeda-rr1", "meeting-pc-2", "127.0.0.1", 1883))
    assert other is not None                                            # another PC
    held.close()
    other.close()
    again = single.claim(name)                                          # free once released
    assert again is not None
    again.close()
    assert len(single.name_of("a" * 63, "b" * 63, "h" * 253, 65535)) < 107
    en = single.refusal("bappeda-rr1", "meeting-pc", "en")
    assert en.startswith("siaga agent: another agent for PC meeting-pc (site bappeda-rr1)")


def test_a_claim_released_within_the_wait_is_taken():
    """An update ends the old agent and starts the new one at once (schtasks /End, /Run): the
    new one waits a few seconds for the old one's claim instead of giving up."""
    import threading
    name = single.name_of("bappeda-rr1", "meeting-pc", "update.test", 1883)
    old = single.claim(name)
    threading.Timer(1.0, old.close).start()
    started = time.monotonic()
    new = single.claim_within(name, wait_s=5)
    assert new is not None and 0.9 < time.monotonic() - started < 3
    new.close()
    taken = single.claim(name)
    started = time.monotonic()
    assert single.claim_within(name, wait_s=1) is None and time.monotonic() - started >= 1
    taken.close()


class Shown:
    """A banner that only remembers what it was asked to show."""

    available = True

    def __init__(self) -> None:
        self.titles: list[str] = []

    def show(self, view: dict) -> None:
        self.titles.append(view["title"])

    def stop(self) -> None:
        pass


def test_two_users_logged_on_at_once_each_see_every_banner(broker, pc_client, tmp_path):
    config = load_agent_config(write_agent_config(tmp_path, broker.port, banner=True))
    users = [Shown(), Shown()]
    banners = [BannerOnly(config, banner=u) for u in users]
    for b in banners:
        b.start()
    try:
        wait_until(lambda: all(b.link.listening.is_set() for b in banners), timeout=10,
                   what="both banner processes subscribed")
        sent = []
        for i in range(4):
            title = f"Listrik padam {i}"
            pc_client.send("notice", title=title, runtime_s=1500)
            sent.append(title)
            time.sleep(1.2)
        wait_until(lambda: all(len(u.titles) == len(sent) for u in users), timeout=5,
                   what="every banner in both sessions")
        assert [u.titles for u in users] == [sent, sent]
    finally:
        for b in banners:
            b.stop()
