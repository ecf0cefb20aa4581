"""Is a meeting live on this PC, in which app, seen how. Pure: captures and names in, answer out.

A meeting is a microphone or camera held open by a meeting app or a browser (CONTRACT §6.2): a
Zoom or Teams client left open all day holds neither, a muted participant still holds the
microphone. Where captures cannot be seen, a running meeting app counts (``by`` "process"); a
running browser then does not (it is open all day on every PC).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from agent.captures import MICROPHONE, Capture, CaptureReading, normalize
from protocol.messages import MeetingNow

BY_PROCESS = "process"
# What people call the clients; a NAME not here is reported as its process name.
APP_NAMES = {"zoom": "zoom", "zoom.us": "zoom", "teams": "teams", "ms-teams": "teams",
             "msteams": "teams"}
MEET_MARKS = ("meet - ", "meet.google.com", "google meet")


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
    """The meeting live now, or None. ``running``: normalized names of the running processes."""
    apps = {normalize(a) for a in meeting_apps if a.strip()}
    if not reading.visible:
        running_apps = sorted(apps & set(running))
        return Detected(app_label(running_apps[0]), BY_PROCESS) if running_apps else None
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
    return best[2] if best else None


def worth_a_look(names: dict[int, str], meeting_apps: Iterable[str],
                 browsers: Iterable[str]) -> dict[int, str]:
    """The PIDs (-> name) of meeting apps and browsers: the only ones whose camera use matters."""
    wanted = {normalize(n) for n in (*meeting_apps, *browsers) if n.strip()}
    return {pid: name for pid, name in names.items() if name in wanted}


class MeetingTracker:
    """Keeps ``since`` while a meeting goes on; a new app in the same call keeps it too."""

    def __init__(self) -> None:
        self.since: float | None = None

    def update(self, detected: Detected | None, now: float) -> MeetingNow | None:
        """The status's ``meeting`` field for this reading."""
        if detected is None:
            self.since = None
            return None
        if self.since is None:
            self.since = now
        return MeetingNow(app=detected.app, since=self.since, by=detected.by)
