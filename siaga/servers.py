"""Private upsd + dummy-ups and mosquitto on free loopback ports, for `siaga demo` and the tests.

Each server runs in the foreground with its PID held, its files in a directory we own, and is
stopped by that PID (TERM, up to 5 s, then KILL). Facts behind the details are measured in
shared/TESTING.md: call /lib/nut/upsd directly (the /sbin wrapper does nothing under MODE=none),
``-u root`` when root, wait for a real status rather than the port (upsd says WAIT for ~2 s).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

NUT_BIN = Path("/lib/nut")
UPSD_USER, UPSD_PASSWORD = "siaga", "siaga-test"
# What upsd answers while a driver is not (yet) giving it data: worth asking again.
NOT_YET_READY = ("DATA-STALE", "DRIVER-NOT-CONNECTED")

DEFAULT_UPS = {
    "ups.status": "OL",
    "battery.charge": "100",
    "battery.runtime": "1800",
    "ups.load": "35",
    "input.voltage": "220.0",
    "battery.date": "2024/01/15",
    "ups.test.result": "Done and passed",
    "ups.mfr": "Siaga",
    "ups.model": "Simulated UPS",
}


class ServerMissing(RuntimeError):
    """A server program is not installed."""


# Ports for our servers come from below the kernel's ephemeral range: a port the kernel handed
# out (bind to 0) is also what it gives every outgoing connection, so between our pick and the
# server's bind (or a server's restart on its port) any client could take it ("Address already in
# use"). Each pytest-xdist worker picks from its own slice, so two workers never pick alike.
PORT_FLOOR = 10000
PORT_SLICES = 16
_handed: set[int] = set()


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _port_slice() -> range:
    low = _ephemeral_low()
    if low - PORT_FLOOR < PORT_SLICES * 100:      # a machine whose ephemeral range starts low
        return range(0)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    n = int(worker) % PORT_SLICES if worker.isdigit() else 0
    width = (low - PORT_FLOOR) // PORT_SLICES
    return range(PORT_FLOOR + n * width, PORT_FLOOR + (n + 1) * width)


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody uses right now, outside the ephemeral range (no
    outgoing connection can take it later), never handed out twice by this process."""
    ports = _port_slice()
    for _ in range(2):                 # every port of the slice handed out: start over once
        if not ports:
            break
        start = random.randrange(len(ports))
        for k in range(len(ports)):
            port = ports[(start + k) % len(ports)]
            if port not in _handed and _bindable(port):
                _handed.add(port)
                return port
        _handed.difference_update(ports)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_program(path: str, package: str) -> str:
    """The program's path; ServerMissing naming the Debian package when it is not there."""
    found = path if os.access(path, os.X_OK) else shutil.which(path)
    if not found:
        raise ServerMissing(f"{path} not found: install the Debian package {package}")
    return found


