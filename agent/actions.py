"""What the agent runs on the PC: only the argv of its own config, never anything a command names.

``run_argv`` runs one argv without a shell, with a timeout (the whole process tree is killed when
it runs over) and logs its output. ``Actions`` holds the wrap-up (one at a time: OBS's recording
stopped and saved when ``[agent.obs]`` is set, then ``wrapup_command``) and the shutdown (after a
grace that a ``cancel`` stops; it waits for a running wrap-up so the recording is saved first).
A shutdown command that fails (polkit refuses, an app blocks Windows' shutdown, a custom command
exits non-zero) is told to the shutdown's ``on_failed``: the agent acks it again, ``ok`` false.
"""

from __future__ import annotations

import logging
import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

import psutil

from protocol.config import AgentSection

if TYPE_CHECKING:
    from agent.obs import ObsResult

logger = logging.getLogger(__name__)

OUTPUT_LINES = 20        # at most this many output lines of a command are logged
OUTPUT_LINE_CHARS = 500
SAID_CHARS = 200         # the last line a failed command printed, as told to the edge


@dataclass(frozen=True)
class Ran:
    """How one command went: ``detail`` in a few English words, and the parts of it for a code."""

    ok: bool
    detail: str
    status: int | None = None        # its exit status, when it ended by itself
    timeout_s: float | None = None   # it ran over this and was stopped
    error: str = ""                  # it could not be started: the OS's reason
    said: str = ""                   # the last line it printed (polkit's or Windows' reason)


def default_shutdown_argv(system: str | None = None) -> list[str]:
    """The OS's own clean shutdown, used when ``shutdown_command`` is empty."""
    system = system or platform.system()
    if system == "Windows":
        return ["shutdown", "/s", "/t", "0"]
    if system == "Linux":
        return ["systemctl", "poweroff"]
    return ["shutdown", "-h", "now"]


def run_argv(argv: Sequence[str], timeout_s: float, what: str) -> tuple[bool, str]:
    """Run ``argv`` (no shell), wait up to ``timeout_s``; (ok, one-line detail)."""
    ran = run_command(argv, timeout_s, what)
    return ran.ok, ran.detail


def run_command(argv: Sequence[str], timeout_s: float, what: str) -> Ran:
    """Run ``argv`` (no shell), wait up to ``timeout_s``; how it went."""
    flags: dict[str, Any]
    if sys.platform == "win32":
        flags = {"creationflags": subprocess.CREATE_NO_WINDOW}
    else:
        flags = {"start_new_session": True}
    started = time.monotonic()
    try:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, **flags)
    except OSError as exc:
        error = str(exc.strerror or exc)
        logger.error("%s command %s cannot run: %s", what, argv[0], error)
        return Ran(False, f"cannot run {argv[0]}: {error}", error=error)
    try:
        out, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_tree(proc)
        out = _rest_of_output(proc)
        _log_output(what, out)
        logger.warning("%s command %s ran over %g s; stopped it", what, argv[0], timeout_s)
        return Ran(False, f"stopped after {timeout_s:g} s", timeout_s=timeout_s, said=_last_line(out))
    _log_output(what, out)
    took = time.monotonic() - started
    if proc.returncode == 0:
        logger.info("%s command %s finished in %.1f s", what, argv[0], took)
        return Ran(True, f"done in {took:.1f} s", status=0)
    logger.warning("%s command %s failed with exit status %s", what, argv[0], proc.returncode)
    return Ran(False, f"exit status {proc.returncode}", status=proc.returncode,
               said=_last_line(out))


def _last_line(out: bytes | None) -> str:
    """The last line a command printed, clipped: usually the reason it failed."""
    lines = [line.strip() for line in (out or b"").decode("utf-8", errors="replace").splitlines()]
    said = next((line for line in reversed(lines) if line), "")
    return said if len(said) <= SAID_CHARS else said[:SAID_CHARS - 1] + "…"


