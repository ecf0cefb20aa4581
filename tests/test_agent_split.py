"""The Windows split, run on Linux: `siaga agent --no-banner` (the SYSTEM task at startup) acks and
acts but draws nothing; `siaga agent --banner-only` (the logon task) draws the banner and says
nothing on the broker. Both as real processes, a real mosquitto and a real X display (Xvfb)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from protocol.signing import sign
from tests.agent_helpers import refused_shutdown, wait_until, write_agent_config
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


def test_the_logon_banner_shows_only_what_the_service_would_act_on(display, broker, pc_client,
                                                                    tmp_path):
    """With a command key, an unsigned cancel during a real (signed) shutdown was refused by the
    service, which shut the PC down, while the logon banner said "Listrik kembali normal": power
    is back, go on with the meeting. An unsigned shutdown drew a countdown nothing would follow."""
    key = b"k" * 40
    (tmp_path / "pc.key").write_bytes(key + b"\n")
    config = write_agent_config(tmp_path, broker.port, banner=True, command_key_file="pc.key",
                                shutdown_grace_s=600)
    service, banner = start(config, "--no-banner"), start(config, "--banner-only")
    shown = config.with_name("agent--banner-only.log")

    def signed(kind: str, **fields) -> dict:
        cmd = pc_client.command(kind, **fields)
        cmd["sig"] = sign(cmd, key)
        pc_client.send_raw(json.dumps(cmd).encode())
        return cmd

    try:
        pc_client.wait_for("status", timeout=15)
        time.sleep(1.5)                                       # both subscribed
        forged = pc_client.command("shutdown", grace_s=600)
        pc_client.send_raw(json.dumps(forged).encode())
        signed("test", title="Uji coba 1")                    # shown after it, in order
        wait_until(lambda: visible_window("Uji coba 1"), timeout=20, what="the first test banner")
        assert "Komputer akan dimatikan" not in shown.read_text()
        real = signed("shutdown", grace_s=600)
        pc_client.wait_for("ack", lambda a: a["id"] == real["id"] and a["ok"])
        forged = pc_client.command("cancel")
        pc_client.send_raw(json.dumps(forged).encode())
        _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == forged["id"])
        assert not ack["ok"]                                  # the service refuses it ...
        signed("test", title="Uji coba 2")                    # ... and so does the banner
        wait_until(lambda: visible_window("Uji coba 2"), timeout=20, what="the second test banner")
        log = shown.read_text()
        assert "banner: Komputer akan dimatikan" in log and "Listrik kembali normal" not in log
        signed("cancel")                                      # the real one is shown
        wait_until(lambda: visible_window("Listrik kembali normal"), timeout=10)
    finally:
        stop(banner)
        stop(service)


def test_the_logon_banner_says_shut_it_down_by_hand_when_the_services_shutdown_fails(
        display, broker, pc_client, tmp_path):
    """An app blocked ``shutdown /s /t 0`` (here: a command that exits 1): the service acked it
    again, ok false, but the logon banner, which draws what the room sees, went on with
    "Komputer sedang dimatikan..."; it hears that ack now and says to shut the PC down by hand."""
    config = write_agent_config(tmp_path, broker.port, banner=True, shutdown_grace_s=2,
                                shutdown_command=refused_shutdown(tmp_path / "tries"))
    service, banner = start(config, "--no-banner"), start(config, "--banner-only")
    try:
        pc_client.wait_for("status", timeout=15)
        time.sleep(1.5)                                       # both subscribed
        cmd, _ = pc_client.send("shutdown", runtime_s=100, grace_s=30, title="", text="")
        wait_until(lambda: visible_window("Komputer akan dimatikan"), timeout=20,
                   what="the countdown")
        wait_until(lambda: len(pc_client.acks(cmd["id"])) == 2, timeout=15,
                   what="the service's second ack")
        wait_until(lambda: visible_window("Komputer tidak dapat mati sendiri"), timeout=10,
                   what="the banner saying to shut it down by hand",
                   context=lambda: config.with_name("agent--banner-only.log").read_text())
        assert not visible_window("Komputer akan dimatikan")
        pc_client.send("cancel")                              # the power is back
        wait_until(lambda: visible_window("Listrik kembali normal"), timeout=10)
    finally:
        stop(banner)
        stop(service)
    assert (tmp_path / "tries").read_text() == "x"
    assert "Traceback" not in "".join(p.read_text() for p in tmp_path.glob("agent*.log"))
