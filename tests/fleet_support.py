"""Two real mosquitto brokers bridged with the shipped examples (TLS, passwords, ACLs), for the
bridge tests and bench/fleet_load.py: a throwaway CA made with openssl, ports filled in."""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from dashboard.store.store import Store
from siaga.servers import Mosquitto, find_program, free_port

REPO = Path(__file__).resolve().parents[1]
MOSQUITTO = REPO / "firmware_config" / "mosquitto"
EXAMPLE_SITE = "bappeda-rr1"
EXAMPLE_ADDRESS = "broker.pemda.example.go.id:8883"
PI_USERS = {"siaga-edge": "edge-pw", "siaga-dashboard": "dash-pw", "meeting-pc": "pc1-pw"}
CENTRAL_DASHBOARD = ("siaga-dashboard", "central-dash-pw")


def journal(tmp_path: Path) -> list[tuple]:
    """The edge's journal in ``tmp_path``, as (seq, ts, kind, detail), oldest first."""
    with sqlite3.connect(tmp_path / "journal.sqlite3") as db:
        rows = db.execute("SELECT seq, ts, kind, detail FROM events ORDER BY seq").fetchall()
    return [(seq, ts, kind, json.loads(detail)) for seq, ts, kind, detail in rows]


def held(store: Store, site: str) -> list[tuple]:
    """What a dashboard holds of ``site``, as (seq, ts, kind, detail), oldest first."""
    return [(e.seq, e.ts, e.kind, e.detail) for e in reversed(store.events(site, 10000))]


def with_login(path: Path, user: str, password: str) -> Path:
    """Add a username and a password file to the [mqtt] table of a siaga.toml."""
    secret = path.parent / f"{user}.password"
    secret.write_text(password + "\n")
    text = path.read_text().replace("[mqtt]\n", f'[mqtt]\nusername = "{user}"\n'
                                                f'password_file = "{secret}"\n', 1)
    path.write_text(text)
    return path


def make_certificates(directory: Path) -> dict[str, Path]:
    """A CA and a server certificate for 127.0.0.1 (EC keys: fast), valid two days."""
    openssl = find_program("openssl", "openssl")
    directory.mkdir(parents=True, exist_ok=True)
    p = {name: directory / name for name in ("ca.key", "ca.crt", "central.key", "central.csr",
                                             "central.crt", "san.ext")}
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = lambda *argv: subprocess.run([openssl, *argv], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", *ec, "-keyout", p["ca.key"], "-out", p["ca.crt"], "-days", "2",
        "-subj", "/CN=siaga-test-ca")
    run("req", *ec, "-keyout", p["central.key"], "-out", p["central.csr"], "-subj", "/CN=127.0.0.1")
    p["san.ext"].write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", p["central.csr"], "-CA", p["ca.crt"], "-CAkey", p["ca.key"],
        "-CAcreateserial", "-out", p["central.crt"], "-days", "2", "-extfile", p["san.ext"])
    return p


def password_file(path: Path, users: dict[str, str]) -> Path:
    """A mosquitto password file with ``users``."""
    tool = find_program("mosquitto_passwd", "mosquitto")
    for i, (user, password) in enumerate(users.items()):
        subprocess.run([tool, *(["-c"] if i == 0 else []), "-b", str(path), user, password],
                       check=True)
    return path


@dataclass
class Fleet:
    """The central broker (TLS port for bridges, plain loopback port for the dashboard) and the
    room brokers bridged to it."""

    central: Mosquitto
    tls_port: int
    certs: dict[str, Path]
    directory: Path
    central_users: dict[str, str]

    def room_broker(self, site: str, bridge_password: str | None = None,
                    bridge_port: int | None = None) -> Mosquitto:
        """A Pi's broker with the shipped siaga.conf, siaga.acl and siaga-bridge.conf."""
        d = self.directory / f"pi-{site}"
        d.mkdir(parents=True, exist_ok=True)
        passwd = password_file(d / "siaga.passwd", PI_USERS)
        conf = (MOSQUITTO / "siaga.conf").read_text()
        conf = re.sub(r"^(listener|certfile|keyfile) .*$", "", conf, flags=re.M)
        conf = conf.replace("/etc/mosquitto/siaga.passwd", str(passwd))
        conf = conf.replace("/etc/mosquitto/siaga.acl", str(MOSQUITTO / "siaga.acl"))
        bridge = bridge_config(site, f"127.0.0.1:{bridge_port or self.tls_port}",
                               self.certs["ca.crt"],
                               bridge_password or self.central_users[site])
        extra = f"{conf}\n{bridge}\npersistence true\npersistence_location {d}/\n"
        return Mosquitto(d, extra=extra)


