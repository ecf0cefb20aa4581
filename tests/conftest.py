"""Shared fixtures: real upsd + dummy-ups and real mosquitto (siaga.servers), mock GPIO."""

from __future__ import annotations

from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

import agent.actions
from siaga.servers import Mosquitto, ServerMissing, Upsd


def _start(server, tmp_path: Path, request: pytest.FixtureRequest):
    """Start ``server``; a missing program fails the test (make test installs them)."""
    try:
        server.start()
    except ServerMissing as exc:
        pytest.fail(f"{exc} (make test installs it)")
    request.addfinalizer(server.stop)
    request.addfinalizer(lambda: _print_logs_on_failure(request, server.directory))
    return server


def _print_logs_on_failure(request: pytest.FixtureRequest, directory: Path) -> None:
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for log in sorted(directory.glob("*.log")):
            print(f"----- {log} -----\n{log.read_text(errors='replace')[-3000:]}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def upsd(tmp_path: Path, request: pytest.FixtureRequest) -> Upsd:
    """A real upsd serving one dummy-ups UPS named "meeting", on mains."""
    return _start(Upsd(tmp_path / "nut"), tmp_path, request)


@pytest.fixture
def broker(tmp_path: Path, request: pytest.FixtureRequest) -> Mosquitto:
    """A real mosquitto on a free loopback port."""
    return _start(Mosquitto(tmp_path / "mosquitto"), tmp_path, request)


@pytest.fixture
def mock_factory():
    """gpiozero's own mock pins (PWM-capable), reset after the test."""
    save_factory = Device.pin_factory
    Device.pin_factory = MockFactory(pin_class=MockPWMPin)
    yield Device.pin_factory
    Device.pin_factory.reset()
    Device.pin_factory = save_factory


@pytest.fixture(autouse=True)
def no_os_shutdown(monkeypatch: pytest.MonkeyPatch) -> None:
    """Belt and braces for every test: the OS's own shutdown must never run here."""
    def refuse(system: str | None = None) -> list[str]:
        raise AssertionError("a test reached the OS's own shutdown")
    monkeypatch.setattr(agent.actions, "default_shutdown_argv", refuse)
