"""systemd's notify protocol without a dependency: READY=1, WATCHDOG=1, STOPPING=1.

Under a unit with ``Type=notify`` systemd sets ``$NOTIFY_SOCKET`` (a path, or ``@name`` for an
abstract socket) and, with ``WatchdogSec=``, ``$WATCHDOG_USEC``. Outside systemd both are unset
and every call is a cheap no-op, so the daemon can always call them.
"""

from __future__ import annotations

import logging
import os
import socket

logger = logging.getLogger(__name__)


def notify(state: str) -> bool:
    """Send ``state`` (e.g. "READY=1") to systemd; False when not under systemd or on error."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # an abstract socket: a leading NUL, no file
    elif not address.startswith("/"):
        logger.warning("NOTIFY_SOCKET %r is neither a path nor @name; not notifying", address)
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError as exc:
        logger.warning("cannot notify systemd (%s): %s", state.split("=")[0], exc)
        return False
    return True


def watchdog_interval() -> float | None:
    """Seconds between WATCHDOG=1 pings (half of $WATCHDOG_USEC), or None without a watchdog."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if pid and pid != str(os.getpid()):
        return None  # the watchdog is meant for another process (e.g. our parent)
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 2 / 1e6 if value > 0 else None
