"""One agent per PC: `siaga agent` (or ``--no-banner``) refuses to run beside another for the
same site and ``pc_id``.

Two such agents share one MQTT client id: the broker drops one whenever the other connects (the
PC flaps between online and offline every second), and each command reaches whichever is
connected. A ``cancel`` that reaches the one without the pending shutdown is acked "nothing to
cancel" and the other shuts the PC down on mains. It happens by hand: the agent run "for a
first try" while the installed one runs, or a systemd unit and an autostart entry both.

Two agents of the same PC id on different brokers (the tests' own) do not meet, so the claim
is per broker too. The claim is held by the process and released by the OS when it ends, however it ends: on Linux
an abstract Unix socket (no file), on Windows a named mutex in the ``Global\\`` namespace (also
seen across users and sessions: the SYSTEM task's), elsewhere a ``flock`` on a file in the
temporary folder. The banner-only process (``--banner-only``) claims nothing: it runs beside the
agent by design.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
import tempfile
import time
from typing import Any

TEXTS = {
    "taken": ("siaga agent: agen lain untuk PC {pc} (situs {site}) sudah berjalan di komputer "
              "ini; yang ini berhenti. Dua agen saling memutus koneksi broker dan pembatalan "
              "shutdown bisa sampai ke agen yang salah. Hentikan yang lain dulu (Windows: "
              "schtasks /End /TN \\Siaga\\Agent; Linux: systemctl --user stop siaga-agent)",
              "siaga agent: another agent for PC {pc} (site {site}) already runs on this computer; "
              "this one stops. Two agents drop each other from the broker and a shutdown's "
              "cancel can reach the wrong one. Stop the other first (Windows: "
              "schtasks /End /TN \\Siaga\\Agent; Linux: systemctl --user stop siaga-agent)"),
}

CLAIM_WAIT_S = 5.0
ERROR_ALREADY_EXISTS = 183
ERROR_ACCESS_DENIED = 5   # the mutex exists and belongs to another user (the SYSTEM task's)


def name_of(site: str, pc: str, host: str, port: int) -> str:
    """The claim's name: one per MQTT client id and broker (agents of the same PC on two
    brokers never meet), hashed: an abstract socket's name has at most 107 bytes."""
    digest = hashlib.sha256(f"{site}\0{pc}\0{host.casefold()}\0{port}".encode()).hexdigest()
    return f"siaga-agent-{digest[:32]}"


def refusal(site: str, pc: str, language: str) -> str:
    """Why this agent stops, in ``language`` ("id" unless "en")."""
    return TEXTS["taken"][1 if language == "en" else 0].format(site=site, pc=pc)


def claim(name: str) -> Any | None:
    """Hold ``name`` for this process: a handle to keep (the claim ends with it or with the
    process), or None when another process holds it."""
    if sys.platform == "win32":
        return _claim_windows(name)
    if sys.platform.startswith("linux"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        try:
            sock.bind("\0" + name)
        except OSError:   # EADDRINUSE: bound by a live process (the kernel frees it at exit)
            sock.close()
            return None
        return sock
    return _claim_file(name)


def claim_within(name: str, wait_s: float = CLAIM_WAIT_S) -> Any | None:
    """``claim``, tried for up to ``wait_s``: the agent an update has just ended (``schtasks
    /End`` then ``/Run``) may still be on its way out."""
    deadline = time.monotonic() + wait_s
    while (held := claim(name)) is None and time.monotonic() < deadline:
        time.sleep(0.5)
    return held


def _claim_windows(name: str) -> Any | None:
    import ctypes
    from ctypes import wintypes
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    kernel32.CreateMutexW.restype = wintypes.HANDLE
    kernel32.CreateMutexW.argtypes = [ctypes.c_void_p, wintypes.BOOL, wintypes.LPCWSTR]
    handle = kernel32.CreateMutexW(None, False, "Global\\" + name)
    error = ctypes.get_last_error()  # type: ignore[attr-defined]
    if not handle:
        if error == ERROR_ACCESS_DENIED:
            return None
        raise OSError(error, f"CreateMutexW failed ({error})")
    if error == ERROR_ALREADY_EXISTS:
        kernel32.CloseHandle(handle)
        return None
    return handle


def _claim_file(name: str) -> Any | None:
    import fcntl
    fd = os.open(os.path.join(tempfile.gettempdir(), name + ".lock"), os.O_RDONLY | os.O_CREAT,
                 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd
