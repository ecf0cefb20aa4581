"""UpsReader against a real upsd + dummy-ups: every way a UPS is unreadable, then recovery."""

import asyncio
import signal
import time
from pathlib import Path

import pytest

from edge.room import UpsReading
from edge.ups import UpsCommandError, UpsReader
from protocol.config import UpsConfig
from siaga.servers import UPSD_PASSWORD, UPSD_USER, Upsd, stop_process


def reader_for(upsd: Upsd, name: str = "meeting", **kw) -> UpsReader:
    return UpsReader(UpsConfig(name=name, host="127.0.0.1", port=upsd.port, **kw), timeout=2.0)


def read(reader: UpsReader) -> UpsReading:
    return asyncio.run(reader.read(time.time()))


def read_until(reader: UpsReader, wanted, timeout: float = 15.0) -> tuple[UpsReading, list[UpsReading]]:
    """Poll every 0.1 s until ``wanted(reading)``; return it and every reading seen."""
    seen = []

    async def poll() -> UpsReading:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen.append(await reader.read(time.time()))
            if wanted(seen[-1]):
                return seen[-1]
            await asyncio.sleep(0.1)
        raise AssertionError(f"never got the reading; last: {seen[-1] if seen else None}")

    return asyncio.run(poll()), seen


def is_mains(r: UpsReading) -> bool:
    return r.reachable and r.status == "OL"


def test_on_mains_then_on_battery_and_unknown_name(upsd):
    reader = reader_for(upsd)
    r = read(reader)
    assert is_mains(r) and not r.on_battery
    assert (r.charge_pct, r.runtime_s, r.load_pct, r.input_voltage) == (100.0, 1800.0, 35.0, 220.0)
    assert r.battery_date == "2024-01-15" and r.test_result == "Done and passed"
    upsd.set("meeting", ups_status="OB DISCHRG", battery_runtime="250")
    r, _ = read_until(reader, lambda r: r.on_battery and r.runtime_s == 250.0)
    assert r.status == "OB DISCHRG" and r.error == ""
    upsd.set("meeting", ups_status="OL CHRG")
    r, _ = read_until(reader, lambda r: r.status == "OL CHRG")
    assert not r.on_battery
    # A name upsd does not serve: unreadable, never "on battery".
    r = read(reader_for(upsd, "lobby"))
    assert r.error == "unknown_ups" and not r.reachable and not r.on_battery
    assert r.error_detail.startswith(f'UPS "lobby" at 127.0.0.1:{upsd.port}: ')
    assert r.name == "lobby" and r.status == ""


def test_upsd_stopped_is_refused_then_recovers(upsd):
    reader = reader_for(upsd)
    assert is_mains(read(reader))
    upsd.stop()  # a new upsd needs a new driver too (TESTING.md)
    r = read(reader)
    assert r.error == "refused" and not r.on_battery
    assert r.error_detail == f'UPS "meeting" at 127.0.0.1:{upsd.port}: connection refused (is upsd running?)'
    upsd.start_driver("meeting")
    upsd.start_upsd()
    r, seen = read_until(reader, is_mains)
    assert not any(s.on_battery for s in seen)


def test_driver_stopped_then_restarted(upsd):
    reader = reader_for(upsd)
    stop_process(upsd.drivers["meeting"])
    r, _ = read_until(reader, lambda r: r.error == "driver_not_connected", timeout=5)
    assert "driver is not running" in r.error_detail
    upsd.start_driver("meeting")
    r, seen = read_until(reader, is_mains)
    # upsd says WAIT while the new driver sends its first data: "starting", not power loss.
    assert {s.error for s in seen} <= {"driver_not_connected", "starting", ""}
    assert not any(s.on_battery for s in seen)


def test_frozen_driver_goes_stale_then_recovers(upsd):
    reader = reader_for(upsd)
    driver = upsd.drivers["meeting"]
    driver.send_signal(signal.SIGSTOP)
    try:
        r, seen = read_until(reader, lambda r: r.error == "data_stale", timeout=12)
        assert "data stale" in r.error_detail
        assert all(s.error in ("", "data_stale") and not s.on_battery for s in seen)
    finally:
        driver.send_signal(signal.SIGCONT)
    read_until(reader, is_mains, timeout=5)


def test_wait_at_upsd_start_is_starting_not_power_loss(tmp_path: Path, request):
    upsd = Upsd(tmp_path / "nut2")
    request.addfinalizer(upsd.stop)
    upsd.start(wait_for="")
    reader = reader_for(upsd)
    r, seen = read_until(reader, is_mains)
    errors = [s.error for s in seen]
    assert "starting" in errors
    assert set(errors) <= {"refused", "driver_not_connected", "starting", ""}
    assert not any(s.on_battery for s in seen)


def test_persistent_connection_reads_too(upsd):
    reader = UpsReader(UpsConfig(name="meeting", port=upsd.port), persistent=True)

    async def polls():
        readings = [await reader.read(time.time()) for _ in range(3)]
        upsd.stop()
        readings.append(await reader.read(time.time()))  # the kept connection is dead
        reader.close()
        return readings

    *good, gone = asyncio.run(polls())
    assert all(is_mains(r) for r in good)
    assert gone.error == "refused"


@pytest.mark.parametrize("answer, error", [
    (b"\xff\xfe\x00garbage\n", "protocol_error"),
    (b"HTTP/1.1 400 Bad Request\r\n\r\n", "protocol_error"),
    (b"BEGIN LIST VAR meeting\nVAR meeting ups.status \"OL\"\n", "timeout"),  # never ends
    (None, "timeout"),  # accepts, never answers
])
def test_not_upsd_on_the_port(answer, error):
    async def scenario():
        polled = asyncio.Event()
        handlers = []

        async def handler(reader, writer):
            handlers.append(asyncio.current_task())
            try:
                await reader.readline()
                if answer is not None:
                    writer.write(answer)
                await polled.wait()
            finally:
                writer.close()

        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            ups = UpsReader(UpsConfig(name="meeting", port=port), timeout=0.3)
            started = time.monotonic()
            r = await ups.read(time.time())
            took = time.monotonic() - started
            polled.set()
            await asyncio.gather(*handlers)
        return r, took

    r, took = asyncio.run(scenario())
    assert r.error == error and not r.on_battery
    assert took < 1.0  # the whole poll is bounded by the timeout, retries included


def test_instant_command_and_its_failures(upsd):
    reader = reader_for(upsd, username=UPSD_USER, password=UPSD_PASSWORD)
    # dummy-ups offers only load.off (a simulator: nothing is switched off).
    assert asyncio.run(reader.instant_command("load.off")).startswith("OK")
    with pytest.raises(UpsCommandError, match="does not support this command"):
        asyncio.run(reader.instant_command("test.battery.start.quick"))
    reader = reader_for(upsd)
    with pytest.raises(UpsCommandError, match="ups.username and ups.password_file"):
        asyncio.run(reader.instant_command("test.battery.start.quick"))
    reader = reader_for(upsd, username=UPSD_USER, password="wrong")
    with pytest.raises(UpsCommandError, match="access denied"):
        asyncio.run(reader.instant_command("load.off"))
    upsd.stop()
    with pytest.raises(UpsCommandError, match="connection refused"):
        asyncio.run(reader.instant_command("load.off"))
