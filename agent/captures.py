"""Who holds the microphone or the camera now: the seam between the OS and the meeting rule.

A backend answers one question per status interval, ``read(pids)``: the captures open now, or
that it cannot see them (then the caller falls back to process names). ``pids`` maps the PIDs
of the programs worth a closer look (meeting apps, browsers) to their names, so no backend has
to walk every process.

Linux: the audio server's capture streams (PulseAudio, or PipeWire through pipewire-pulse) by
``pactl -f json list source-outputs`` (PulseAudio 16.1: 6 ms of CPU per call, measured; text
output parsed where ``-f json`` is missing), each with the binary that opened it; the camera by
``/proc/<pid>/fd`` links to ``/dev/video*`` of those PIDs only. Windows: see captures_windows.py.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Protocol

logger = logging.getLogger(__name__)

MICROPHONE, CAMERA = "microphone", "camera"
PACTL_TIMEOUT_S = 3.0


def normalize(name: str) -> str:
    """A program name as we compare it: lower case, without a folder or a trailing '.exe'."""
    name = name.strip().replace("\\", "/").rsplit("/", 1)[-1].lower()
    return name[:-4] if name.endswith(".exe") else name


@dataclass(frozen=True)
class Capture:
    """One open microphone or camera stream and the program that holds it."""

    app_binary: str       # normalized process name ("chrome", "zoom", "ms-teams")
    app_name: str = ""    # the application's own name where the OS gives one ("Google Chrome")
    kind: str = MICROPHONE
    title: str = ""       # the stream's or window's title where the OS shows one ("Meet - ...")


@dataclass(frozen=True)
class CaptureReading:
    """What a backend saw: the captures, or ``visible`` False and why not (one sentence)."""

    visible: bool
    captures: tuple[Capture, ...] = ()
    why: str = ""


class CaptureBackend(Protocol):
    """The seam: one reading per status interval."""

    def read(self, pids: Mapping[int, str]) -> CaptureReading:
        """The captures open now by any program (``pids``: PID -> name of the ones to inspect)."""


def parse_source_outputs_json(text: str) -> list[dict[str, str]]:
    """The ``properties`` of each capture stream in ``pactl -f json list source-outputs``."""
    data = json.loads(text or "[]")
    return [dict(o.get("properties") or {}) for o in data if isinstance(o, dict)]


PROPERTY = re.compile(r'^\s+([\w.\-]+) = "(.*)"\s*$')


def parse_source_outputs_text(text: str) -> list[dict[str, str]]:
    """The same from the text output of older ``pactl list source-outputs``."""
    streams: list[dict[str, str]] = []
    for line in text.splitlines():
        if line.startswith("Source Output #"):
            streams.append({})
        elif streams and (m := PROPERTY.match(line)):
            streams[-1][m.group(1)] = m.group(2).replace('\\"', '"')
    return streams


def capture_from_properties(props: Mapping[str, str]) -> Capture:
    """One capture stream as a Capture: the binary that opened it, its names."""
    binary = props.get("application.process.binary") or props.get("application.name") or "?"
    titles = [props.get(k, "") for k in ("media.name", "window.title") if props.get(k)]
    return Capture(app_binary=normalize(binary), app_name=props.get("application.name", ""),
                   kind=MICROPHONE, title=" | ".join(titles))


def camera_pids(pids: Mapping[int, str], proc: Path = Path("/proc")) -> set[int]:
    """Which of ``pids`` hold a ``/dev/video*`` open (a camera stream)."""
    holding = set()
    for pid in pids:
        try:
            fds = os.scandir(proc / str(pid) / "fd")
        except OSError:
            continue   # gone, or another user's process
        with fds:
            for fd in fds:
                try:
                    if os.readlink(fd.path).startswith("/dev/video"):
                        holding.add(pid)
                        break
                except OSError:
                    continue
    return holding


class LinuxCaptures:
    """Captures on a Linux desktop: the audio server's capture streams, the camera's users."""

    def __init__(self, pactl: str | None = None) -> None:
        self.pactl = pactl or shutil.which("pactl")
        self.json = True   # pactl understands -f json (PulseAudio 15 and later)

    def read(self, pids: Mapping[int, str]) -> CaptureReading:
        """Capture streams and camera users now; not visible without an audio server."""
        cameras = tuple(Capture(app_binary=normalize(pids[pid]), kind=CAMERA)
                        for pid in sorted(camera_pids(pids)))
        if not self.pactl:
            return CaptureReading(False, cameras, "pactl (pulseaudio-utils) is not installed")
        try:
            streams = self._streams()
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            return CaptureReading(False, cameras, f"no audio server answers: {exc}")
        return CaptureReading(True, tuple(capture_from_properties(s) for s in streams) + cameras)

    def _streams(self) -> list[dict[str, str]]:
        if self.json:
            done = self._pactl("-f", "json", "list", "source-outputs")
            if done.returncode == 0:
                return parse_source_outputs_json(done.stdout)
            # A pactl before PulseAudio 15 (Debian 11, Ubuntu 20.04, Mint 20) refuses "-f"
            # ("invalid option -- 'f'"), in words no list can foresee: whatever the failure,
            # the text form is tried; if it answers, it is used from now on.
            text = self._pactl("list", "source-outputs")
            if text.returncode != 0:
                raise ValueError(_first_line(done.stderr) or f"pactl exit {done.returncode}")
            self.json = False
            logger.info("pactl has no JSON output (%s): reading its text output",
                        _first_line(done.stderr) or f"exit {done.returncode}")
            return parse_source_outputs_text(text.stdout)
        done = self._pactl("list", "source-outputs")
        if done.returncode != 0:
            raise ValueError(_first_line(done.stderr) or f"pactl exit {done.returncode}")
        return parse_source_outputs_text(done.stdout)

    def _pactl(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, LC_ALL="C")   # property names and headers in English
        return subprocess.run([self.pactl or "pactl", *args], capture_output=True, text=True,
                              timeout=PACTL_TIMEOUT_S, env=env, check=False)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


class NoCaptures:
    """An OS whose captures we cannot see: always falls back to process names."""

    def __init__(self, why: str) -> None:
        self.why = why

    def read(self, pids: Mapping[int, str]) -> CaptureReading:
        """Never visible."""
        return CaptureReading(False, (), self.why)


def backend_for_this_os() -> CaptureBackend:
    """The capture backend of the OS the agent runs on."""
    if sys.platform == "win32":
        from agent.captures_windows import WindowsCaptures
        return WindowsCaptures()
    if sys.platform.startswith("linux"):
        return LinuxCaptures()
    return NoCaptures(f"captures cannot be seen on {sys.platform}")
