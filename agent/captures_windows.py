"""Captures on Windows 10/11: Core Audio's capture sessions first, the privacy store as fallback.

Core Audio lists the audio sessions of each capture endpoint with their process and state
(Active while the stream runs; a muted participant's stream still runs). We read it through
pycaw's COM interface definitions (MIT, pure Python over comtypes; a Windows-only dependency).
A browser's window title (the active tab, "Meet - abc-defg-hij - Google Chrome") tells Google
Meet from other sites.

The privacy store (``...\\CapabilityAccessManager\\ConsentStore\\{microphone,webcam}``,
``LastUsedTimeStop`` 0 = in use) is read only when Core Audio cannot be: public reports from
the Windows sensor agents for Home Assistant say it is stale on current Windows 11 builds and
sticks "in use" after some apps, so an entry counts only while its program runs.

Everything that touches Windows is in the small readers at the bottom; the rest is pure and is
tested on Linux with recorded answers (tests/fixtures/windows/).
"""

from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

from agent.captures import CAMERA, MICROPHONE, Capture, CaptureReading, normalize

logger = logging.getLogger(__name__)

SESSION_ACTIVE = 1          # AudioSessionState: 0 inactive, 1 active, 2 expired
CONSENT_KEY = r"Software\Microsoft\Windows\CurrentVersion\CapabilityAccessManager\ConsentStore"
CONSENT_KINDS = {"microphone": MICROPHONE, "webcam": CAMERA}
# Packaged (Store) apps are named by package family; the process names they run as.
PACKAGES = {"msteams": "ms-teams", "microsoftteams": "teams", "zoom.zoomrooms": "zoom"}
_COM = threading.local()   # COM is initialized once per thread and left so (the thread's life)


@dataclass(frozen=True)
class AudioSession:
    """One Core Audio session of a capture endpoint, as read."""

    pid: int
    state: int
    display_name: str = ""


@dataclass(frozen=True)
class ConsentEntry:
    """One app's entry in the privacy store."""

    capability: str     # "microphone" | "webcam"
    app: str            # package family, or NonPackaged path with '#' for '\\'
    last_start: int = 0
    last_stop: int = 0


def captures_from_sessions(sessions: Iterable[AudioSession], names: Mapping[int, str],
                           titles: Mapping[str, list[str]]) -> tuple[Capture, ...]:
    """The active capture sessions as Captures; ``titles``: program name -> its window titles."""
    out = []
    for s in sessions:
        if s.state != SESSION_ACTIVE or s.pid == 0:   # pid 0: the system sounds session
            continue
        binary = normalize(names.get(s.pid, "") or "?")
        out.append(Capture(app_binary=binary, app_name=s.display_name, kind=MICROPHONE,
                           title=" | ".join(titles.get(binary, ()))))
    return tuple(out)


def owner_name(chain: list[str], wanted: set[str]) -> str:
    """The program a capture belongs to: the first of the process and its parents (``chain``,
    normalized names) that is a meeting app or a browser, else the process itself. New Teams
    and other WebView2 apps may capture from a helper (msedgewebview2.exe) under them."""
    return next((name for name in chain if name in wanted), chain[0] if chain else "")


def consent_binary(app: str) -> str:
    """The process name of a privacy-store entry ('C:#...#Zoom.exe' -> 'zoom')."""
    if "#" in app:
        return normalize(app.replace("#", "\\"))
    family = app.split("_", 1)[0].lower()
    return PACKAGES.get(family, family)


def captures_from_consent(entries: Iterable[ConsentEntry], running: set[str]) -> tuple[Capture, ...]:
    """Entries "in use" (stop 0, started) of programs that run now; a closed app's are stale."""
    out = []
    for e in entries:
        binary = consent_binary(e.app)
        if e.last_stop == 0 and e.last_start > 0 and binary in running \
                and e.capability in CONSENT_KINDS:
            out.append(Capture(app_binary=binary, kind=CONSENT_KINDS[e.capability]))
    return tuple(dict.fromkeys(out))


def windows_reading(sessions: Callable[[], list[AudioSession]],
                    consent: Callable[[], list[ConsentEntry]], names: Mapping[int, str],
                    titles: Callable[[], dict[str, list[str]]]) -> CaptureReading:
    """Core Audio when it answers, else the privacy store, else not visible."""
    try:
        found = sessions()
    except Exception as exc:  # noqa: BLE001 - COM errors come in many types; fall back
        why = f"Core Audio cannot be read ({type(exc).__name__}: {exc})"
    else:
        return CaptureReading(True, captures_from_sessions(found, names, titles()))
    try:
        entries = consent()
    except OSError as exc:
        return CaptureReading(False, (), f"{why}; privacy store unreadable: {exc}")
    running = {normalize(n) for n in names.values()}
    return CaptureReading(True, captures_from_consent(entries, running), why)


