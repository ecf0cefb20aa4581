"""`make demo` from a fresh clone: the URL, ready, a power cut and back, Ctrl-C leaves nothing behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

import psutil
import pytest

from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[1]
SITE = "demo-rr1"


def _wait_for(what: str, probe: Callable[[], Any], timeout: float, log: Path) -> Any:
    """Call ``probe`` until it returns something truthy; fail with the demo's output."""
    return wait_until(probe, timeout, step=0.2, what=what,
                      context=lambda: f"demo output:\n{log.read_text()[-4000:]}")


def _room(url: str) -> str:
    """The room state the dashboard shows for the demo site; "" while it has none."""
    try:
        with urllib.request.urlopen(f"{url}/api/sites/{SITE}", timeout=2) as answer:
            return json.load(answer)["state"]["room"]
    except (OSError, ValueError, KeyError, TypeError, urllib.error.HTTPError):
        return ""


def _siaga(clone: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge.cli", *args], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A fresh clone of the committed HEAD of this repository."""
    target = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(target)], check=True, timeout=60)
    return target


@pytest.fixture
def started(request: pytest.FixtureRequest) -> list[int]:
    """PIDs of every process the demo started; any still alive after the test is killed."""
    pids: list[int] = []

    def kill_leftovers() -> None:
        for pid in pids:
            try:
                psutil.Process(pid).kill()
            except psutil.Error:
                pass

    request.addfinalizer(kill_leftovers)
    return pids


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@pytest.mark.timeout(240)
def test_make_demo_walks_a_power_cut_and_cleans_up(clone: Path, tmp_path: Path,
                                                   started: list[int]) -> None:
    """The newcomer's path: make demo, ready, power off -> on_battery, on -> ready, Ctrl-C."""
    state_file = tmp_path / "demo-state.json"
    env = {**os.environ, "SIAGA_DEMO_STATE": str(state_file)}
    env.pop("DISPLAY", None)
    venv = Path(sys.prefix)
    log = tmp_path / "demo-output.txt"
    with open(log, "wb") as out:
        # -o: use the running venv as it is (a fresh clone would otherwise rebuild it).
        make = subprocess.Popen(["make", "-o", str(venv / "bin" / "siaga"), "demo",
                                 f"VENV={venv}"], cwd=clone, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    started.append(make.pid)
    try:
        url = _wait_for("the dashboard URL", lambda: re.search(
            r"Dashboard: (http://127\.0\.0\.1:\d+)\n", log.read_text()), 90, log)[1]
        state = json.loads(state_file.read_text())
        started.extend(state["pids"].values())
        started.extend(p.pid for p in psutil.Process(make.pid).children(recursive=True))
        assert state["dashboard"] == url and state["dir"] in log.read_text()

        _wait_for("room ready", lambda: _room(url) == "ready", 60, log)
        check = _siaga(clone, env, "check", "-c", state["config"])
        assert check.returncode == 0, check.stdout + check.stderr

        off = _siaga(clone, env, "demo", "power", "off")
        assert off.returncode == 0, off.stderr
        _wait_for("room on_battery", lambda: _room(url) == "on_battery", 30, log)
        with urllib.request.urlopen(f"{url}/api/sites/{SITE}", timeout=2) as answer:
            indicator = json.load(answer)["state"]["indicator"]
        assert (indicator["led"], indicator["pattern"]) == ("amber", "blink")

        on = _siaga(clone, env, "demo", "power", "on")
        assert on.returncode == 0, on.stderr
        _wait_for("room ready again", lambda: _room(url) == "ready", 30, log)
    finally:
        os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        make.wait(30)
    # make itself dies of the SIGINT (as in a terminal); the demo must have said it stopped.
    assert make.returncode in (0, -signal.SIGINT), log.read_text()[-3000:]
    assert "Siaga demo stopped" in log.read_text()
    assert [pid for pid in started if _alive(pid)] == []
    assert not Path(state["dir"]).exists()
    assert not state_file.exists()
    assert "power_lost" in log.read_text()


def test_power_without_a_running_demo_says_so(tmp_path: Path) -> None:
    """From another terminal with no demo: a clear sentence, exit 1, no traceback."""
    env = {**os.environ, "SIAGA_DEMO_STATE": str(tmp_path / "none.json")}
    done = _siaga(REPO, env, "demo", "power", "off")
    assert done.returncode == 1
    assert "No Siaga demo is running" in done.stderr and "Traceback" not in done.stderr


def test_power_with_a_stale_state_file_says_so_and_removes_it(tmp_path: Path) -> None:
    """A state file left by a demo that was killed does not fool `siaga demo power`."""
    state_file = tmp_path / "stale.json"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    state_file.write_text(json.dumps({"pid": dead.pid, "pid_created": 1.0, "ups_port": 1,
                                      "nut_dir": str(tmp_path)}))
    env = {**os.environ, "SIAGA_DEMO_STATE": str(state_file)}
    done = _siaga(REPO, env, "demo", "power", "low")
    assert done.returncode == 1 and "No Siaga demo is running" in done.stderr
    assert not state_file.exists()


def _without_nut_client(env: dict[str, str]) -> dict[str, str]:
    """``env`` with a PATH that has no upsc/upsrw (as on a machine without nut-client)."""
    return {**env, "PATH": "/nonexistent"}


def test_demo_without_nut_client_says_what_to_install(tmp_path: Path) -> None:
    """No upsc on the PATH: one sentence naming the package, exit 1, nothing left behind."""
    env = _without_nut_client({**os.environ, "SIAGA_DEMO_STATE": str(tmp_path / "s.json")})
    done = _siaga(REPO, env, "demo")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "install the Debian package nut-client" in done.stderr and "Traceback" not in done.stderr
    directory = Path(re.search(r"Starting the Siaga demo in (\S+) \.\.\.", done.stdout)[1])
    assert "Siaga demo stopped" in done.stdout and not directory.exists()


def test_power_without_nut_client_says_what_to_install(tmp_path: Path) -> None:
    """`siaga demo power off` with a live demo but no upsrw: a sentence, exit 1, no traceback."""
    me = psutil.Process()
    state_file = tmp_path / "live.json"
    state_file.write_text(json.dumps({"pid": me.pid, "pid_created": me.create_time(),
                                      "ups_port": 1, "nut_dir": str(tmp_path),
                                      "dashboard": "http://127.0.0.1:1"}))
    env = _without_nut_client({**os.environ, "SIAGA_DEMO_STATE": str(state_file)})
    done = _siaga(REPO, env, "demo", "power", "off")
    assert done.returncode == 1
    assert "install the Debian package nut-client" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [["power"], ["power", "sideways"], ["stop"]])
def test_demo_refuses_unknown_actions(args: list[str], tmp_path: Path) -> None:
    """A wrong action prints the usage and exits 2."""
    env = {**os.environ, "SIAGA_DEMO_STATE": str(tmp_path / "none.json")}
    done = _siaga(REPO, env, "demo", *args)
    assert done.returncode == 2 and "siaga demo power off|low|on" in done.stderr


def test_readme_opens_with_the_two_commands_and_its_links_exist() -> None:
    """A newcomer reads `make demo` and `make test` first; every picture and link is there."""
    text = (REPO / "README.md").read_text()
    body = [line for line in text.splitlines() if line.strip() and not line.startswith("# ")]
    assert body[:4] == ["```", "make demo", "make test", "```"]
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
        assert (REPO / target).exists(), f"README links to a missing {target}"
