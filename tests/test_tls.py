"""MQTT over TLS with a private CA (`[mqtt] ca_file`): a real mosquitto TLS listener on
loopback, certificates made with `openssl` in the test's temp dir, a real `siaga agent` process
and `siaga check`."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from protocol.config import ConfigError, MqttConfig, load_agent_config
from protocol.mqtt import MqttLink
from siaga.servers import Mosquitto, find_program, stop_process
from tests.agent_helpers import PC, SITE, write_agent_config
from tests.waiting import wait_until


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run([find_program("openssl", "openssl"), *args], cwd=cwd, check=True,
                   capture_output=True, timeout=30)


def make_ca(directory: Path, name: str, days: int = 365) -> Path:
    """A throwaway CA: ``name``.crt and ``name``.key in ``directory``."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", str(days),
            "-subj", f"/CN=Siaga test {name}", cwd=directory)
    return directory / f"{name}.crt"


def make_broker_cert(directory: Path, ca: str, days: int) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by ``ca``, valid ``days``."""
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "broker.key", "-out", "broker.csr", "-subj", "/CN=127.0.0.1", cwd=directory)
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "broker.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", "broker.crt", "-days", str(days), "-extfile", "san.ext",
            cwd=directory)
    return directory / "broker.crt", directory / "broker.key"


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    """A CA (valid a year), a broker certificate signed by it (valid 400 days), a stranger CA."""
    directory = tmp_path / "pki"
    directory.mkdir()
    make_ca(directory, "ca", days=365)
    make_ca(directory, "stranger", days=365)
    make_broker_cert(directory, "ca", days=400)
    return directory


def tls_broker(tmp_path: Path, request, pki: Path) -> Mosquitto:
    broker = Mosquitto(tmp_path / "mosquitto-tls", extra="\n".join([
        f"cafile {pki / 'ca.crt'}", f"certfile {pki / 'broker.crt'}", f"keyfile {pki / 'broker.key'}"]))
    request.addfinalizer(broker.stop)
    return broker.start()


def run_agent(tmp_path: Path, port: int, ca_file: Path) -> tuple[subprocess.Popen, Path]:
    config = write_agent_config(tmp_path, port)
    text = config.read_text().replace(f"port = {port}\n",
                                      f'port = {port}\ntls = true\nca_file = "{ca_file}"\n')
    config.write_text(text)
    log = tmp_path / "agent.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "siaga", "agent", "-c", str(config)],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, log


def test_agent_connects_over_tls_with_the_ca_that_signed_the_broker(tmp_path, request, pki):
    broker = tls_broker(tmp_path, request, pki)
    statuses = []
    got = threading.Event()
    listener = MqttLink(MqttConfig(port=broker.port, tls=True, ca_file=str(pki / "ca.crt")),
                        "test-listener", subscriptions=(f"siaga/{SITE}/pc/{PC}/status",),
                        on_message=lambda t, p, r: (statuses.append(p), got.set()))
    listener.start()
    proc, log = run_agent(tmp_path, broker.port, pki / "ca.crt")
    try:
        assert got.wait(15), f"no status over TLS; agent log: {log.read_text()[-500:]}"
        assert "cannot connect" not in log.read_text()
    finally:
        stop_process(proc)
        listener.stop()


def test_agent_with_the_wrong_ca_does_not_connect_and_says_why_in_one_line(tmp_path, request, pki):
    broker = tls_broker(tmp_path, request, pki)
    proc, log = run_agent(tmp_path, broker.port, pki / "stranger.crt")
    try:
        line = wait_until(lambda: [x for x in log.read_text().splitlines() if "cannot connect" in x],
                          timeout=10, what="a line saying why the agent cannot connect")
        time.sleep(2.5)   # paho retries every 1-2 s meanwhile
        assert proc.poll() is None, "the agent must keep running and trying"
    finally:
        stop_process(proc)
    text = log.read_text()
    assert len(line) == 1 and text.count("cannot connect") == 1    # once, not once per retry
    assert "not trusted by the CA in mqtt.ca_file" in line[0] and str(pki / "stranger.crt") in line[0]
    assert "MQTT connected" not in text and "Traceback" not in text


def check_lines(tmp_path: Path, port: int, ca_file: Path) -> dict[str, str]:
    path = tmp_path / "siaga.toml"
    path.write_text(f'[site]\nid = "{SITE}"\n[mqtt]\nport = {port}\ntls = true\n'
                    f'ca_file = "{ca_file}"\n[[ups]]\nname = "meeting"\nport = 1\n'
                    '[gpio]\npin_factory = "mock"\n')
    done = subprocess.run([sys.executable, "-m", "siaga", "check", "-c", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert "Traceback" not in done.stderr
    return {line.split()[1]: line for line in done.stdout.splitlines() if line.strip()}


def test_check_says_ok_for_certificates_valid_long_enough(tmp_path, request, pki):
    broker = tls_broker(tmp_path, request, pki)
    lines = check_lines(tmp_path, broker.port, pki / "ca.crt")
    assert lines["mqtt"].startswith("ok")
    assert lines["tls"].startswith("ok") and "certificates valid until" in lines["tls"]


def test_check_says_when_the_broker_certificate_expires_within_30_days(tmp_path, request, pki):
    make_broker_cert(pki, "ca", days=10)
    broker = tls_broker(tmp_path, request, pki)
    line = check_lines(tmp_path, broker.port, pki / "ca.crt")["tls"]
    assert line.startswith("FAIL") and "the broker's certificate expires on" in line
    assert "in 9 days: renew it" in line or "in 10 days: renew it" in line


def test_check_says_when_the_ca_file_expires_within_30_days(tmp_path, request, pki):
    make_ca(pki, "ca", days=20)
    make_broker_cert(pki, "ca", days=400)
    broker = tls_broker(tmp_path, request, pki)
    line = check_lines(tmp_path, broker.port, pki / "ca.crt")["tls"]
    assert line.startswith("FAIL") and "the CA in ca.crt expires on" in line


def test_check_with_the_wrong_ca_says_the_certificate_is_not_trusted(tmp_path, request, pki):
    broker = tls_broker(tmp_path, request, pki)
    lines = check_lines(tmp_path, broker.port, pki / "stranger.crt")
    assert lines["mqtt"].startswith("FAIL") and "not trusted by the CA in mqtt.ca_file" in lines["mqtt"]
    assert lines["tls"].startswith("FAIL")


def test_a_missing_ca_file_is_a_config_error_naming_the_key(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text(f'[site]\nid = "{SITE}"\n[mqtt]\ntls = true\nca_file = "nope.crt"\n'
                    f'[agent]\npc_id = "{PC}"\n')
    with pytest.raises(ConfigError, match=r"^agent.toml: mqtt.ca_file: cannot read .*nope.crt: "
                                          r"No such file or directory$"):
        load_agent_config(path)


def test_a_ca_file_without_a_certificate_is_a_config_error(tmp_path):
    (tmp_path / "ca.crt").write_text("not a certificate\n")
    path = tmp_path / "agent.toml"
    path.write_text(f'[site]\nid = "{SITE}"\n[mqtt]\ntls = true\nca_file = "ca.crt"\n'
                    f'[agent]\npc_id = "{PC}"\n')
    with pytest.raises(ConfigError, match=r"^agent.toml: mqtt.ca_file: .*ca.crt: no usable CA "
                                          r"certificate in it \(PEM expected\): "):
        load_agent_config(path)
