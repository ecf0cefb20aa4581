"""sd_notify against a real unix datagram socket, as systemd would listen."""

import os
import socket
import uuid
from pathlib import Path

import pytest

from edge.sdnotify import notify, watchdog_interval


@pytest.fixture
def listener(tmp_path: Path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify.sock"
    sock.bind(str(path))
    sock.settimeout(2)
    yield sock, str(path)
    sock.close()


def test_sends_to_a_path_socket(listener, monkeypatch):
    sock, path = listener
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    assert notify("READY=1") is True
    assert notify("WATCHDOG=1") is True
    assert sock.recv(100) == b"READY=1"
    assert sock.recv(100) == b"WATCHDOG=1"


def test_sends_to_an_abstract_socket(monkeypatch):
    name = f"siaga-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert notify("STOPPING=1") is True
        assert sock.recv(100) == b"STOPPING=1"


def test_not_under_systemd(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert notify("READY=1") is False


@pytest.mark.parametrize("value", ["relative/notify.sock", "/nonexistent/dir/notify.sock"])
def test_bad_socket_is_false_not_an_exception(monkeypatch, value):
    monkeypatch.setenv("NOTIFY_SOCKET", value)
    assert notify("READY=1") is False


@pytest.mark.parametrize("usec, pid, expected", [
    ("30000000", None, 15.0),
    ("30000000", "self", 15.0),
    ("30000000", "1", None),
    ("0", None, None),
    ("soon", None, None),
    (None, None, None),
])
def test_watchdog_interval(monkeypatch, usec, pid, expected):
    for name, value in (("WATCHDOG_USEC", usec), ("WATCHDOG_PID", pid)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, str(os.getpid()) if value == "self" else value)
    assert watchdog_interval() == expected
