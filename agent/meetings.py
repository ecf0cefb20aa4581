"""Is a meeting live on this PC, in which app, seen how. Pure: captures and names in, answer out.

A meeting is a microphone or camera held open by a meeting app or a browser (CONTRACT §6.2): a
Zoom or Teams client left open all day holds neither, a muted participant still holds the
microphone. Where captures cannot be seen, a running meeting app counts (``by`` "process"); a
running browser then does not (it is open all day on every PC).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable

from agent.captures import MICROPHONE, Capture, CaptureReading, normalize
from protocol.messages import MeetingNow

BY_PROCESS = "process"
# What people call the clients; a NAME not here is reported as its process name.
APP_NAMES = {"zoom": "zoom", "zoom.us": "zoom", "teams": "teams", "ms-teams": "teams",
             "msteams": "teams"}
MEET_MARKS = ("meet - ", "meet.google.com", "google meet")
# The audio server restarting (PulseAudio or PipeWire after an update, or a crash that systemd
# restarts) hides every capture for a moment, and the app reopens its stream only after the
# server is back; a restart can also fall between two readings, so that all the agent sees is
# the stream gone (a browser switching microphones looks the same). A meeting seen through its
# captures is kept while no capture can be seen (up to BLIND_HOLD_S) and while its app runs
# for REOPEN_S after its stream was last seen (or the captures could be seen again): a restart
# is neither the meeting's end nor a second meeting, and a real end is told REOPEN_S late.
BLIND_HOLD_S = 120.0
REOPEN_S = 10.0


@dataclass(frozen=True)
class Detected:
    """A meeting seen now: which app, by what (``since`` is the tracker's business)."""

    app: str
    by: str


def is_meet(capture: Capture) -> bool:
    """The capture's title or app name shows Google Meet."""
    text = f"{capture.title} | {capture.app_name}".lower()
    return any(mark in text for mark in MEET_MARKS)


def app_label(binary: str) -> str:
    """'zoom', 'teams', or the program's own name."""
    return APP_NAMES.get(binary, binary)


def detect(reading: CaptureReading, running: Iterable[str], meeting_apps: Iterable[str],
           browsers: Iterable[str]) -> Detected | None:
    """The meeting live now, or None. ``running``: normalized names of the running processes.

    A reading that cannot see the microphones may still show cameras (Linux sees them through
    /proc without an audio server): a camera held by a meeting app or a browser is a meeting
    then too, before the fallback to process names."""
    apps = {normalize(a) for a in meeting_apps if a.strip()}
    webs = {normalize(b) for b in browsers if b.strip()}
    best: tuple[int, int, Detected] | None = None
    for c in reading.captures:
        if c.app_binary in apps:
            rank, app = 0, app_label(c.app_binary)
        elif c.app_binary in webs:
            rank, app = (1, "meet-browser") if is_meet(c) else (2, "browser")
        else:
            continue
        key = (rank, 0 if c.kind == MICROPHONE else 1, Detected(app, c.kind))
        if best is None or key[:2] < best[:2]:
            best = key
    if best is None and not reading.visible:
        running_apps = sorted(apps & set(running))
        return Detected(app_label(running_apps[0]), BY_PROCESS) if running_apps else None
    return best[2] if best else None


def worth_a_look(names: dict[int, str], meeting_apps: Iterable[str],
                 browsers: Iterable[str]) -> dict[int, str]:
    """The PIDs (-> name) of meeting apps and browsers: the only ones whose camera use matters."""
    wanted = {normalize(n) for n in (*meeting_apps, *browsers) if n.strip()}
    return {pid: name for pid, name in names.items() if name in wanted}


class MeetingTracker:
    """Keeps ``since`` while a meeting goes on; a new app in the same call keeps it too, and so
    does a restart of the audio server (BLIND_HOLD_S, REOPEN_S)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.since: float | None = None
        self.current: MeetingNow | None = None
        self.clock = clock
        self._seen_at: float | None = None    # clock: the last reading that showed the meeting
        self._blind = False                   # the last reading could not see captures
        self._back_at: float | None = None    # clock: captures visible again after a blind spell

    def update(self, detected: Detected | None, now: float, visible: bool = True,
               closed: bool = False) -> MeetingNow | None:
        """The status's ``meeting`` field for this reading (``visible``: could the captures be
        seen; ``closed``: no meeting app nor browser runs, so a meeting has ended for sure;
        ``now``: the wall clock, for ``since``)."""
        mono = self.clock()
        if not visible:
            self._blind, self._back_at = True, None
        elif self._blind:
            self._blind, self._back_at = False, mono
        if not closed and self._held(detected, visible, mono):
            return self.current
        if detected is None:
            self.since = self.current = self._seen_at = None
            return None
        if self.since is None:
            self.since = now
        self._seen_at = mono
        self.current = MeetingNow(app=detected.app, since=self.since, by=detected.by)
        return self.current

    def _held(self, detected: Detected | None, visible: bool, mono: float) -> bool:
        """A meeting seen by its captures goes on through an audio server's restart."""
        if self.current is None or self.current.by == BY_PROCESS or self._seen_at is None:
            return False
        if not visible:   # nothing can be seen: what was seen goes on (not "by process")
            return mono - self._seen_at <= BLIND_HOLD_S
        return detected is None and mono - max(self._seen_at, self._back_at or 0.0) <= REOPEN_S