class WindowsCaptures:
    """The Windows backend: reads the OS through the functions below (Windows only)."""

    def read(self, pids: Mapping[int, str]) -> CaptureReading:
        """Captures now; ``pids``: the meeting apps' and browsers' processes."""
        names = dict(pids)
        return windows_reading(lambda: _core_audio_sessions(names), _consent_entries, names,
                               lambda: _window_titles(names))


def _core_audio_sessions(names: dict[int, str]) -> list[AudioSession]:
    """Every session of every active capture endpoint (fills ``names`` for unseen PIDs)."""
    import comtypes   # Windows only (pycaw's dependency)
    from pycaw.api.audiopolicy import IAudioSessionControl2, IAudioSessionManager2
    from pycaw.api.mmdeviceapi import IMMDeviceEnumerator
    from pycaw.constants import DEVICE_STATE, CLSID_MMDeviceEnumerator, EDataFlow

    if not getattr(_COM, "ready", False):
        # Never uninitialized: COM objects released after CoUninitialize crash the process.
        comtypes.CoInitialize()
        _COM.ready = True
    wanted = set(names.values())
    enumerator = comtypes.CoCreateInstance(CLSID_MMDeviceEnumerator, IMMDeviceEnumerator,
                                           comtypes.CLSCTX_INPROC_SERVER)
    devices = enumerator.EnumAudioEndpoints(EDataFlow.eCapture.value, DEVICE_STATE.ACTIVE.value)
    sessions = []
    for i in range(devices.GetCount()):
        manager = devices.Item(i).Activate(IAudioSessionManager2._iid_, comtypes.CLSCTX_ALL,
                                           None).QueryInterface(IAudioSessionManager2)
        listing = manager.GetSessionEnumerator()
        for j in range(listing.GetCount()):
            control = listing.GetSession(j).QueryInterface(IAudioSessionControl2)
            pid = int(control.GetProcessId())
            if pid and pid not in names:
                names[pid] = _owner(pid, wanted)
            sessions.append(AudioSession(pid, int(control.GetState()),
                                         str(control.GetDisplayName() or "")))
    return sessions


def _owner(pid: int, wanted: set[str]) -> str:
    """The program a session's process belongs to (itself, or a meeting app above it)."""
    import psutil
    try:
        proc = psutil.Process(pid)
        return owner_name([normalize(p.name()) for p in (proc, *proc.parents())], wanted)
    except psutil.Error:
        return ""


def _consent_entries() -> list[ConsentEntry]:
    """The privacy store of every loaded user hive (the agent may run as SYSTEM)."""
    if sys.platform != "win32":   # also tells mypy the rest is Windows code
        raise NotImplementedError("the privacy store exists on Windows only")
    import winreg

    entries: list[ConsentEntry] = []
    roots = [(winreg.HKEY_CURRENT_USER, CONSENT_KEY)]
    with winreg.OpenKey(winreg.HKEY_USERS, "") as users:
        for i in range(winreg.QueryInfoKey(users)[0]):
            sid = winreg.EnumKey(users, i)
            if sid.startswith("S-1-5-21-") and not sid.endswith("_Classes"):
                roots.append((winreg.HKEY_USERS, f"{sid}\\{CONSENT_KEY}"))
    for hive, base in roots:
        for capability in CONSENT_KINDS:
            for sub in ("", "\\NonPackaged"):
                entries += _consent_apps(winreg, hive, f"{base}\\{capability}{sub}", capability)
    return entries


def _consent_apps(winreg, hive, path: str, capability: str) -> list[ConsentEntry]:
    try:
        key = winreg.OpenKey(hive, path)
    except OSError:
        return []
    out = []
    with key:
        for i in range(winreg.QueryInfoKey(key)[0]):
            app = winreg.EnumKey(key, i)
            if app == "NonPackaged":
                continue
            try:
                with winreg.OpenKey(key, app) as sub:
                    start = winreg.QueryValueEx(sub, "LastUsedTimeStart")[0]
                    stop = winreg.QueryValueEx(sub, "LastUsedTimeStop")[0]
            except OSError:
                continue
            out.append(ConsentEntry(capability, app, int(start), int(stop)))
    return out


def _window_titles(names: Mapping[int, str]) -> dict[str, list[str]]:
    """Visible top-level window titles of the given processes, by program name."""
    if sys.platform != "win32":   # also tells mypy the rest is Windows code
        raise NotImplementedError("window titles are read on Windows only")
    import ctypes
    from ctypes import wintypes

    user32 = ctypes.windll.user32
    titles: dict[str, list[str]] = {}

    @ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.HWND, wintypes.LPARAM)
    def each(hwnd, _):
        if user32.IsWindowVisible(hwnd):
            pid = wintypes.DWORD()
            user32.GetWindowThreadProcessId(hwnd, ctypes.byref(pid))
            name = names.get(pid.value)
            length = user32.GetWindowTextLengthW(hwnd) if name else 0
            if length:
                buffer = ctypes.create_unicode_buffer(length + 1)
                user32.GetWindowTextW(hwnd, buffer, length + 1)
                titles.setdefault(normalize(name), []).append(buffer.value)
        return True

    user32.EnumWindows(each, 0)
    return titles
