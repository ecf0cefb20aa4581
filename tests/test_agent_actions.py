"""What the agent runs: argv only, with a timeout, a cancellable shutdown, the OS default untouched."""

from __future__ import annotations

import sys
import time

import psutil
import pytest

from agent import actions as actions_module
from agent.actions import Actions, default_shutdown_argv, run_argv
from protocol.config import AgentSection
from tests.agent_helpers import marker_argv, wait_until  # noqa: F401

REAL_DEFAULT = default_shutdown_argv   # imported before no_os_shutdown replaces it in the module


@pytest.mark.parametrize("system, argv", [
    ("Windows", ["shutdown", "/s", "/t", "0"]),
    ("Linux", ["systemctl", "poweroff"]),
    ("Darwin", ["shutdown", "-h", "now"]),
])
def test_the_os_default_shutdown_is_the_clean_one(system, argv):
    assert REAL_DEFAULT(system) == argv     # only computed, never run


def test_an_empty_shutdown_command_means_the_os_default(monkeypatch):
    monkeypatch.setattr(actions_module, "default_shutdown_argv", lambda: ["os-default"])
    assert Actions(AgentSection()).shutdown_argv() == ["os-default"]
    assert Actions(AgentSection(shutdown_command=("a", "b"))).shutdown_argv() == ["a", "b"]


def test_run_argv_runs_without_a_shell_and_logs_output(tmp_path, caplog):
    caplog.set_level("INFO")
    ok, detail = run_argv([sys.executable, "-c", "print('saved; rm -rf /')"], 10, "wrap-up")
    assert ok and detail.startswith("done in")
    assert "wrap-up output: saved; rm -rf /" in caplog.text
    # A shell would expand these; argv passes them literally.
    ok, _ = run_argv([sys.executable, "-c", "import sys; open(sys.argv[1], 'w').write(sys.argv[2])",
                      str(tmp_path / "out"), "$HOME;`id`"], 10, "wrap-up")
    assert ok and (tmp_path / "out").read_text() == "$HOME;`id`"


def test_run_argv_reports_a_failure_and_a_missing_program(caplog):
    assert run_argv([sys.executable, "-c", "raise SystemExit(3)"], 10, "wrap-up") == \
        (False, "exit status 3")
    ok, detail = run_argv(["/nonexistent/zoom-stop"], 10, "wrap-up")
    assert not ok and detail.startswith("cannot run /nonexistent/zoom-stop")
    assert "Traceback" not in caplog.text


def test_run_argv_stops_a_command_that_runs_over_with_its_children(tmp_path):
    child_pid = tmp_path / "child.pid"
    code = ("import subprocess, sys, time; "
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
            f"open({str(child_pid)!r}, 'w').write(str(p.pid)); time.sleep(60)")
    started = time.monotonic()
    ok, detail = run_argv([sys.executable, "-c", code], 1.5, "wrap-up")
    assert not ok and detail == "stopped after 1.5 s"
    assert time.monotonic() - started < 8           # the child held the pipe: it was killed too
    pid = int(child_pid.read_text())
    # SIGKILL is delivered when the child is next scheduled: on a loaded machine a moment later.
    wait_until(lambda: not psutil.pid_exists(pid) or _zombie(pid), timeout=5, what="child killed")


def test_a_command_that_runs_over_is_reaped_even_when_something_it_left_holds_the_pipe(tmp_path):
    """A wrap-up that starts a program of its own session and parent (a double fork, as a
    daemonising helper does) and then hangs: the command is killed and reaped, the agent keeps
    no zombie; the program that left is not ours to kill."""
    escaped_pid = tmp_path / "escaped.pid"
    escape = ("import os, sys, time\n"
              "if os.fork() == 0:\n"
              "    os.setsid()\n"
              "    if os.fork() == 0:\n"
              f"        open({str(escaped_pid)!r}, 'w').write(str(os.getpid())); time.sleep(60)\n"
              "    os._exit(0)\n"
              "time.sleep(60)\n")
    before = {c.pid for c in psutil.Process().children()}
    try:
        ok, detail = run_argv([sys.executable, "-c", escape], 1.5, "wrap-up")
        assert not ok and detail == "stopped after 1.5 s"
        left = [c for c in psutil.Process().children() if c.pid not in before]
        assert [c.pid for c in left if _zombie(c.pid)] == []
    finally:
        if escaped_pid.exists():
            psutil.Process(int(escaped_pid.read_text())).kill()


def _zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def section(tmp_path, **kw) -> AgentSection:
    return AgentSection(shutdown_command=tuple(marker_argv(tmp_path / "shutdown.marker")),
                        command_timeout_s=10, **kw)


def test_shutdown_waits_for_a_running_wrapup(tmp_path):
    wrapup = tmp_path / "wrapup.marker"
    acts = Actions(section(tmp_path, wrapup_command=tuple(marker_argv(wrapup, sleep_s=1.5))))
    assert acts.wrapup() == "wrap-up started"
    assert acts.wrapup() == "wrap-up already running"
    assert acts.shutdown(0) == "shutdown in 0 s"
    assert acts.shutdown(0) == "shutdown already pending"
    wait_until((tmp_path / "shutdown.marker").exists, timeout=10)
    assert wrapup.exists()       # the recording was saved before the PC went down
    assert wrapup.stat().st_mtime <= (tmp_path / "shutdown.marker").stat().st_mtime


def test_cancel_stops_only_a_pending_shutdown(tmp_path):
    acts = Actions(section(tmp_path))
    assert acts.cancel() is False                       # nothing pending
    acts.shutdown(1)
    assert acts.shutdown_pending and acts.cancel() is True
    assert not acts.shutdown_pending
    time.sleep(1.5)
    assert not (tmp_path / "shutdown.marker").exists()
    acts.shutdown(0)                                    # a new outage: a new shutdown
    wait_until((tmp_path / "shutdown.marker").exists)
    assert acts.cancel() is False                       # too late once it has run


def test_stopping_the_agent_drops_a_pending_shutdown(tmp_path):
    acts = Actions(section(tmp_path))
    acts.shutdown(1)
    acts.stop()
    time.sleep(1.5)
    assert not (tmp_path / "shutdown.marker").exists()


def test_no_wrapup_command_runs_nothing():
    assert Actions(AgentSection()).wrapup() == "no wrapup_command configured"


def test_a_failed_shutdown_command_lets_the_next_shutdown_try_again(tmp_path):
    failing = (sys.executable, "-c", "raise SystemExit(5)")
    acts = Actions(AgentSection(shutdown_command=failing))
    assert acts.shutdown(0) == "shutdown in 0 s"
    wait_until(lambda: not acts.shutdown_requested, 10, what="the failed shutdown to be forgotten")
    assert acts.shutdown(0) == "shutdown in 0 s"   # not "already pending": the PC is still up
    wait_until(lambda: not acts.shutdown_requested, 10, what="the second try to end")
