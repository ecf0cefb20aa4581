"""Linux for real: a PulseAudio server, programs named like Zoom and Chrome, the real agent.

A Zoom client left open with no capture is no meeting; Chrome recording with a stream titled
"Meet - ..." is a Google Meet by microphone; closing the capture ends it by the next status. The
edge journals ``meeting_started`` with the app and by what, on a real broker.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time

import pytest

from agent.captures import LinuxCaptures
from agent.meetings import BLIND_HOLD_S, REOPEN_S
from agent.telemetry import Telemetry
from protocol.config import AgentSection
from siaga.servers import stop_process
from tests.agent_helpers import PC, SITE, fake_program, write_agent_config
from tests.edge_support import write_config
from tests.observer import Observer
from tests.waiting import wait_until


def wait_streams(pulse, count: int) -> None:
    """Until the server lists ``count`` capture streams (a recorder takes ~0.1 s to connect)."""
    wait_until(lambda: pulse.streams().count("Source Output #") == count, 10,
               what=f"{count} capture streams")


def test_captures_decide_in_the_agent(tmp_path, pulse, monkeypatch):
    for key, value in pulse.env.items():
        monkeypatch.setenv(key, value)
    zoom = f"zoom{random.randrange(1000, 9999)}"   # our own name: other tests may run a "zoom"
    telemetry = Telemetry(PC, AgentSection(pc_id=PC, meeting_apps=(zoom,)))
    client = fake_program(tmp_path, zoom)
    try:
        status = telemetry.collect()
        assert zoom in telemetry.scanner.running()
        assert (status.meeting_app, status.meeting) == (False, None)   # open, not in a meeting
        meet = pulse.record("chrome", "Google Chrome", "Meet - abc-defg-hij")
        wait_streams(pulse, 1)
        status = telemetry.collect()
        assert status.meeting_app and status.meeting is not None
        assert (status.meeting.app, status.meeting.by) == ("meet-browser", "microphone")
        stop_process(meet)
        wait_streams(pulse, 0)
        status = telemetry.collect()   # the stream may be reopening (an audio server restart)
        assert status.meeting is not None and status.meeting.app == "meet-browser"
        later = time.monotonic() + REOPEN_S + 1
        telemetry.meetings.clock = lambda: later   # no stream REOPEN_S on: the call is over
        status = telemetry.collect()
        assert (status.meeting_app, status.meeting) == (False, None)
        telemetry.meetings.clock = time.monotonic
        pulse.record(zoom, "ZOOM VoiceEngine")   # the client joins a call: now it is a meeting
        wait_streams(pulse, 1)
        status = telemetry.collect()
        assert (status.meeting.app, status.meeting.by) == (zoom, "microphone")
    finally:
        stop_process(client)


def test_no_audio_server_falls_back_to_process_names(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path}/nobody-here")
    reading = LinuxCaptures().read({})
    assert not reading.visible and reading.why
    zoom = f"zoom{random.randrange(1000, 9999)}"
    client = fake_program(tmp_path, zoom)
    try:
        telemetry = Telemetry(PC, AgentSection(pc_id=PC, meeting_apps=(zoom,)))
        status = telemetry.collect()
        telemetry.collect()
        assert (status.meeting.app, status.meeting.by) == (zoom, "process")
        said = [r.message for r in caplog.records if "cannot be seen" in r.message]
        assert len(said) == 1, said   # said once, not every interval
    finally:
        stop_process(client)


@pytest.fixture
def watch(broker):
    """Everything the edge publishes for the agent helpers' site."""
    observer = Observer(broker.port, f"siaga/{SITE}/edge/#")
    yield observer
    observer.close()


def test_the_edge_journals_a_meet_in_chrome(tmp_path, upsd, broker, pulse, pc_client, watch,
                                            mock_factory, edge_in_process):
    zoom = f"Zoom{random.randrange(1000, 9999)}"
    edge_in_process(write_config(tmp_path, upsd, broker, site=SITE))
    agent_dir = tmp_path / "agent"
    agent_dir.mkdir()
    config = write_agent_config(agent_dir, broker.port, meeting_apps=[zoom], interval_s=1)
    client = fake_program(agent_dir, zoom)   # left open all day, never in a call
    with open(agent_dir / "agent.log", "wb") as log:
        agent = subprocess.Popen([sys.executable, "-m", "siaga", "agent", "-c", str(config)],
                                 env={**os.environ, **pulse.env}, stdout=subprocess.DEVNULL,
                                 stderr=log)
    try:
        watch.wait(lambda: "pc_online" in watch.event_kinds(), 15, "pc_online")
        seen = len(pc_client.messages)
        first, _, _ = pc_client.wait_for("status", after=seen, timeout=5)
        pc_client.wait_for("status", after=first + 1, timeout=5)   # two statuses: Zoom open, no call
        assert "meeting_started" not in watch.event_kinds()
        meet = pulse.record("chrome", "Google Chrome", "Meet - abc-defg-hij")
        watch.wait(lambda: "meeting_started" in watch.event_kinds(), 10, "meeting_started")
        started = next(e for e in watch.json_on("/edge/event") if e["kind"] == "meeting_started")
        assert started["detail"] == {"pc": PC, "app": "meet-browser", "by": "microphone"}
        stop_process(meet)
        closed = time.time()   # told REOPEN_S later (the stream could be reopening)
        index, _, status = pc_client.wait_for("status", lambda s: s["ts"] >= closed, timeout=5)
        assert status["meeting"] is not None
        _, _, status = pc_client.wait_for("status", lambda s: s["meeting"] is None,
                                          timeout=REOPEN_S + 5, after=index)
        assert status["meeting_app"] is False and status["ts"] >= closed + REOPEN_S - 1
        watch.wait(lambda: "meeting_ended" in watch.event_kinds(), 10, "meeting_ended")
    finally:
        stop_process(client)
        stop_process(agent)
        print((agent_dir / "agent.log").read_text(errors="replace")[-2000:])