def _kill_tree(proc: subprocess.Popen) -> None:
    """Kill ``proc`` and its children (a child holding the pipe would block us forever). On
    POSIX the command leads a session of its own: its whole process group goes too, including a
    child started after the list of children was read."""
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        children = []
    if sys.platform != "win32":
        try:
            os.killpg(proc.pid, 9)   # SIGKILL (signal.SIGKILL does not exist on Windows)
        except OSError:
            pass
    for p in children:
        try:
            p.kill()
        except psutil.Error:
            pass
    proc.kill()


def _rest_of_output(proc: subprocess.Popen) -> bytes:
    """What the killed command printed; the command is reaped either way (no zombie left)."""
    try:
        return proc.communicate(timeout=5)[0] or b""
    except subprocess.TimeoutExpired:   # something that left the session still holds the pipe
        if proc.stdout is not None:
            proc.stdout.close()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            logger.warning("command %s did not end after SIGKILL", proc.pid)
        return b""


def _log_output(what: str, out: bytes | None) -> None:
    lines = (out or b"").decode("utf-8", errors="replace").splitlines()
    for line in lines[-OUTPUT_LINES:]:
        logger.info("%s output: %s", what, line[:OUTPUT_LINE_CHARS])


class _Shutdown:
    """One pending shutdown: cancelled until its command has started. ``on_failed`` hears of a
    command that did not shut the PC down."""

    def __init__(self, on_failed: Callable[[Ran], None] | None = None) -> None:
        self.cancelled = threading.Event()
        self.started = False
        self.on_failed = on_failed


class _WrapupRun:
    """One wrap-up: OBS saves, then ``wrapup_command`` runs unless power came back meanwhile."""

    def __init__(self) -> None:
        self.power_back = False      # a cancel came before wrapup_command started
        self.command_started = False


