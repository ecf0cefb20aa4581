"""Where a running `siaga demo` is, and `siaga demo power off|low|on` from another terminal.

A demo writes a small JSON state file ($SIAGA_DEMO_STATE or /tmp/siaga-demo-<uid>.json) with
its PID, ports and directory; `siaga demo power` reads it and changes the simulated UPS with
upsrw. Beside it a lock file keeps one demo per state file: the demo takes the lock before it
starts anything and holds it until it ends (the kernel drops it when a demo dies, so a killed
demo never blocks the next one).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil

from siaga.servers import ServerMissing, Upsd

SITE, UPS = "demo-rr1", "meeting"
LOW_RUNTIME_S = 90
POWER = {  # what `siaga demo power X` sets, in this order (status last: runtime is right first)
    "off": {"input.voltage": "0.0", "ups.status": "OB DISCHRG"},
    "low": {"battery.runtime": str(LOW_RUNTIME_S), "battery.charge": "15",
            "input.voltage": "0.0", "ups.status": "OB DISCHRG LB"},
    "on": {"input.voltage": "220.0", "ups.status": "OL CHRG"},
}


def state_path() -> Path:
    """Where a running demo says where it is: $SIAGA_DEMO_STATE or /tmp/siaga-demo-<uid>.json."""
    return Path(os.environ.get("SIAGA_DEMO_STATE") or f"/tmp/siaga-demo-{os.getuid()}.json")


def claim(url: str) -> tuple[int | None, dict[str, Any]]:
    """Take the state file's lock: (its fd, to hold open for the demo's life), or (None, the
    other demo's pid and URL) when a live demo holds it."""
    fd = os.open(state_path().with_name(state_path().name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        try:
            return None, json.loads(os.read(fd, 4096) or b"{}")
        except ValueError:
            return None, {}
        finally:
            os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, json.dumps({"pid": os.getpid(), "dashboard": url}).encode())
    return fd, {}


def save_state(state: dict[str, Any]) -> None:
    """Write the state file whole (a reader never sees half of it)."""
    path = state_path()
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(state, indent=1))
    partial.replace(path)


def running_demo() -> dict[str, Any] | None:
    """The state of a live demo; None (and a stale state file removed) when none runs."""
    path = state_path()
    try:
        state = json.loads(path.read_text())
        alive = psutil.Process(state["pid"]).create_time() == state["pid_created"]
    except (OSError, ValueError, KeyError, TypeError, psutil.Error):
        alive, state = False, None
    if not alive:
        path.unlink(missing_ok=True)
        return None
    return state


def power(level: str) -> int:
    """Change the running demo's UPS: off = on battery, low = battery low, on = mains back."""
    state = running_demo()
    if state is None:
        print("No Siaga demo is running. Start one with `make demo` (or `siaga demo`) first.",
              file=sys.stderr)
        return 1
    upsd = Upsd(Path(state["nut_dir"]), port=state["ups_port"])
    try:
        for var, value in POWER[level].items():
            upsd.set(UPS, **{var.replace(".", "_"): value})
        upsd.wait_status(UPS, POWER[level]["ups.status"], timeout=5)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, TimeoutError, OSError,
            ServerMissing) as exc:
        detail = getattr(exc, "stderr", None) or str(exc)
        detail = detail.decode(errors="replace") if isinstance(detail, bytes) else detail
        print(f"Cannot change the simulated UPS: {detail.strip()}", file=sys.stderr)
        return 1
    print(f'UPS "{UPS}" is now {POWER[level]["ups.status"]}. Watch {state["dashboard"]}/sites/{SITE}')
    return 0
