"""The meeting PC's install: `pip install siaga` (no extras) in a fresh venv gives a working
`siaga agent` and nothing of the Pi (CONTRACT §5.4)."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agent_helpers import write_agent_config

REPO = Path(__file__).resolve().parent.parent

# The module's first test also waits for the fixture's `pip install` (a minute on a quiet
# machine; over two when the machine is busy, as a CI box can be): more than the suite's
# 120 s per test, which is for the tests themselves.
pytestmark = pytest.mark.timeout(480)


@pytest.fixture(scope="module")
def pc_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with `pip install <copy of the repo>`, no extras (pip's cache keeps it fast).
    Made once per run: the pytest-xdist workers that get this file's tests share it (a lock in
    the run's temporary directory), instead of each running pip at the same time."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent          # the run's directory, above each worker's own
    base, venv = root / "pcinstall", root / "pcinstall" / "venv"
    with open(root / "pcinstall.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (base / "made").exists():
            shutil.rmtree(base, ignore_errors=True)
            source = base / "siaga"   # a copy: the build must not leave build/ or egg-info here
            shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
                ".venv", ".git", ".cache", "tests", "bench", "*.egg-info", "build", "__pycache__",
                "node_modules"))
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
            done = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(source)],
                                  capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr[-2000:]
            (base / "made").touch()
    return venv


def test_the_pc_install_runs_the_agent_against_a_real_broker(pc_venv, broker, pc_client, tmp_path):
    config = write_agent_config(tmp_path, broker.port)
    proc = subprocess.Popen([str(pc_venv / "bin" / "siaga"), "agent", "-c", str(config)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _, _, status = pc_client.wait_for("status", timeout=20)
        assert status["pc"] == "meeting-pc" and status["disk_total_gb"] > 0
        cmd, _ = pc_client.send("notice", title="Listrik padam")
        _, _, ack = pc_client.wait_for("ack", lambda a: a["id"] == cmd["id"])
        assert ack["ok"] is True
    finally:
        proc.terminate()
        out = proc.communicate(timeout=10)[0].decode(errors="replace")
    assert "Traceback" not in out, out


@pytest.mark.parametrize("module", ["gpiozero", "flask", "aionut", "waitress", "prometheus_client"])
def test_the_pc_install_has_nothing_of_the_pi(pc_venv, module, tmp_path):
    done = subprocess.run([str(pc_venv / "bin" / "python"), "-c", f"import {module}"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "ModuleNotFoundError" in done.stderr


def test_the_pc_install_has_the_obs_client(pc_venv, tmp_path):
    done = subprocess.run([str(pc_venv / "bin" / "python"), "-c", "import simpleobsws, psutil"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("command", ["edge", "dashboard", "check"])
def test_a_pi_program_on_the_pc_install_says_what_to_install(pc_venv, command, tmp_path):
    done = subprocess.run([str(pc_venv / "bin" / "siaga"), command, "-c", "/nonexistent.toml"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert 'pip install "siaga[pi]"' in done.stderr and f"siaga {command}:" in done.stderr
