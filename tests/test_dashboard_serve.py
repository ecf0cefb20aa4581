"""`siaga dashboard -c FILE` as a program: served by waitress, clean exits, clear errors."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request

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


def test_a_bad_listen_value_exits_2_naming_the_key(tmp_path):
    result = siaga("dashboard", "-c", str(write_config(tmp_path, listen="everywhere")))
    assert result.returncode == 2
    assert 'siaga.toml: dashboard.listen: must be HOST:PORT' in result.stderr
    assert "Traceback" not in result.stderr


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