class Uplink:
    """The room's uplink as a TCP relay between its bridge and the central broker's TLS port
    (``room_broker(bridge_port=uplink.port)``): ``cut()`` breaks the link with both brokers still
    running (the central one then queues the room's edge commands), ``mend()`` brings it back."""

    def __init__(self, target_port: int) -> None:
        self.port, self.target = free_port(), target_port
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self.mend()

    def mend(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            sockets, self._open = self._open, []
            if self._listener is not None:
                sockets.append(self._listener)
                self._listener = None
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                near, _ = listener.accept()
                far = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                return
            with self._lock:
                if self._listener is not listener:   # cut meanwhile
                    near.close()
                    far.close()
                    return
                self._open += [near, far]
            for a, b in ((near, far), (far, near)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def bridge_config(site: str, address: str, cafile: Path, password: str) -> str:
    """The shipped siaga-bridge.conf for ``site``, as install-pi.sh --central writes it."""
    text = (MOSQUITTO / "siaga-bridge.conf").read_text()
    text = text.replace(EXAMPLE_ADDRESS, address).replace(EXAMPLE_SITE, site)
    text = text.replace("/etc/mosquitto/certs/central-ca.crt", str(cafile))
    return text.replace("remote_password CHANGE-ME", f"remote_password {password}")


def central_broker(directory: Path, sites: list[str], extra: str = "",
                   acl_extra: str = "", users: dict[str, str] | None = None) -> Fleet:
    """The shipped siaga-central.conf and .acl with a throwaway CA; not started. ``acl_extra``
    and ``users`` add rules and logins (the benchmark's region-wide bridge)."""
    certs = make_certificates(directory / "certs")
    users = {**{site: f"{site}-bridge-pw" for site in sites}, **(users or {})}
    users[CENTRAL_DASHBOARD[0]] = CENTRAL_DASHBOARD[1]
    d = directory / "central"
    d.mkdir(parents=True, exist_ok=True)
    passwd = password_file(d / "siaga-central.passwd", users)
    acl = MOSQUITTO / "siaga-central.acl"
    if acl_extra:
        (d / acl.name).write_text(acl.read_text() + "\n" + acl_extra + "\n")
        acl = d / acl.name
    tls_port = free_port()
    conf = (MOSQUITTO / "siaga-central.conf").read_text()
    conf = conf.replace("listener 8883", f"listener {tls_port} 127.0.0.1")
    conf = re.sub(r"^listener 1883 .*$", "", conf, flags=re.M)  # Mosquitto() adds its own
    for name in ("central.crt", "central.key", "central-ca.crt"):
        conf = conf.replace(f"/etc/mosquitto/certs/{name}",
                            str(certs["ca.crt" if name == "central-ca.crt" else name]))
    conf = conf.replace("/etc/mosquitto/siaga-central.passwd", str(passwd))
    conf = conf.replace("/etc/mosquitto/siaga-central.acl", str(acl))
    conf += f"\npersistence_location {d}/\n{extra}\n"
    return Fleet(Mosquitto(d, extra=conf), tls_port, certs, directory, users)


def started(server, request: pytest.FixtureRequest):
    server.start()
    request.addfinalizer(server.stop)
    request.addfinalizer(lambda: _logs_on_failure(request, server.directory))
    return server


def _logs_on_failure(request, directory: Path) -> None:
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for log in sorted(directory.glob("*.log")):
            print(f"----- {log} -----\n{log.read_text(errors='replace')[-4000:]}")