class Actions:
    """The wrap-up and the shutdown of this PC, each in its own thread."""

    def __init__(self, section: AgentSection, on_shutdown_start: Callable[[], None] | None = None,
                 language: str = "id") -> None:
        self.section = section
        self.language = language
        self.on_shutdown_start = on_shutdown_start   # called just before the shutdown command runs
        self._lock = threading.Lock()
        self._wrapup: threading.Thread | None = None
        self._wrapup_run = _WrapupRun()
        self._shutdown: _Shutdown | None = None
        self._shutdown_thread: threading.Thread | None = None

    def shutdown_argv(self) -> list[str]:
        """The configured ``shutdown_command``, else the OS's own clean shutdown."""
        return list(self.section.shutdown_command) or default_shutdown_argv()

    @property
    def shutdown_requested(self) -> bool:
        """True from a shutdown until it is cancelled: waiting out its grace, or already running."""
        p = self._shutdown
        return p is not None and not p.cancelled.is_set()

    @property
    def shutdown_pending(self) -> bool:
        """True while a shutdown waits out its grace (and can still be cancelled)."""
        p = self._shutdown
        return p is not None and not p.started and not p.cancelled.is_set()

    def wrapup(self, on_obs: Callable[[ObsResult], None] | None = None) -> str:
        """Start the wrap-up unless one runs; returns what happened, for the ack.

        With ``[agent.obs]`` the recording is stopped first and ``on_obs`` gets how that went
        (the wrap-up ack waits for it); ``wrapup_command`` runs after it."""
        argv = list(self.section.wrapup_command)
        if not argv and self.section.obs is None:
            logger.info("wrap-up: no agent.wrapup_command configured, nothing to run")
            return "no wrapup_command configured"
        with self._lock:
            if self._wrapup is not None and self._wrapup.is_alive():
                # A new cut's wrap-up while the last one still waits for OBS: its command runs.
                self._wrapup_run.power_back = False
                logger.info("wrap-up: the wrap-up still runs; not starting another")
                return "wrap-up already running"
            run = self._wrapup_run = _WrapupRun()
            self._wrapup = threading.Thread(target=self._wrapup_steps, name="wrapup", daemon=True,
                                            args=(argv, on_obs, run))
            self._wrapup.start()
        return "wrap-up started"

    def stop_wrapup(self, why: str = "power is back") -> bool:
        """Power is back: ``wrapup_command`` does not run if it has not started yet (OBS may still
        be saving; a recording OBS already stopped stays stopped). False when nothing was held."""
        with self._lock:
            run = self._wrapup_run
            if (self._wrapup is None or not self._wrapup.is_alive() or run.command_started
                    or run.power_back):
                return False
            run.power_back = True
        logger.warning("wrap-up: %s; wrapup_command will not run", why)
        return True

    def _wrapup_steps(self, argv: list[str], on_obs: Callable[[ObsResult], None] | None,
                      run: _WrapupRun) -> None:
        if self.section.obs is not None:
            # Imported here: only PCs with [agent.obs] pay for websockets and msgpack.
            from agent.obs import stop_recording
            result = stop_recording(self.section.obs, self.language)
            if on_obs is not None:
                try:
                    on_obs(result)
                except Exception:  # noqa: BLE001 - wrapup_command must still run
                    logger.exception("reporting the OBS wrap-up failed")
        if not argv:
            return
        with self._lock:
            if run.power_back:   # the cancel came while OBS saved: the meeting goes on, on mains
                logger.info("wrap-up: power came back while OBS saved; wrapup_command not run")
                return
            run.command_started = True
        run_argv(argv, self.section.command_timeout_s, "wrap-up")

    def _wrapup_budget_s(self) -> float:
        """The longest a wrap-up can take: OBS's wait, then wrapup_command's timeout."""
        obs = self.section.obs
        return self.section.command_timeout_s + (obs.timeout_s + 5 if obs is not None else 0)

    def shutdown(self, grace_s: float, on_failed: Callable[[Ran], None] | None = None) -> str:
        """Shut the PC down after ``grace_s`` unless cancelled; returns a line for the ack.
        ``on_failed``: called (in the shutdown's thread) when the command leaves the PC up."""
        with self._lock:
            if self.shutdown_pending or (self._shutdown is not None and self._shutdown.started):
                return "shutdown already pending"
            pending = self._shutdown = _Shutdown(on_failed)
            self._shutdown_thread = threading.Thread(
                target=self._shutdown_after, args=(pending, grace_s), name="shutdown", daemon=True)
            self._shutdown_thread.start()
        logger.warning("shutdown of this PC in %g s unless power comes back", grace_s)
        return f"shutdown in {grace_s:g} s"

    def cancel(self, why: str = "power is back") -> bool:
        """Stop a pending shutdown; False when none was pending (or it already started)."""
        with self._lock:
            p = self._shutdown
            if p is None or p.started or p.cancelled.is_set():
                return False
            p.cancelled.set()
        logger.warning("shutdown cancelled: %s", why)
        return True

    def _shutdown_after(self, pending: _Shutdown, grace_s: float) -> None:
        if pending.cancelled.wait(grace_s):
            return
        wrapup = self._wrapup
        if wrapup is not None and wrapup.is_alive():
            logger.info("shutdown waits for the wrap-up to finish")
            deadline = time.monotonic() + self._wrapup_budget_s() + 10
            while wrapup.is_alive() and time.monotonic() < deadline:
                if pending.cancelled.wait(0.2):
                    return
        with self._lock:
            if pending.cancelled.is_set():
                return
            pending.started = True
        if self.on_shutdown_start is not None:
            try:
                self.on_shutdown_start()
            except Exception:  # noqa: BLE001 - nothing may keep the PC from shutting down
                logger.exception("before the shutdown")
        argv = self.shutdown_argv()
        logger.warning("shutting this PC down: %s", " ".join(argv))
        ran = run_command(argv, self.section.command_timeout_s, "shutdown")
        if ran.ok:
            return
        # The PC is still up: the edge is told (the room's journal, the dashboard), and a later
        # shutdown command (with a new id: the next power cut's) must be able to try again.
        logger.error("the PC did not shut down (%s%s); the edge is told; a new shutdown command "
                     "can try again", ran.detail, f": {ran.said}" if ran.said else "")
        with self._lock:
            if self._shutdown is pending:
                self._shutdown = None
        if pending.on_failed is not None:
            try:
                pending.on_failed(ran)
            except Exception:  # noqa: BLE001 - the failure is logged above either way
                logger.exception("telling the edge that the PC did not shut down failed")

    def stop(self) -> None:
        """The agent stops: a pending shutdown must not fire after it."""
        self.cancel("the agent stops")
