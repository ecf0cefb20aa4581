"""The Windows split, run on Linux: `siaga agent --no-banner` (the SYSTEM task at startup) acks and
acts but draws nothing; `siaga agent --banner-only` (the logon task) draws the banner and says
nothing on the broker. Both as real processes, a real mosquitto and a real X display (Xvfb)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.agent_helpers import wait_until, write_agent_config
from tests.xvfb import visible_window

REPO = Path(__file__).resolve().parent.parent


def start(config: Path, *flags: str) -> subprocess.Popen:
    """`siaga agent -c config <flags>` as its own process, logging into the config's folder."""
    with open(config.with_name(f"agent{'-'.join(flags)}.log"), "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "siaga", "agent", "-c", str(config),
                                 *flags], cwd=REPO, stdout=log, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(10)


def test_the_service_acts_without_a_banner_and_the_logon_banner_shows_it(
        display, broker, pc_client, tmp_path):
    config = write_agent_config(tmp_path, broker.port, banner=True)
    service = start(config, "--no-banner")
    try:
        pc_client.wait_for("status", timeout=15)
        cmd, _ = pc_client.send("notice", title="Listrik padam", runtime_s=1500)
        _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"])
        assert ack["detail"] == "banner off: logged only"
        time.sleep(1.5)
        assert not visible_window("Siaga")        # a display is there, banner = true: still none

        banner = start(config, "--banner-only")
        try:
            time.sleep(1.5)                          # connected and subscribed
            acks_before = len(pc_client.all("ack"))
            cmd, _ = pc_client.send("notice", title="Listrik padam", runtime_s=1500)
            wait_until(lambda: visible_window("Listrik padam"), timeout=20, what="banner window")
            pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"])
            time.sleep(0.5)
            assert len(pc_client.all("ack")) == acks_before + 1   # the service's ack, only
            pc_client.send("cancel")
            wait_until(lambda: visible_window("Listrik kembali normal"), timeout=10)
        finally:
            stop(banner)
        assert banner.returncode == 0
        statuses = [s for s in pc_client.all("status") if isinstance(s, dict)]
        assert statuses and {s["pc"] for s in statuses} == {"meeting-pc"}
        assert service.poll() is None
    finally:
        stop(service)
    assert "Traceback" not in "".join(p.read_text() for p in tmp_path.glob("agent*.log"))
