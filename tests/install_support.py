"""scripts/install-pi.sh run into a temporary root, and what it left there."""

from __future__ import annotations

import hashlib
import re
import subprocess
import threading
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "install-pi.sh"


def install(*args: str) -> subprocess.CompletedProcess:
    """Run the installer; it must succeed."""
    done = subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under root with its kind, mode, mtime and content hash."""
    result = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        result[str(path.relative_to(root))] = (st.st_mode, st.st_mtime_ns, digest)
    return result


def _connects(port: int, user: str, password: str) -> str:
    """The broker's CONNACK reason for this login."""
    answered, reason = threading.Event(), []
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.username_pw_set(user, password)
    client.on_connect = lambda c, u, f, rc, p: (reason.append(str(rc)), answered.set())
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        answered.wait(5)
    finally:
        client.disconnect()
        client.loop_stop()
    return reason[0] if reason else "no answer"


def _as_done(out: str) -> list[str]:
    """The run's lines with a dry run's "[dry-run] " written as a real run's "+ "."""
    return [re.sub(r"^\[dry-run\] ", "+ ", line) for line in out.splitlines()]


def shipped_nut_files(nut: Path, port: int) -> dict[str, str]:
    """Siaga's NUT files from ``nut`` made runnable by a private upsd on ``port``: dummy-ups for
    the USB UPS (without usbhid's delays), upsd listening on 127.0.0.1 only."""
    ups_conf = (nut / "ups.conf").read_text().split("# ----")[0]
    ups_conf = ups_conf.replace("driver = usbhid-ups", "driver = dummy-ups")
    ups_conf = ups_conf.replace("port = auto", "port = meeting.dev")
    ups_conf = re.sub(r"^\s*(offdelay|ondelay)\s*=.*$", "", ups_conf, flags=re.M)  # usbhid-only
    upsd_conf = re.sub(r"^LISTEN .*$", "", (nut / "upsd.conf").read_text(), flags=re.M)
    return {"ups.conf": ups_conf, "upsd.users": (nut / "upsd.users").read_text(),
            "upsd.conf": f"{upsd_conf}\nLISTEN 127.0.0.1 {port}\n"}
