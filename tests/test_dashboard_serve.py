"""`siaga dashboard -c FILE` as a program: served by waitress, clean exits, clear errors."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from siaga.servers import free_port, stop_process
from tests.dashboard_support import start_dashboard, write_config


def siaga(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "siaga", *args], capture_output=True, text=True,
                          timeout=30)


def test_serves_the_api_and_stops_cleanly_on_sigterm(tmp_path, broker):
    port = free_port()
    config = write_config(tmp_path, mqtt_port=broker.port, listen=f"127.0.0.1:{port}")
    proc = start_dashboard(config, f"http://127.0.0.1:{port}", tmp_path / "dashboard.log")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/sites", timeout=5) as answer:
            assert json.load(answer) == {"sites": []}
            assert answer.headers["Server"] == "siaga"        # waitress, not Flask's dev server
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        stop_process(proc)


@pytest.mark.parametrize("listen", ["everywhere", "127.0.0.1:²", "127.0.0.1:0", ":8080"])
def test_a_bad_listen_value_exits_2_naming_the_key(tmp_path, listen):
    """"²".isdigit() is True: "127.0.0.1:²" was a traceback (int("²"))."""
    result = siaga("dashboard", "-c", str(write_config(tmp_path, listen=listen)))
    assert result.returncode == 2
    assert result.stderr == ('siaga.toml: dashboard.listen: must be HOST:PORT such as '
                             f'"127.0.0.1:8080", got "{listen}"\n')


# A name that resolves nowhere (RFC 6761) and an IPv4-looking one that is not an address: both
# were waitress's ValueError, a traceback.
@pytest.mark.parametrize("listen", ["siaga.invalid:8080", "999.999.999.999:8080"])
def test_a_host_that_does_not_resolve_exits_1_with_one_line(tmp_path, listen):
    result = siaga("dashboard", "-c", str(write_config(tmp_path, listen=listen)))
    assert result.returncode == 1
    assert result.stderr.startswith(f"siaga dashboard: cannot listen on {listen}: ")
    assert len(result.stderr.splitlines()) == 1


def test_a_busy_port_exits_1_with_a_sentence(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = siaga("dashboard", "-c", str(write_config(tmp_path, listen=f"127.0.0.1:{port}")))
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr


def test_an_unwritable_database_exits_2_naming_the_key(tmp_path):
    (tmp_path / "blocker").write_text("a file, not a directory")
    config = write_config(tmp_path)
    config.write_text(config.read_text().replace(str(tmp_path / "dashboard.sqlite3"),
                                                 str(tmp_path / "blocker" / "db.sqlite3")))
    result = siaga("dashboard", "-c", str(config))
    assert result.returncode == 2 and "dashboard.database: cannot open" in result.stderr
