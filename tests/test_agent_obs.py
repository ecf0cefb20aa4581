"""The OBS wrap-up against a real OBS Studio (under Xvfb) and a real mosquitto: the recording is
stopped, the ack names the saved file, and the file plays (ffprobe). Failures are acks in words."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import ssl
import subprocess
import time
from pathlib import Path

import psutil
import pytest

import agent.obs as agent_obs
from agent.obs import format_size
from protocol.config import ObsConfig, load_agent_config
from siaga.cli import main
from siaga.servers import ServerMissing, find_program, free_port, stop_process
from tests.agent_helpers import fake_program, marker_argv, wait_until, write_agent_config
from tests.obs_studio import ObsStudio


@pytest.fixture(scope="module")
def obs(tmp_path_factory: pytest.TempPathFactory):
    """One OBS Studio for this module (it starts in about a second; a fresh HOME each run)."""
    studio = ObsStudio(tmp_path_factory.mktemp("obs"))
    try:
        studio.start()
    except ServerMissing as exc:
        pytest.fail(f"{exc} (make test installs it)")
    except RuntimeError:
        studio.stop()
        raise
    yield studio
    studio.stop()


@pytest.fixture
def start_obs_agent(start_agent, tmp_path: Path):
    """Start an in-process agent whose agent.toml has an [agent.obs] table for ``port``."""
    def start(port: int, password: str, timeout_s: float = 20, **settings):
        (tmp_path / "obs-password").write_text(password + "\n")
        return start_agent(obs={"host": "127.0.0.1", "port": port, "password_file": "obs-password",
                                "stop_stream": True, "timeout_s": timeout_s}, **settings)
    return start


def probe(path: Path) -> dict:
    """ffprobe's view of a media file: duration and stream types."""
    try:
        ffprobe = find_program("ffprobe", "ffmpeg")
    except ServerMissing as exc:
        pytest.fail(f"{exc} (make test installs it)")
    done = subprocess.run([ffprobe, "-v", "error", "-show_entries", "format=duration:stream=codec_type",
                           "-of", "json", str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_wrapup_stops_the_recording_and_acks_the_saved_playable_file(
        obs, start_obs_agent, pc_client, tmp_path):
    marker = tmp_path / "after-obs.marker"
    start_obs_agent(obs.port, obs.password, wrapup_command=marker_argv(marker, "ran"))
    obs.start_recording()
    time.sleep(2)
    cmd, _ = pc_client.send("wrapup", runtime_s=280)
    _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"], timeout=30)
    assert ack["ok"] is True, ack
    assert ack["detail"].startswith("saved ")
    path = Path(ack["detail"][len("saved "):].rsplit(", ", 1)[0])
    assert path.parent == obs.recordings and path.is_file()
    assert ack["detail"] == f"saved {path}, {format_size(path.stat().st_size)}"
    info = probe(path)
    assert float(info["format"]["duration"]) > 1.0
    assert "video" in [s["codec_type"] for s in info["streams"]]
    assert obs.request("GetRecordStatus")["outputActive"] is False
    wait_until(marker.exists, timeout=10, what="wrapup_command ran after OBS")
    assert len(pc_client.acks(cmd["id"])) == 1


@pytest.fixture
def rtmp_server(tmp_path: Path):
    """ffmpeg listening for one RTMP stream on a free loopback port; what it receives -> a file."""
    try:
        ffmpeg = find_program("ffmpeg", "ffmpeg")
    except ServerMissing as exc:
        pytest.fail(f"{exc} (make test installs it)")
    port, received = free_port(), tmp_path / "received.flv"
    with open(tmp_path / "ffmpeg-rtmp.log", "ab") as log:
        proc = subprocess.Popen([ffmpeg, "-nostdin", "-loglevel", "warning", "-listen", "1", "-i",
                                 f"rtmp://127.0.0.1:{port}/live/rapat", "-c", "copy", "-y",
                                 str(received)], stdout=log, stderr=subprocess.STDOUT)
    try:
        # ffmpeg takes exactly one connection: watch for its listening socket, do not connect.
        wait_until(lambda: any(c.laddr.port == port and c.status == psutil.CONN_LISTEN
                               for c in psutil.net_connections("tcp4")),
                   timeout=10, what="ffmpeg listening for RTMP")
        yield f"rtmp://127.0.0.1:{port}/live", received
    finally:
        stop_process(proc)


def test_wrapup_also_stops_the_live_stream(obs, start_obs_agent, pc_client, rtmp_server):
    server, received = rtmp_server
    obs.request("SetStreamServiceSettings", streamServiceType="rtmp_custom",
                streamServiceSettings={"server": server, "key": "rapat"})
    start_obs_agent(obs.port, obs.password)
    obs.request("StartStream")
    wait_until(lambda: obs.request("GetStreamStatus")["outputActive"], timeout=15)
    obs.start_recording()
    time.sleep(2)
    cmd, _ = pc_client.send("wrapup")
    _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"], timeout=30)
    assert ack["ok"] is True and ack["detail"].startswith(f"saved {obs.recordings}")
    wait_until(lambda: obs.request("GetStreamStatus")["outputActive"] is False, timeout=10,
               what="OBS stopped streaming")   # StopStream returns before the stream has ended
    wait_until(lambda: received.exists() and float(probe(received)["format"]["duration"]) > 0.5,
               timeout=10, what="the RTMP server received the stream")


def test_a_wrong_password_is_a_failed_ack_and_the_recording_goes_on(obs, start_obs_agent, pc_client):
    start_obs_agent(obs.port, "salah-sandi", language="en")
    obs.start_recording()
    try:
        cmd, _ = pc_client.send("wrapup")
        _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"], timeout=30)
        assert ack["ok"] is False
        assert ack["detail"].startswith("OBS refused the obs-websocket password")
        assert obs.request("GetRecordStatus")["outputActive"] is True
    finally:
        obs.request("StopRecord")


@pytest.fixture
def obs_named(monkeypatch):
    """OBS's process name for this test only (other tests run a real OBS on this machine)."""
    name = f"obs{random.randrange(10**6)}"
    monkeypatch.setattr(agent_obs, "OBS_PROCESSES", frozenset({name}), raising=False)
    return name


def test_obs_not_answering_is_a_failed_ack_in_words_and_wrapup_command_still_runs(
        start_obs_agent, pc_client, tmp_path, obs_named, request):
    marker = tmp_path / "after-obs.marker"
    port = free_port()
    running = fake_program(tmp_path, obs_named)   # OBS runs, its WebSocket server is off
    request.addfinalizer(lambda: stop_process(running))
    start_obs_agent(port, "apa-saja", wrapup_command=marker_argv(marker, "ran"))
    cmd, sent = pc_client.send("wrapup")
    _, at, ack = pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"], timeout=10)
    assert ack["ok"] is False
    assert ack["detail"] == (f"tidak ada jawaban dari OBS di 127.0.0.1:{port}: OBS tidak berjalan "
                             "atau server WebSocket-nya mati; jika OBS merekam, rekaman tidak "
                             "dihentikan")
    wait_until(marker.exists, timeout=10, what="wrapup_command ran after the failed OBS step")


@pytest.mark.parametrize("lang, said", [
    ("id", "OBS tidak sedang merekam: tidak ada rekaman untuk disimpan"),
    ("en", "OBS was not recording: nothing to save")])
def test_no_obs_on_the_pc_is_no_recording_not_a_failure(start_obs_agent, pc_client, tmp_path,
                                                         obs_named, lang, said):
    """A PC with no meeting at the cut, OBS closed: nothing records, nothing failed."""
    marker = tmp_path / "after-obs.marker"
    start_obs_agent(free_port(), "apa-saja", language=lang,
                    wrapup_command=marker_argv(marker, "ran"))
    cmd, _ = pc_client.send("wrapup")
    _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"], timeout=10)
    assert (ack["ok"], ack["code"], ack["detail"]) == (True, "obs_not_recording", said)
    wait_until(marker.exists, timeout=10, what="wrapup_command ran after the OBS step")


def test_a_frozen_obs_is_a_timeout_and_a_resend_meanwhile_gets_no_second_ack(
        obs, start_obs_agent, pc_client):
    start_obs_agent(obs.port, obs.password, language="en", timeout_s=2)
    os.kill(obs.proc.pid, signal.SIGSTOP)
    try:
        wait_until(lambda: psutil.Process(obs.proc.pid).status() == psutil.STATUS_STOPPED,
                   timeout=5, what="OBS stopped")   # the signal lands when OBS is scheduled
        cmd, _ = pc_client.send("wrapup")
        time.sleep(0.5)
        pc_client.send("wrapup", cid=cmd["id"])      # the edge resends what is not acked yet
        _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"], timeout=15)
    finally:
        os.kill(obs.proc.pid, signal.SIGCONT)
    assert ack["ok"] is False
    assert ack["detail"] == f"OBS on 127.0.0.1:{obs.port} did not answer within 2 s; " \
                            "the recording was not stopped"
    time.sleep(0.5)
    assert len(pc_client.acks(cmd["id"])) == 1


@pytest.mark.parametrize("cancel_of, command_runs", [
    ("this cut", False), ("an earlier cut", True), ("this cut, then a new cut", True)])
def test_power_back_while_obs_saves_keeps_wrapup_command_from_ending_the_meeting(
        obs, start_obs_agent, pc_client, tmp_path, cancel_of, command_runs):
    """The cancel comes while OBS is busy: wrapup_command (which may close the meeting app) must
    not run on mains. A late cancel of an earlier cut (resent after this one began) is not this
    cut's restore, and a new cut's wrap-up wants it again: then it runs."""
    marker = tmp_path / "after-obs.marker"
    start_obs_agent(obs.port, obs.password, timeout_s=3, wrapup_command=marker_argv(marker, "ran"))
    os.kill(obs.proc.pid, signal.SIGSTOP)              # OBS busy: the wrap-up waits on it
    try:
        wait_until(lambda: psutil.Process(obs.proc.pid).status() == psutil.STATUS_STOPPED,
                   timeout=5, what="OBS stopped")
        cmd, _ = pc_client.send("wrapup")
        time.sleep(0.5)
        cancel = pc_client.command("cancel")
        if cancel_of == "an earlier cut":
            cancel["ts"] = cmd["ts"] - 60
        pc_client.send_raw(json.dumps(cancel).encode())
        pc_client.wait_for("ack", lambda a: a["id"] == cancel["id"], timeout=10)
        if cancel_of.endswith("new cut"):                # a flicker: the next cut's wrap-up
            again, _ = pc_client.send("wrapup")
            pc_client.wait_for("ack", lambda a: a["id"] == again["id"], timeout=10)
        pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"], timeout=15)
    finally:
        os.kill(obs.proc.pid, signal.SIGCONT)
    if command_runs:
        wait_until(marker.exists, timeout=10, what="wrapup_command ran")
    else:
        time.sleep(2)
        assert not marker.exists(), "wrapup_command ran after the power came back"


@pytest.mark.parametrize("table, message", [
    ("port = \"empat\"", "agent.toml: agent.obs.port: must be a whole number from 1 to 65535"),
    ("stop_stream = 1", "agent.toml: agent.obs.stop_stream: must be true or false"),
    ("password_file = \"tidak-ada\"", "agent.toml: agent.obs.password_file: cannot read"),
])
def test_a_bad_obs_table_is_one_line_and_exit_2(tmp_path, capsys, table, message):
    path = write_agent_config(tmp_path, 1883)
    path.write_text(path.read_text() + f"\n[agent.obs]\n{table}\n")
    assert main(["agent", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(message), err


def test_the_example_obs_table_loads_once_uncommented(tmp_path):
    example = (Path(__file__).resolve().parent.parent / "firmware_config" / "agent.toml").read_text()
    head, _, obs = example.partition("# [agent.obs]\n")
    keys = [line[2:] for line in obs.splitlines() if re.match(r"# [a-z_]+ = ", line)]
    (tmp_path / "agent.toml").write_text(head + "[agent.obs]\n" + "\n".join(keys) + "\n")
    (tmp_path / "mqtt.password").write_text("x\n")
    (tmp_path / "obs.password").write_text("sandi-obs\n")
    shutil.copy(ssl.get_default_verify_paths().cafile, tmp_path / "siaga-ca.crt")  # the Pi's CA
    obs_config = load_agent_config(tmp_path / "agent.toml").agent.obs
    assert obs_config == ObsConfig(password_file="obs.password", password="sandi-obs")
    assert len(keys) == 5


@pytest.mark.parametrize("size, text", [
    (0, "0 B"), (999, "999 B"), (79_424, "79 KB"), (1_500_000, "1.5 MB"),
    (12_345_678, "12 MB"), (1_234_567_890, "1.2 GB"), (25_000_000_000, "25 GB"),
])
def test_sizes_read_like_the_contract(size, text):
    assert format_size(size) == text
