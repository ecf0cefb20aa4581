"""`make demo` from a fresh clone: the URL, ready, a power cut and back, Ctrl-C leaves nothing behind."""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

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
    return subprocess.run([sys.executable, "-m", "siaga", *args], cwd=clone, env=env,
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


def _events(url: str) -> list[dict]:
    """The demo site's journal events as the dashboard holds them, oldest first."""
    try:
        with urllib.request.urlopen(f"{url}/api/sites/{SITE}", timeout=2) as answer:
            return list(reversed(json.load(answer)["events"]))
    except (OSError, ValueError, KeyError, TypeError, urllib.error.HTTPError):
        return []


def _event_after(url: str, kind: str, since: float) -> Callable[[], float | None]:
    """A probe: seconds from ``since`` to the first ``kind`` event after it, or None."""
    return lambda: next((e["ts"] - since for e in _events(url)
                         if e["kind"] == kind and e["ts"] >= since - 1), None)


def _second_demo_is_refused(clone: Path, env: dict[str, str], log: Path) -> None:
    """A second `siaga demo` while the first is still starting: one line, exit 1, nothing run."""
    _wait_for("the demo starting", lambda: "Starting the Siaga demo in" in log.read_text(), 60, log)
    second = _siaga(clone, env, "demo")
    assert second.returncode == 1, second.stdout + second.stderr
    assert "Starting" not in second.stdout
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "A Siaga demo is already running (pid" in lines[0], second.stderr


FAST_DRAIN = 40   # s of runtime per s on battery: the README's stages, four times faster
STAGE_SLACK_S = 3  # what the demo promises beyond the computed time (poll + dummy-ups delay)


@pytest.mark.timeout(300)
def test_make_demo_walks_a_power_cut_and_cleans_up(clone: Path, tmp_path: Path,
                                                   started: list[int]) -> None:
    """The newcomer's path: make demo, ready, power off -> wrap-up and shutdown on time, the PC
    off, on -> the PC back on time, ready; a second demo is refused; Ctrl-C cleans up."""
    from siaga.demo import PC_BOOT_AFTER_S, SHUTDOWN_AT_S, WRAPUP_AT_S, FULL_RUNTIME_S

    state_file = tmp_path / "demo-state.json"
    env = {**os.environ, "SIAGA_DEMO_STATE": str(state_file),
           "SIAGA_DEMO_DRAIN_PER_S": str(FAST_DRAIN)}
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
        _second_demo_is_refused(clone, env, log)
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
        cut = time.time()
        assert off.returncode == 0, off.stderr
        _wait_for("room on_battery", lambda: _room(url) == "on_battery", 30, log)
        with urllib.request.urlopen(f"{url}/api/sites/{SITE}", timeout=2) as answer:
            indicator = json.load(answer)["state"]["indicator"]
        assert (indicator["led"], indicator["pattern"]) == ("amber", "blink")
        for kind, runtime_at in (("wrapup_sent", WRAPUP_AT_S), ("shutdown_sent", SHUTDOWN_AT_S)):
            due = (FULL_RUNTIME_S - runtime_at) / FAST_DRAIN
            took = _wait_for(kind, _event_after(url, kind, cut), due + 15, log)
            assert due - 1 <= took <= due + STAGE_SLACK_S, f"{kind} after {took:.1f} s, due {due}"
        _power_lost_alert_is_on_the_demos_page(url, state["alerts"], log)

        _wait_for("the PC off", lambda: "meeting PC is off" in log.read_text(), 40, log)
        on = _siaga(clone, env, "demo", "power", "on")
        back = time.time()
        assert on.returncode == 0, on.stderr
        took = _wait_for("the PC online", _event_after(url, "pc_online", back), 30, log)
        assert PC_BOOT_AFTER_S - 1 <= took <= PC_BOOT_AFTER_S + 4, f"PC online after {took:.1f} s"
        started.extend(json.loads(state_file.read_text())["pids"].values())
        _wait_for("room ready again", lambda: _room(url) == "ready", 40, log)
    finally:
        os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        make.wait(30)
    # make itself dies of the SIGINT (as in a terminal); the demo must have said it stopped.
    assert make.returncode in (0, -signal.SIGINT), log.read_text()[-3000:]
    text = log.read_text()
    assert "Siaga demo stopped" in text
    assert [pid for pid in started if _alive(pid)] == []
    assert not Path(state["dir"]).exists()
    assert not state_file.exists()
    assert "power_lost" in text
    _terminal_shows_the_page_time(text)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return answer.read().decode()


def _power_lost_alert_is_on_the_demos_page(url: str, inbox: str, log: Path) -> None:
    """No config written: the power-lost alert IT would get reached the demo's own receiver,
    the room page links to the receiver's page, and that page shows the alert."""
    from dashboard.alerts.rules import Alert, AlertKind
    from dashboard.alerts.texts import render
    from siaga.demo import SITE_NAME

    title = render(Alert(SITE, AlertKind.POWER_LOST, SITE_NAME), "id")[0]
    received = lambda: json.loads(_get(f"{inbox}alerts.json"))["alerts"]  # noqa: E731
    _wait_for("the power-lost alert at the demo's receiver",
              lambda: any(a.get("title") == title for a in received()), 30, log)
    assert f'href="{inbox}"' in _get(f"{url}/sites/{SITE}")
    assert html.escape(title) in _get(inbox)
    assert re.search(rf"WIB  alert to IT \(\w+\): {re.escape(title)}\n", log.read_text())


def _terminal_shows_the_page_time(text: str) -> None:
    """The demo terminal's times are the room page's: Asia/Jakarta (WIB), said with the zone."""
    stamps = re.findall(r"^(\d\d):(\d\d):(\d\d) WIB  room: ", text, re.M)
    assert stamps, text[-3000:]
    now = dt.datetime.now(ZoneInfo("Asia/Jakarta"))
    h, m, s = map(int, stamps[-1])
    shown = now.replace(hour=h, minute=m, second=s)
    assert abs((now - shown).total_seconds()) % 86400 < 300, (stamps[-1], now)
    assert re.search(r"^\d\d:\d\d:\d\d WIB  meeting PC ran its shutdown", text, re.M), text[-3000:]


def test_readme_states_the_demo_timings_the_demo_keeps() -> None:
    """The README's table gives the stages the demo's own numbers make (default drain)."""
    from siaga.demo import DRAIN_PER_S, FULL_RUNTIME_S, PC_BOOT_AFTER_S, SHUTDOWN_AT_S, WRAPUP_AT_S
    from protocol.config import PolicyConfig

    policy = PolicyConfig()
    assert (policy.wrapup_at_runtime_s, policy.shutdown_at_runtime_s) == (WRAPUP_AT_S, SHUTDOWN_AT_S)
    text = " ".join((REPO / "README.md").read_text().split())
    wrapup = (FULL_RUNTIME_S - WRAPUP_AT_S) // DRAIN_PER_S
    shutdown = (FULL_RUNTIME_S - SHUTDOWN_AT_S) // DRAIN_PER_S
    assert f"wrap-up {wrapup}–{wrapup + STAGE_SLACK_S} s and PC shutdown {shutdown}–" \
           f"{shutdown + STAGE_SLACK_S} s after `power off`" in text
    assert f"starts again {PC_BOOT_AFTER_S} s after the mains is back" in text


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


@pytest.mark.parametrize("args", [["power"], ["stop"], ["power", "off", "now"]])
def test_demo_refuses_unknown_actions(args: list[str], tmp_path: Path) -> None:
    """A wrong action prints the usage and exits 2."""
    env = {**os.environ, "SIAGA_DEMO_STATE": str(tmp_path / "none.json")}
    done = _siaga(REPO, env, "demo", *args)
    assert done.returncode == 2 and "siaga demo power off|low|on" in done.stderr


def test_demo_power_names_the_wrong_word(tmp_path: Path) -> None:
    """`siaga demo power sideways`: one sentence naming "sideways" and the words it could be."""
    env = {**os.environ, "SIAGA_DEMO_STATE": str(tmp_path / "none.json")}
    done = _siaga(REPO, env, "demo", "power", "sideways")
    assert done.returncode == 2
    assert done.stderr == 'siaga demo power: "sideways" is not one of off, low, on\n'


def test_readme_opens_with_the_two_commands_and_its_links_exist() -> None:
    """A newcomer reads `make demo` and `make test` first; every picture and link is there."""
    text = (REPO / "README.md").read_text()
    body = [line for line in text.splitlines() if line.strip() and not line.startswith("# ")]
    assert body[:4] == ["```", "make demo", "make test", "```"]
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
        assert (REPO / target).exists(), f"README links to a missing {target}"
