"""Agent telemetry: fields and cadence on a real broker, meeting-app detection, the last will."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from agent.telemetry import ProcessScanner, any_running, disk_path, normalize
from protocol.messages import AgentStatus, decode
from tests.agent_helpers import PcClient, write_agent_config


@pytest.mark.parametrize("wanted, running, expected", [
    (["Zoom.exe"], {"zoom"}, True),                  # Linux/mac name without .exe
    (["Zoom"], {"zoom"}, True),
    (["zoom"], {"zoom"}, True),
    (["ms-teams"], {"ms-teams"}, True),              # 'ms-teams.exe' normalizes to 'ms-teams'
    (["Teams.exe"], {"ms-teams"}, False),
    (["zTscoder.exe"], {"ztscoder"}, True),
    (["Zoom.exe"], {"zoomit"}, False),               # whole names only
    ([], {"zoom"}, False),
    ([" "], {""}, False),
])
def test_meeting_apps_match_case_insensitively_with_optional_exe(wanted, running, expected):
    assert any_running(wanted, running) is expected


@pytest.mark.parametrize("name, normalized", [
    ("Zoom.exe", "zoom"), ("ZOOM.EXE", "zoom"), ("ms-teams", "ms-teams"), ("exe", "exe"),
    ("a.exe.exe", "a.exe"), (" Teams.exe ", "teams"),
])
def test_normalize(name, normalized):
    assert normalize(name) == normalized


def test_the_process_scan_reads_only_new_processes_names():
    scanner = ProcessScanner()
    first = scanner.running()
    reads = scanner.name_reads
    assert reads >= len(psutil.pids()) // 2 and first
    scanner.running()
    assert scanner.name_reads - reads < 20    # only processes started in between


def test_the_process_scan_reads_everything_again_after_a_minute():
    now = [0.0]
    scanner = ProcessScanner(clock=lambda: now[0])
    scanner.running()
    reads = scanner.name_reads
    now[0] = 61.0
    scanner.running()
    assert scanner.name_reads - reads >= reads // 2


def test_a_missing_recordings_dir_watches_its_nearest_existing_folder(tmp_path):
    assert disk_path(str(tmp_path / "Zoom" / "2025")) == tmp_path
    assert disk_path("") == Path.home()


def fake_process(tmp_path: Path, name: str) -> subprocess.Popen:
    """A process whose OS name is ``name`` (a symlink to Python, sleeping)."""
    link = tmp_path / name
    link.symlink_to(sys.executable)
    return subprocess.Popen([str(link), "-c", "import time; time.sleep(60)"])


def test_status_carries_every_field_every_interval(start_agent, pc_client, tmp_path):
    start_agent(interval_s=1)
    seen = len(pc_client.messages)
    times, statuses = [], []
    for _ in range(3):
        seen, at, status = pc_client.wait_for("status", after=seen, timeout=3)
        seen += 1
        times.append(at)
        statuses.append(decode(AgentStatus, json.dumps(status)))
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(0.6 < g < 1.6 for g in gaps), gaps
    s = statuses[-1]
    usage = psutil.disk_usage(str(tmp_path))
    assert s.pc == "meeting-pc" and s.hostname == os.uname().nodename and s.os
    assert 0 <= s.cpu_pct <= 100 and 0 < s.mem_pct < 100
    assert abs(s.disk_free_gb - usage.free / 1024 ** 3) < 1.0
    assert abs(s.disk_total_gb - usage.total / 1024 ** 3) < 0.1
    assert s.uptime_s > 0 and abs(s.ts - time.time()) < 5
    late = PcClient(pc_client.link.config.port)     # e.g. the edge after a restart
    try:
        index, _, kept = late.wait_for("status")
        assert kept["pc"] == "meeting-pc" and late.messages[index][3] is True   # retained
    finally:
        late.stop()


def test_meeting_app_and_converter_show_while_they_run(start_agent, pc_client, tmp_path):
    start_agent(interval_s=1, meeting_apps=["Zoom.exe", "Teams.exe"],
                converter_processes=["zTscoder.exe"])
    pc_client.wait_for("status", lambda s: not s["meeting_app"] and not s["converting"])
    zoom = fake_process(tmp_path, "Zoom")
    coder = fake_process(tmp_path, "zTscoder")
    try:
        seen = len(pc_client.messages)
        pc_client.wait_for("status", lambda s: s["meeting_app"] and s["converting"], after=seen,
                           timeout=4)
    finally:
        zoom.kill()
        coder.kill()
        zoom.wait()
        coder.wait()
    seen = len(pc_client.messages)
    pc_client.wait_for("status", lambda s: not s["meeting_app"] and not s["converting"],
                       after=seen, timeout=4)


def test_availability_online_then_offline_on_a_clean_stop(start_agent, pc_client):
    agent = start_agent()
    pc_client.wait_for("availability", lambda a: a == "online")
    seen = len(pc_client.messages)
    agent.stop()
    pc_client.wait_for("availability", lambda a: a == "offline", after=seen)


def test_last_will_says_offline_when_the_agent_is_killed(broker, pc_client, tmp_path):
    config = write_agent_config(tmp_path, broker.port)
    log = open(tmp_path / "agent.log", "wb")
    agent = subprocess.Popen([sys.executable, "-m", "siaga", "agent", "-c", str(config)],
                             stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).parent.parent)
    try:
        pc_client.wait_for("availability", lambda a: a == "online", timeout=15)
        pc_client.wait_for("status", timeout=5)
        seen = len(pc_client.messages)
        agent.send_signal(signal.SIGKILL)
        agent.wait(5)
        _, at, _ = pc_client.wait_for("availability", lambda a: a == "offline", after=seen, timeout=5)
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
        log.close()
    # The retained value a newcomer (the edge after a restart) reads is "offline" too.
    late = PcClient(broker.port)
    try:
        late.wait_for("availability", lambda a: a == "offline")
    finally:
        late.stop()


def test_sigterm_stops_the_agent_cleanly_with_offline(broker, pc_client, tmp_path):
    config = write_agent_config(tmp_path, broker.port)
    agent = subprocess.Popen([sys.executable, "-m", "siaga", "agent", "-c", str(config)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             cwd=Path(__file__).parent.parent)
    try:
        pc_client.wait_for("status", timeout=15)
        seen = len(pc_client.messages)
        agent.terminate()
        assert agent.wait(10) == 0
        pc_client.wait_for("availability", lambda a: a == "offline", after=seen)
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
    out = agent.stdout.read().decode()
    agent.stdout.close()
    assert "Traceback" not in out and "siaga agent stopped" in out


def test_a_bad_config_exits_2_with_one_clear_message(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text('[site]\nid = "Bad Id"\n[agent]\ninterval_s = "five"\n')
    done = subprocess.run([sys.executable, "-m", "siaga", "agent", "-c", str(path)],
                          capture_output=True, text=True, timeout=30,
                          cwd=Path(__file__).parent.parent)
    assert done.returncode == 2
    assert "agent.toml: agent.interval_s: must be a number" in done.stderr
    assert "agent.toml: agent.pc_id: is required" in done.stderr
    assert "Traceback" not in done.stderr


def test_under_pythonw_a_bad_config_is_written_to_the_log_file(tmp_path):
    # pythonw.exe (Task Scheduler) has no console: sys.stderr and sys.stdout are None there.
    path = tmp_path / "agent.toml"
    path.write_text('[site]\nid = "s1"\n[agent]\ninterval_s = "five"\n')
    code = ("import sys; sys.stderr = sys.stdout = None; from siaga.cli import main; "
            f"sys.exit(main(['agent', '-c', {str(path)!r}]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=30, cwd=Path(__file__).parent.parent)
    assert done.returncode == 2
    log = (tmp_path / "agent.log").read_text(encoding="utf-8")
    assert "agent.toml: agent.interval_s: must be a number" in log
    assert "agent.toml: agent.pc_id: is required" in log and "Traceback" not in log


def test_a_process_seen_between_fork_and_exec_gets_its_real_name_on_the_next_scan(monkeypatch):
    names = {1: ["init"], 2: ["init"], 500: ["python3", "Zoom"]}   # pid 500 was caught mid-exec
    monkeypatch.setattr("agent.telemetry.psutil.pids", lambda: [1, 2, 500])

    class FakeProcess:
        def __init__(self, pid: int) -> None:
            self.pid = pid

        def name(self) -> str:
            seen = names[self.pid]
            return seen.pop(0) if len(seen) > 1 else seen[0]

    monkeypatch.setattr("agent.telemetry.psutil.Process", FakeProcess)
    now = [0.0]
    scanner = ProcessScanner(clock=lambda: now[0])
    monkeypatch.setattr("agent.telemetry.psutil.pids", lambda: [1, 2])
    scanner.running()                                                   # full scan
    monkeypatch.setattr("agent.telemetry.psutil.pids", lambda: [1, 2, 500])
    now[0] = 5.0
    assert "zoom" not in scanner.running()                              # caught mid-exec
    now[0] = 10.0
    assert "zoom" in scanner.running()                                  # read again: Zoom
    reads = scanner.name_reads
    now[0] = 15.0
    scanner.running()
    assert scanner.name_reads == reads                                  # and then cached
