"""The PC's telemetry with psutil: CPU, memory, the recordings disk, uptime, the meeting.

A meeting is a capture (microphone, camera) held by a meeting app or a browser (captures.py,
meetings.py); where captures cannot be seen, a running meeting app counts, and the log says so
once.

The process scan is the only part that could cost much (hundreds of processes every few
seconds), so it reads one attribute (the name) and only for processes it has not seen before.
On POSIX a process can change its name when it execs: a process caught between fork and exec
shows its parent's name, so a new process's name is read once more on the next scan, and the
whole table is read again once a minute.
"""

from __future__ import annotations

import logging
import os
import datetime as dt
import platform
import socket
import time
from pathlib import Path
from typing import Iterable

import psutil

from agent.captures import CaptureBackend, CaptureReading, backend_for_this_os
from agent.conversion import ConverterWatch
from agent.disk_history import DiskHistory, gb_per_day
from agent.meetings import MeetingTracker, detect, worth_a_look
from protocol.config import AgentSection
from protocol.messages import AgentStatus, MeetingNow

logger = logging.getLogger(__name__)

FULL_SCAN_AFTER_S = 60.0
GB = 1024 ** 3


def normalize(name: str) -> str:
    """A process name as we compare it: lower case, without a trailing '.exe'."""
    name = name.strip().lower()
    return name[:-4] if name.endswith(".exe") else name


class ProcessScanner:
    """Which of some process names run now; remembers the names of the PIDs it has seen."""

    def __init__(self, clock=time.monotonic) -> None:
        self._names: dict[int, str] = {}
        self._young: set[int] = set()   # first seen on the last scan: read their name again
        self._clock = clock
        self._full_scan_at = float("-inf")
        self.name_reads = 0  # how many names were read from the OS (for tests and the bench)

    def running(self) -> set[str]:
        """The normalized names of every process now running."""
        now = self._clock()
        full = now - self._full_scan_at >= FULL_SCAN_AFTER_S
        if full:
            self._names.clear()
            self._full_scan_at = now
        pids = set(psutil.pids())
        for gone in self._names.keys() - pids:
            del self._names[gone]
        new = pids - self._names.keys()
        for pid in new | (self._young & pids):
            self._names[pid] = self._read_name(pid)
        self._young = set() if full else new
        return set(self._names.values()) - {""}

    def pids(self) -> dict[int, str]:
        """PID -> normalized name of the processes seen by the last scan."""
        return dict(self._names)

    def _read_name(self, pid: int) -> str:
        self.name_reads += 1
        try:
            return normalize(psutil.Process(pid).name())
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
            return ""


def any_running(wanted: Iterable[str], running: set[str]) -> bool:
    """True when one of ``wanted`` (matched case-insensitively, '.exe' optional) runs."""
    return any(normalize(w) in running for w in wanted if w.strip())


def os_name() -> str:
    """'Windows 11', 'Debian GNU/Linux 12 (bookworm)', ...: what a person calls this OS."""
    system = platform.system()
    if system == "Windows":
        build = platform.version().split(".")[-1]
        release = "11" if build.isdigit() and int(build) >= 22000 else platform.release()
        return f"Windows {release}"
    if system == "Linux":
        try:
            return platform.freedesktop_os_release().get("PRETTY_NAME", "Linux")
        except OSError:
            return "Linux"
    return f"{system} {platform.release()}".strip()


def disk_path(recordings_dir: str) -> Path:
    """The nearest existing folder of ``recordings_dir`` (the home folder when empty)."""
    path = Path(recordings_dir).expanduser() if recordings_dir else Path.home()
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            return candidate
    return Path.home()


