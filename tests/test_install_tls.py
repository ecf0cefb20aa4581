"""TLS on the LAN by default (issue 12 item 3): install-pi.sh makes a local CA and the broker's
certificate with openssl, the installed mosquitto config serves the LAN over TLS only and plain
MQTT only on 127.0.0.1; a real `siaga agent` logs in over TLS with the CA from the install, and
`siaga check` says when the installed certificate expires within 30 days."""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from protocol.config import MqttConfig
from protocol.mqtt import MqttLink
from siaga.servers import Mosquitto, find_program, free_port, stop_process
from tests.agent_helpers import PC, SITE, write_agent_config
from tests.install_support import _connects, install, snapshot
from tests.waiting import wait_until

# A plain MQTT 3.1.1 CONNECT (client id "x"): what a PC without TLS would send.
PLAIN_CONNECT = bytes([0x10, 13, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 30, 0, 1]) + b"x"


def openssl(*args: str) -> str:
    """Run openssl; its output (it must succeed)."""
    done = subprocess.run([find_program("openssl", "openssl"), *args], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


def not_after(cert: Path) -> float:
    """The certificate's end of validity, epoch seconds."""
    return ssl.cert_time_to_seconds(openssl("x509", "-noout", "-enddate", "-in", str(cert))
                                    .strip().split("=", 1)[1])


def test_install_makes_a_ca_and_a_broker_certificate_for_this_pi_once(tmp_path: Path) -> None:
    """The chain verifies, the SANs name this Pi, the CA key is 0600; a second run keeps both."""
    root = tmp_path / "root"
    out = install("--root", str(root), "--no-venv").stdout
    etc = root / "etc/siaga"
    ca, cert = etc / "siaga-ca.crt", etc / "siaga-broker.crt"
    assert openssl("verify", "-CAfile", str(ca), str(cert)).strip() == f"{cert}: OK"
    sans = openssl("x509", "-noout", "-ext", "subjectAltName", "-in", str(cert))
    host = socket.gethostname().split(".")[0]
    assert f"DNS:{host}," in sans and f"DNS:{host}.local," in sans and "IP Address:127.0.0.1" in sans
    for ip in subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split():
        assert ":" in ip or f"IP Address:{ip}" in sans, (ip, sans)
    assert (etc / "siaga-ca.key").stat().st_mode & 0o777 == 0o600
    assert (etc / "siaga-broker.key").stat().st_mode & 0o777 == 0o640
    assert 3640 < (not_after(ca) - time.time()) / 86400 <= 3650
    assert 815 < (not_after(cert) - time.time()) / 86400 <= 825
    assert "/etc/siaga/siaga-ca.crt" in out and 'ca_file = "siaga-ca.crt"' in out
    before = snapshot(root)
    second = install("--root", str(root), "--no-venv").stdout
    assert snapshot(root) == before and "Nothing to do" in second
    assert "ok: /etc/siaga/siaga-broker.crt exists, kept as it is" in second


def test_installed_broker_takes_a_real_agent_over_tls_and_no_plain_mqtt_from_the_lan(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The installed siaga.conf (ports moved to free ones, paths to the root) in a real
    mosquitto: the agent with the installed CA gets through on the LAN listener, a plain CONNECT
    there gets no CONNACK, and the plain listener is bound to 127.0.0.1 only."""
    root = tmp_path / "root"
    install("--root", str(root), "--no-venv")
    etc = root / "etc"
    conf = (etc / "mosquitto/conf.d/siaga.conf").read_text()
    assert re.findall(r"^listener .*$", conf, re.M) == ["listener 1883 127.0.0.1", "listener 8883"]
    assert "\nset_tcp_nodelay true\n" in conf
    local_port, lan_port = free_port(), free_port()
    conf = conf.replace("listener 1883 127.0.0.1", f"listener {local_port} 127.0.0.1")
    conf = conf.replace("listener 8883", f"listener {lan_port}")
    conf = conf.replace("/etc/mosquitto/", f"{etc}/mosquitto/").replace("/etc/siaga/", f"{etc}/siaga/")
    broker = Mosquitto(tmp_path / "broker", extra=conf).start()
    request.addfinalizer(broker.stop)
    def listening() -> set:
        return {c.laddr for c in psutil.Process(broker.proc.pid).net_connections("tcp")
                if c.status == psutil.CONN_LISTEN}
    # start() waits for the broker's own first listener; mosquitto opens the others after it
    # (the TLS one loads its certificates first): CI once looked before the LAN one was open.
    wait_until(lambda: {a.port for a in listening()} >= {local_port, lan_port}, 10,
               what="both installed listeners open")
    bound = listening()
    assert {a.ip for a in bound if a.port == local_port} == {"127.0.0.1"}
    assert {a.ip for a in bound if a.port == lan_port} & {"0.0.0.0", "::"}
    assert _plain_answer(lan_port)[:1] != b"\x20", "a plain CONNECT on the LAN listener got a CONNACK"
    edge_password = (etc / "siaga/mqtt.password").read_text().strip()
    assert _connects(local_port, "siaga-edge", edge_password) == "Success"
    got = threading.Event()
    listener = MqttLink(MqttConfig(port=local_port, username="siaga-edge", password=edge_password),
                        "test-edge", subscriptions=(f"siaga/{SITE}/pc/{PC}/status",),
                        on_message=lambda t, p, r: got.set())
    listener.start()
    request.addfinalizer(listener.stop)
    proc, log = _run_agent(tmp_path, lan_port, etc / "siaga")
    try:
        assert got.wait(15), f"no status from the agent over TLS; its log: {log.read_text()[-600:]}"
    finally:
        stop_process(proc)
    assert "cannot connect" not in log.read_text()


def _plain_answer(port: int) -> bytes:
    """What the listener sends back to a plain MQTT CONNECT (b"" = it hung up)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(PLAIN_CONNECT)
        try:
            return sock.recv(64)
        except (ConnectionResetError, TimeoutError):
            return b""


def _run_agent(tmp_path: Path, port: int, etc_siaga: Path) -> tuple[subprocess.Popen, Path]:
    """`siaga agent` as meeting-pc with the installed password and CA, over TLS."""
    (tmp_path / "agent").mkdir()
    config = write_agent_config(tmp_path / "agent", port)
    (tmp_path / "agent/siaga-ca.crt").write_bytes((etc_siaga / "siaga-ca.crt").read_bytes())
    (tmp_path / "agent/mqtt.password").write_bytes((etc_siaga / f"pc-{PC}.password").read_bytes())
    config.write_text(config.read_text().replace(
        f"port = {port}\n", f'port = {port}\ntls = true\nca_file = "siaga-ca.crt"\n'
        f'username = "{PC}"\npassword_file = "mqtt.password"\n'))
    log = tmp_path / "agent.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "siaga", "agent", "-c", str(config)],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, log


def _check_tls_line(config: Path) -> str:
    """`siaga check`'s tls line for this config."""
    done = subprocess.run([sys.executable, "-m", "siaga", "check", "-c", str(config)],
                          capture_output=True, text=True, timeout=60)
    assert "Traceback" not in done.stderr
    return next(line for line in done.stdout.splitlines() if line.split()[1:2] == ["tls"])


def test_check_says_when_the_installed_broker_certificate_expires_within_30_days(
        tmp_path: Path) -> None:
    """ok for the fresh certificate; the same file re-signed for 10 days: FAIL with the date,
    the days left and how to re-issue it."""
    root = tmp_path / "root"
    install("--root", str(root), "--no-venv")
    etc = root / "etc/siaga"
    config = etc / "check.toml"   # beside the certificates, like /etc/siaga/siaga.toml
    config.write_text(f'[site]\nid = "{SITE}"\n[mqtt]\nport = {free_port()}\n[[ups]]\n'
                      f'name = "meeting"\nport = {free_port()}\n[gpio]\npin_factory = "mock"\n')
    cert = etc / "siaga-broker.crt"
    line = _check_tls_line(config)
    assert line.startswith("ok") and str(cert) in line and "certificates valid until" in line
    openssl("req", "-new", "-key", str(etc / "siaga-broker.key"), "-subj", "/CN=pi",
            "-out", str(tmp_path / "pi.csr"))
    openssl("x509", "-req", "-in", str(tmp_path / "pi.csr"), "-CA", str(etc / "siaga-ca.crt"),
            "-CAkey", str(etc / "siaga-ca.key"), "-set_serial", "7", "-days", "10",
            "-out", str(cert))
    line = _check_tls_line(config)
    assert line.startswith("FAIL") and "the broker's certificate expires on" in line
    assert re.search(r"in (9|10) days: renew it: sudo rm \S*siaga-broker.crt", line), line


def test_a_pi_installed_before_keeps_its_edited_broker_config_and_is_told_what_to_change(
        tmp_path: Path) -> None:
    """The last version's siaga.conf, unedited, becomes the TLS one (dry run line for line the
    same); an admin's edited one is kept and the run says which lines to change."""
    from tests.install_support import REPO, _as_done
    root = tmp_path / "root"
    install("--root", str(root), "--no-venv")
    conf = root / "etc/mosquitto/conf.d/siaga.conf"
    # The file as commit 8444100 shipped it, kept here: a --depth 1 clone has no history.
    old = (REPO / "tests/fixtures/mosquitto-siaga-8444100.conf").read_bytes()
    conf.write_bytes(old)
    dry = install("--dry-run", "--root", str(root), "--no-venv").stdout
    done = install("--root", str(root), "--no-venv").stdout
    assert _as_done(dry) == _as_done(done)
    assert "earlier version's, unedited: replaced" in done
    assert conf.read_bytes() == (REPO / "firmware_config/mosquitto/siaga.conf").read_bytes()
    conf.write_bytes(old.replace(b"max_queued_messages 10000", b"max_queued_messages 500"))
    out = install("--root", str(root), "--no-venv").stdout
    assert b"max_queued_messages 500" in conf.read_bytes()
    assert "siaga.conf is your own and kept" in out
    assert "'listener 1883' to 'listener 1883 127.0.0.1'" in out
    assert "certfile /etc/siaga/siaga-broker.crt / keyfile /etc/siaga/siaga-broker.key" in out


def test_a_kept_certificate_without_todays_address_is_named_with_how_to_reissue(
        tmp_path: Path) -> None:
    """The Pi got a new address since the install: the next run says so and how to re-issue;
    after `rm` of the certificate the run makes a new one with the same CA."""
    root = tmp_path / "root"
    install("--root", str(root), "--no-venv")
    etc = root / "etc/siaga"
    ca_before = (etc / "siaga-ca.crt").read_bytes()
    (tmp_path / "san.ext").write_text("subjectAltName=DNS:old-name\n")
    openssl("req", "-new", "-key", str(etc / "siaga-broker.key"), "-subj", "/CN=old",
            "-out", str(tmp_path / "old.csr"))
    openssl("x509", "-req", "-in", str(tmp_path / "old.csr"), "-CA", str(etc / "siaga-ca.crt"),
            "-CAkey", str(etc / "siaga-ca.key"), "-set_serial", "9", "-days", "30",
            "-extfile", str(tmp_path / "san.ext"), "-out", str(etc / "siaga-broker.crt"))
    out = install("--root", str(root), "--no-venv").stdout
    ipv4 = [ip for ip in subprocess.run(["hostname", "-I"], capture_output=True,
                                        text=True).stdout.split() if ":" not in ip]
    for ip in ipv4:
        assert f"note: this Pi's address {ip} is not in /etc/siaga/siaga-broker.crt" in out
    assert ("re-issue it: sudo rm /etc/siaga/siaga-broker.crt" in out) == bool(ipv4)
    (etc / "siaga-broker.crt").unlink()
    install("--root", str(root), "--no-venv")
    assert (etc / "siaga-ca.crt").read_bytes() == ca_before
    sans = openssl("x509", "-noout", "-ext", "subjectAltName", "-in", str(etc / "siaga-broker.crt"))
    assert "old-name" not in sans and all(f"IP Address:{ip}" in sans for ip in ipv4)
    openssl("verify", "-CAfile", str(etc / "siaga-ca.crt"), str(etc / "siaga-broker.crt"))