def stop_process(proc: subprocess.Popen | None, timeout: float = 5.0) -> None:
    """TERM, wait up to ``timeout``, then KILL; never by name."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGCONT)  # a frozen process cannot act on TERM
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _root_args() -> list[str]:
    return ["-u", "root"] if os.geteuid() == 0 else []


@dataclass
class Upsd:
    """upsd with one dummy-ups driver per UPS name, in ``directory``."""

    directory: Path
    names: tuple[str, ...] = ("meeting",)
    port: int = field(default_factory=free_port)
    upsd: subprocess.Popen | None = None
    drivers: dict[str, subprocess.Popen] = field(default_factory=dict)
    _mtime: float = 0.0

    @property
    def env(self) -> dict[str, str]:
        d = str(self.directory)
        return {**os.environ, "NUT_CONFPATH": d, "NUT_STATEPATH": d, "NUT_ALTPIDPATH": d}

    def start(self, values: dict[str, str] | None = None, wait_for: str = "OL") -> "Upsd":
        """Write the config, start every driver and upsd, wait until each UPS says ``wait_for``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        find_program(str(NUT_BIN / "upsd"), "nut-server")
        ups_conf = ["pollinterval = 1"]
        for name in self.names:
            ups_conf += [f"[{name}]", "  driver = dummy-ups", f"  port = {name}.dev",
                         '  desc = "Siaga simulated UPS"']
            self.write_values(name, {**DEFAULT_UPS, **(values or {})})
        self._write("ups.conf", "\n".join(ups_conf))
        self._write("upsd.conf", f"LISTEN 127.0.0.1 {self.port}\nMAXAGE 5\n")
        self._write("upsd.users", f"[{UPSD_USER}]\n  password = {UPSD_PASSWORD}\n"
                                  "  actions = SET\n  instcmds = ALL\n")
        for name in self.names:
            self.start_driver(name)
        self.start_upsd()
        if wait_for:
            for name in self.names:
                self.wait_status(name, wait_for)
        return self

    def _write(self, name: str, text: str) -> None:
        path = self.directory / name
        path.write_text(text + "\n")
        path.chmod(0o600)

    def _log(self, name: str):
        return open(self.directory / f"{name}.log", "ab")

    def start_driver(self, name: str) -> None:
        """Start (or restart) the dummy-ups driver of ``name``."""
        stop_process(self.drivers.get(name))
        for stale in self.directory.glob(f"dummy-ups-{name}*"):
            stale.unlink(missing_ok=True)
        with self._log(f"driver-{name}") as log:
            self.drivers[name] = subprocess.Popen(
                [str(NUT_BIN / "dummy-ups"), "-a", name, "-F", *_root_args()],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def start_upsd(self) -> None:
        """Start upsd; give drivers a second to create their sockets first."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not all(
            any(self.directory.glob(f"dummy-ups-{n}*")) for n in self.names if n in self.drivers
        ):
            time.sleep(0.05)
        with self._log("upsd") as log:
            self.upsd = subprocess.Popen([str(NUT_BIN / "upsd"), "-F", *_root_args()],
                                         env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def write_values(self, name: str, values: dict[str, str]) -> None:
        """Rewrite ``name``'s .dev file; each write gets a later whole-second mtime."""
        path = self.directory / f"{name}.dev"
        path.write_text("".join(f"{k}: {v}\n" for k, v in values.items()))
        self._mtime = max(time.time(), self._mtime + 1.0)
        os.utime(path, (self._mtime, self._mtime))

    def set(self, name: str = "meeting", **values: str) -> None:
        """Change variables of a running UPS with upsrw (ups_status="OB" sets ups.status)."""
        upsrw = find_program("upsrw", "nut-client")
        for key, value in values.items():
            var = key.replace("_", ".")
            command = [upsrw, "-s", f"{var}={value}", "-u", UPSD_USER, "-p", UPSD_PASSWORD,
                       f"{name}@127.0.0.1:{self.port}"]
            # A driver just started, restarted or thawed (SIGCONT) is refused for a moment
            # (ERR DATA-STALE / DRIVER-NOT-CONNECTED until its next dump): ask again for up to 10 s.
            deadline = time.monotonic() + 10
            while True:
                done = subprocess.run(command, capture_output=True, text=True, timeout=10)
                if done.returncode == 0:
                    break
                if time.monotonic() > deadline or not any(
                        word in done.stdout + done.stderr for word in NOT_YET_READY):
                    raise subprocess.CalledProcessError(done.returncode, command, done.stdout,
                                                        done.stderr)
                time.sleep(0.2)

    def read(self, name: str = "meeting") -> dict[str, str]:
        """``upsc`` of one UPS; {} when upsd cannot answer."""
        upsc = find_program("upsc", "nut-client")
        out = subprocess.run([upsc, f"{name}@127.0.0.1:{self.port}"], capture_output=True,
                             text=True, timeout=10)
        return dict(line.split(": ", 1) for line in out.stdout.splitlines() if ": " in line)

    def wait_status(self, name: str, status: str, timeout: float = 15) -> None:
        """Wait until ``ups.status`` of ``name`` is ``status``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.read(name).get("ups.status") == status:
                return
            time.sleep(0.1)
        raise TimeoutError(f"UPS {name} did not report {status}; see {self.directory}/*.log")

    def stop_upsd(self) -> None:
        """Stop upsd alone."""
        stop_process(self.upsd)

    def stop(self) -> None:
        """Stop upsd and every driver."""
        self.stop_upsd()
        for proc in self.drivers.values():
            stop_process(proc)


@dataclass
class Mosquitto:
    """A mosquitto broker on a free loopback port, with no persistence."""

    directory: Path
    port: int = field(default_factory=free_port)
    extra: str = ""
    proc: subprocess.Popen | None = None

    def start(self) -> "Mosquitto":
        """Start the broker and wait until it accepts connections."""
        program = find_program("/usr/sbin/mosquitto", "mosquitto")
        self.directory.mkdir(parents=True, exist_ok=True)
        conf = self.directory / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "persistence false", "log_dest stderr",
                 "set_tcp_nodelay true", "allow_anonymous true" if "password_file" not in self.extra
                 else "allow_anonymous false", self.extra]
        if os.geteuid() == 0:
            lines.append("user root")
        conf.write_text("\n".join(lines) + "\n")
        with open(self.directory / "mosquitto.log", "ab") as log:
            self.proc = subprocess.Popen([program, "-c", str(conf)], stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited; see {self.directory}/mosquitto.log")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("mosquitto did not start listening")

    def stop(self) -> None:
        """Stop the broker."""
        stop_process(self.proc)