@pytest.fixture
def camera(tmp_path):
    """Start a program called NAME that holds a camera open, as Chrome's video capture process
    does (a file named /dev/video-...: the agent looks for /dev/video* among its open files)."""
    device = f"/dev/video-siaga-test-{os.getpid()}-{random.randrange(10**6)}"
    programs = []

    def start(name: str) -> subprocess.Popen:
        link = tmp_path / "camera" / name
        link.parent.mkdir(exist_ok=True)
        link.symlink_to(os.path.realpath(sys.executable))
        proc = subprocess.Popen([str(link), "-c", f"f = open({device!r}, 'w'); import time; "
                                 "print('open', flush=True); time.sleep(600)"],
                                stdout=subprocess.PIPE, text=True, start_new_session=True)
        programs.append(proc)
        assert proc.stdout and proc.stdout.readline() == "open\n"
        return proc

    yield start
    for proc in programs:
        stop_process(proc)
        proc.stdout.close()
    if os.path.exists(device):
        os.unlink(device)


def test_a_camera_meeting_in_a_browser_is_seen_without_an_audio_server(tmp_path, camera,
                                                                       monkeypatch):
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path}/nobody-here")
    telemetry = Telemetry(PC, AgentSection(pc_id=PC))
    camera("chrome")
    status = telemetry.collect()
    assert status.meeting_app and status.meeting is not None, status
    assert (status.meeting.app, status.meeting.by) == ("browser", "camera")


def test_a_meeting_goes_on_while_the_audio_server_is_gone_and_the_camera_is_on(tmp_path, pulse,
                                                                               camera, monkeypatch):
    for key, value in pulse.env.items():
        monkeypatch.setenv(key, value)
    telemetry = Telemetry(PC, AgentSection(pc_id=PC))
    pulse.record("chrome", "Google Chrome", "Meet - abc-defg-hij")
    camera("chrome")
    wait_streams(pulse, 1)
    status = telemetry.collect()
    assert (status.meeting.app, status.meeting.by) == ("meet-browser", "microphone")
    since = status.meeting.since
    stop_process(pulse.proc)   # PulseAudio gone (crashed, not restarted): the microphone too
    assert not telemetry.captures.read({}).visible
    later = time.monotonic() + BLIND_HOLD_S + 1
    telemetry.meetings.clock = lambda: later   # longer than a restart takes
    status = telemetry.collect()
    assert status.meeting_app and status.meeting is not None, status   # the camera is still on
    assert (status.meeting.by, status.meeting.since) == ("camera", since)


def test_a_pactl_without_json_output_is_read_as_text(tmp_path, pulse, monkeypatch, caplog):
    """pactl before PulseAudio 15 (Debian 11, Ubuntu 20.04, Linux Mint 20) has no "-f": its
    getopt refuses it as glibc words it. Its text output still shows every capture."""
    for key, value in pulse.env.items():
        monkeypatch.setenv(key, value)
    old_pactl = tmp_path / "pactl14"
    old_pactl.write_text("#!/bin/sh\n"
                         "case \"$1\" in -f) echo \"pactl: invalid option -- 'f'\" >&2; exit 1;; esac\n"
                         f"exec {shutil.which('pactl')} \"$@\"\n")
    old_pactl.chmod(0o755)
    telemetry = Telemetry(PC, AgentSection(pc_id=PC), captures=LinuxCaptures(str(old_pactl)))
    pulse.record("chrome", "Google Chrome", "Meet - abc-defg-hij")
    wait_streams(pulse, 1)
    for _ in range(2):   # the first reading finds out, the next ones read text at once
        status = telemetry.collect()
        assert status.meeting is not None, status
        assert (status.meeting.app, status.meeting.by) == ("meet-browser", "microphone")
    assert not [r.message for r in caplog.records if "cannot be seen" in r.message]
