"""Shared fixtures: real upsd + dummy-ups and real mosquitto (siaga.servers), mock GPIO."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

import agent.actions
from siaga.servers import Mosquitto, ServerMissing, Upsd

# Fixtures that live beside their helpers (no test file imports another).
pytest_plugins = [
    "tests.agent_helpers",
    "tests.broker_support",
    "tests.browser_support",
    "tests.edge_support",
    "tests.postgres_support",
    "tests.pulse",
    "tests.xvfb",
]


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


# Markers (pyproject.toml) by what a test uses, so that `make check` can run the pure tests alone.
# A fixture that starts a real program marks every test that uses it, even through other fixtures.
SERVER_FIXTURES = {"upsd", "broker", "room_broker", "fleet", "display", "pulse", "postgres_server",
                   "pg_url"}
BROWSER_FIXTURES = {"chromium"}
# Test files that start real programs themselves (upsd, mosquitto, Xvfb, OBS, `siaga ...`,
# install-pi.sh, pip, an HTTP receiver) rather than through one of those fixtures.
SERVER_MODULES = {
    "test_agent_install", "test_agent_obs", "test_agent_split", "test_agent_telemetry",
    "test_alerts_check", "test_alerts_outbox", "test_alerts_serve", "test_backup", "test_bridge",
    "test_bridge_check", "test_check", "test_daemon", "test_dashboard_serve", "test_demo",
    "test_edge_agent", "test_faults_journal", "test_faults_matrix", "test_install_pi",
    "test_install_tls", "test_nut_ddl", "test_report_cli", "test_report_ups_rating",
    "test_signing_agent", "test_tls",
    "test_cli", "test_upsmon",   # issue 16's: `siaga passwd` at a terminal; upsmon and upsd
    "test_report_runtime", "test_runtime_nut",   # issue 18's: `siaga report`; upsd of its own
    "test_agent_captures_pulse", "test_agent_disk_conversion",   # issue 19's: pactl, converters
    # issue 21's: Home Assistant's Python (schema), Home Assistant itself, install-pi.sh
    "test_homeassistant", "test_homeassistant_bridge", "test_homeassistant_real",
    "test_calendar", "test_check_calendar", "test_sop", "test_sop_truth",   # issue 20's: an ICS server, siaga sop (WeasyPrint, poppler)
    "test_agent_wininstall",   # issue 22's: siaga agent install with a fake schtasks and icacls
}
# Test files whose tests take tens of seconds each (a fresh venv, installs, fault matrix cells).
SLOW_MODULES = {"test_agent_install", "test_backup", "test_demo", "test_faults_matrix",
                "test_install_pi", "test_install_tls", "test_homeassistant_real",
                "test_upsmon", "test_runtime_nut"}   # a minute of `OL FSD`; two real discharges
# The property tests (tests/hypothesis_profiles.py). Under the `reliability` profile (2,000
# examples, `make reliability`) one of them runs for minutes (the OpenAPI fuzzing of /sop renders
# the page 2,000 times): the suite's 120 s timeout then fired inside Hypothesis, which replayed the
# example, did not time out, and reported a FlakyFailure that said nothing about the app.
PROPERTY_MODULES = {"test_openapi", "test_property_config", "test_property_decoders",
                    "test_property_room", "test_signing"}
RELIABILITY_TIMEOUT_S = 3600


# The report and alert tests count days and say times in the site's zone (Asia/Jakarta): each
# runs twice, once in the machine's own zone and once with the machine 18 h away from Jakarta
# (UTC-11), so that a test reading the machine's date or zone fails at any hour, not only when
# CI happens to run in the evening. Both runs are in the one `make test` session (the second
# used to be a pytest run of its own, with its own start-up and its own tail).
ZONE_MODULE_PREFIXES = ("test_report", "test_alert")
FAR_ZONE = "Pacific/Pago_Pago"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    module = metafunc.module.__name__.rpartition(".")[2]
    if module.startswith(ZONE_MODULE_PREFIXES) and "machine_zone" in metafunc.fixturenames:
        metafunc.parametrize("machine_zone", ["machine-zone", FAR_ZONE], indirect=True)


@pytest.fixture(autouse=True)
def machine_zone(request: pytest.FixtureRequest):
    """The machine's zone for this test (``TZ`` for it and every program it starts), when the
    test is one of the zone-sensitive ones; otherwise nothing changes."""
    zone = getattr(request, "param", "machine-zone")
    if zone == "machine-zone":
        yield None
        return
    saved = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        yield zone
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()


# The order tests start in. `make test` has pytest-xdist hand the list out one test at a time,
# in this order, to whichever worker is free (Makefile): the tests that take tens of seconds start
# first, so that the short ones fill the gaps beside them instead of one long test running alone
# at the end.
# The property tests start no server but run for seconds each (the OpenAPI fuzzing renders pages
# fifty times): they start with the browser tests.
def _start_order(item: pytest.Item) -> int:
    if item.get_closest_marker("slow"):
        return 0
    if item.get_closest_marker("browser") or _module(item) in PROPERTY_MODULES:
        return 1
    return 2 if item.get_closest_marker("servers") else 3


def _module(item: pytest.Item) -> str:
    return item.module.__name__.rpartition(".")[2] if item.module else ""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test `servers`, `browser` or `slow` from its fixtures and its file; leave out
    the tests of `make ha` (marked `ha_full`) unless SIAGA_HA_FULL=1; longest first."""
    if os.environ.get("SIAGA_HA_FULL") != "1":
        left_out = [item for item in items if item.get_closest_marker("ha_full")]
        if left_out:
            items[:] = [item for item in items if not item.get_closest_marker("ha_full")]
            config.hook.pytest_deselected(items=left_out)
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        module = _module(item)
        if used & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if used & SERVER_FIXTURES or module in SERVER_MODULES:
            item.add_marker(pytest.mark.servers)
        if module in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
        if module in PROPERTY_MODULES and os.environ.get("SIAGA_HYPOTHESIS_PROFILE") == "reliability":
            item.add_marker(pytest.mark.timeout(RELIABILITY_TIMEOUT_S))
    items.sort(key=_start_order)   # stable: a file's tests stay together and in order