class Telemetry:
    """Builds one AgentStatus per call; cheap enough to call every few seconds."""

    def __init__(self, pc_id: str, section: AgentSection,
                 captures: CaptureBackend | None = None,
                 disk_history: DiskHistory | None = None) -> None:
        self.pc_id = pc_id
        self.section = section
        self.scanner = ProcessScanner()
        self.converter = ConverterWatch()
        self.disk_history = disk_history
        self.captures = captures or backend_for_this_os()
        self.meetings = MeetingTracker()
        self.capture_why: str | None = None   # why captures cannot be seen (logged on change)
        self._say_visibility(self.captures.read({}), starting=True)
        self.hostname = socket.gethostname()
        self.os = os_name()
        self.boot_time = psutil.boot_time()
        self.disk: Path | None = None          # the folder whose disk is watched (_disk)
        self._disk_failed = False
        psutil.cpu_percent(interval=None)  # the first call only starts the measurement

    def collect(self) -> AgentStatus:
        """The PC's status now."""
        now = time.time()
        running = self.scanner.running()
        meeting = self.meeting(running, now)
        free, total, disk = self._disk()
        converters = {normalize(n) for n in self.section.converter_processes if n.strip()}
        converting = self.converter.converting(
            {pid: name for pid, name in self.scanner.pids().items() if name in converters})
        return AgentStatus(
            pc=self.pc_id, ts=now, hostname=self.hostname, os=self.os,
            cpu_pct=round(psutil.cpu_percent(interval=None), 1),
            mem_pct=round(psutil.virtual_memory().percent, 1),
            disk_free_gb=free, disk_total_gb=total,
            uptime_s=round(max(0.0, now - self.boot_time)),
            meeting_app=meeting is not None, meeting=meeting, converting=converting,
            disk_used_gb_day=self._gb_per_day(free, total, disk, now))

    def _gb_per_day(self, free: float | None, total: float | None, disk: int | None,
                    now: float) -> float | None:
        """The recordings disk's growth per day (14 days), kept across restarts."""
        if self.disk_history is None or free is None or total is None:
            return None if self.disk_history is None else gb_per_day(self.disk_history.days)
        return self.disk_history.record(dt.date.fromtimestamp(now), total - free, disk)

    def meeting(self, running: set[str], now: float) -> MeetingNow | None:
        """The meeting live now (None: none), from the captures or the process names."""
        pids = worth_a_look(self.scanner.pids(), self.section.meeting_apps, self.section.browsers)
        if not pids:   # no meeting app nor browser runs: nothing to ask the OS (idle PCs pay 0)
            return self.meetings.update(None, now, closed=True)
        try:
            reading = self.captures.read(pids)
        except Exception as exc:  # noqa: BLE001 - a backend failure means: cannot see captures
            reading = CaptureReading(False, (), f"{type(exc).__name__}: {exc}")
        self._say_visibility(reading)
        found = detect(reading, running, self.section.meeting_apps, self.section.browsers)
        return self.meetings.update(found, now, reading.visible)

    def _say_visibility(self, reading: CaptureReading, starting: bool = False) -> None:
        """Log once when captures cannot be seen (or only through a fallback), once when they can."""
        why = reading.why or None
        if starting and not why:
            logger.info("meetings are seen by their microphone and camera use")
        if why == self.capture_why:
            return
        if why and not reading.visible:
            logger.warning("microphone and camera use cannot be seen (%s); a meeting is a running "
                           "meeting app (by process) until they can", why)
        elif why:
            logger.warning("captures seen through a fallback: %s", why)
        elif self.capture_why is not None:
            logger.info("microphone and camera use can be seen again")
        self.capture_why = why

    def _disk(self) -> tuple[float | None, float | None, int | None]:
        """(free GB, total GB, device) of the recordings folder's disk, found again each time:
        a drive mounted after the agent started (USB, D: late) is watched once it is there."""
        wanted = self.section.recordings_dir
        path = disk_path(wanted)
        if path != self.disk:
            if wanted and path != Path(wanted).expanduser():
                logger.warning("agent.recordings_dir %s does not exist; watching the disk of %s",
                               wanted, path)
            elif self.disk is not None:
                logger.info("agent.recordings_dir %s is there now; watching its disk", wanted)
            self.disk = path
        try:
            usage = psutil.disk_usage(os.fspath(path))
            device = os.stat(path).st_dev
        except OSError as exc:
            if not self._disk_failed:
                logger.warning("cannot read the disk of %s: %s", path, exc)
            self._disk_failed = True
            return None, None, None
        self._disk_failed = False
        return round(usage.free / GB, 1), round(usage.total / GB, 1), device
