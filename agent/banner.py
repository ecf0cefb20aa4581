"""The agent's side of the banner: starts the window process (banner_ui.py) and talks to it.

The window runs as a child process fed with JSON lines, started on the first banner and kept
(hidden) afterwards. Which Python runs it: this one when it has tkinter, else Debian's
``/usr/bin/python3`` (package python3-tk). Without a display, with ``banner = false`` or without
tkinter, the banner is only logged and nothing else changes.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Mapping

logger = logging.getLogger(__name__)

UI_SCRIPT = Path(__file__).with_name("banner_ui.py")
SYSTEM_PYTHONS = ("/usr/bin/python3",)
RETRY_AFTER_S = 60.0   # a window process that failed is not started again sooner


def has_display(env: Mapping[str, str] | None = None, system: str | None = None) -> bool:
    """True when a window can be shown: Windows and macOS always, else DISPLAY/WAYLAND_DISPLAY."""
    env = os.environ if env is None else env
    if (system or platform.system()) in ("Windows", "Darwin"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def tk_python() -> str | None:
    """A Python that can import tkinter: this one, else the system's; None when there is none."""
    if importlib.util.find_spec("_tkinter") is not None:
        return sys.executable
    for candidate in SYSTEM_PYTHONS:
        if os.access(candidate, os.X_OK) and subprocess.run(
                [candidate, "-c", "import tkinter"], capture_output=True, timeout=20).returncode == 0:
            return candidate
    return None


class Banner:
    """Shows banner views in the window process; every method is safe to call without one."""

    def __init__(self, enabled: bool, env: Mapping[str, str] | None = None) -> None:
        self.enabled = enabled
        self.env = dict(os.environ if env is None else env)
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._failed_at = float("-inf")
        self._said_why = ""
        self._readers: list[threading.Thread] = []
        self._events: list[dict[str, Any]] = []
        self._cond = threading.Condition()

    @property
    def available(self) -> bool:
        """True when a banner can be shown at all (enabled and a display exists)."""
        return self.enabled and has_display(self.env)

    def show(self, view: dict[str, Any]) -> bool:
        """Show ``view``; False (and a log line) when there is no banner."""
        logger.info("banner: %s | %s | %s", view.get("title"), view.get("body"), view.get("runtime"))
        return self._send(view)

    def close(self) -> bool:
        """Hide the window."""
        return self._send({"op": "close"})

    def stop(self) -> None:
        """End the window process."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        _close(proc.stdin)
        try:
            proc.wait(3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for reader in self._readers:
            reader.join(3)

    def events(self) -> list[dict[str, Any]]:
        """Every event the window process reported so far."""
        with self._cond:
            return list(self._events)

    def wait_event(self, name: str, timeout: float, after: int = 0) -> dict[str, Any] | None:
        """The first event ``name`` at index >= ``after``, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self._events[after:]:
                    if event.get("event") == name:
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def _send(self, message: dict[str, Any]) -> bool:
        with self._lock:
            proc = self._ensure()
            if proc is None:
                return False
            assert proc.stdin is not None   # started with stdin=PIPE
            try:
                proc.stdin.write(json.dumps(message) + "\n")
                proc.stdin.flush()
                return True
            except (OSError, ValueError) as exc:
                logger.warning("banner window process is gone (%s)", exc)
                _close(proc.stdin)
                self._proc, self._failed_at = None, time.monotonic()
                return False

    def _ensure(self) -> subprocess.Popen | None:
        """The running window process, started when needed; None when there is none."""
        if self._proc is not None:
            if self._proc.poll() is None:
                return self._proc
            _close(self._proc.stdin)
            self._proc = None
        if not self.enabled:
            self._none("agent.banner is false")
            return None
        if not has_display(self.env):
            self._none("no display (DISPLAY is not set)")
            return None
        if time.monotonic() - self._failed_at < RETRY_AFTER_S:
            return None
        python = tk_python()
        if python is None:
            self._failed_at = time.monotonic()
            self._none("no Python with tkinter (on Debian: apt install python3-tk)")
            return None
        self._proc = self._start(python)
        return self._proc

    def _none(self, why: str) -> None:
        if why != self._said_why:
            logger.info("no banner: %s; the banner is logged only", why)
            self._said_why = why

    def _start(self, python: str) -> subprocess.Popen | None:
        flags: dict[str, Any] = {}
        if sys.platform == "win32":
            flags = {"creationflags": subprocess.CREATE_NO_WINDOW}
        try:
            proc = subprocess.Popen([python, "-u", str(UI_SCRIPT)], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    encoding="ascii", errors="replace", env=self.env, **flags)
        except OSError as exc:
            self._failed_at = time.monotonic()
            logger.warning("cannot start the banner window (%s): %s", python, exc)
            return None
        self._readers = [threading.Thread(target=self._read_events, args=(proc,), daemon=True),
                         threading.Thread(target=self._read_errors, args=(proc,), daemon=True)]
        for reader in self._readers:
            reader.start()
        logger.info("banner window process started (pid %s)", proc.pid)
        return proc

    def _read_events(self, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None   # started with stdout=PIPE
        for line in proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            self._log_event(event)
            with self._cond:
                self._events.append(event)
                self._cond.notify_all()
        _close(proc.stdout)
        code = proc.wait()
        if code:
            logger.warning("banner window process ended with exit status %s", code)
            self._failed_at = time.monotonic()

    def _read_errors(self, proc: subprocess.Popen) -> None:
        assert proc.stderr is not None   # started with stderr=PIPE
        for line in proc.stderr:
            if line.strip():
                logger.warning("banner window: %s", line.rstrip()[:500])
        _close(proc.stderr)

    @staticmethod
    def _log_event(event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "copied":
            logger.info("banner: the host copied the chat text (%s characters)", event.get("chars"))
        elif kind == "closed":
            logger.info("banner closed (by %s)", event.get("by"))
        elif kind == "error":
            logger.warning("banner window: %s", event.get("detail"))
        else:
            logger.debug("banner window: %s", event)


def _close(pipe: Any) -> None:
    """Close one end of a pipe to the window process; it may be closed or broken already."""
    try:
        if pipe is not None:
            pipe.close()
    except OSError:
        pass
