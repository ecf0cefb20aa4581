"""parse_reading and classify: real-looking `upsc` dumps of real UPS models, with their quirks."""

from pathlib import Path

import pytest
from aionut import (NUTCommandError, NUTConnectionClosedError, NUTLoginError, NUTOSError,
                    NUTProtocolError, NUTTimeoutError, NUTValueError)

from edge.room import UNREADABLE_REASONS
from edge.ups import UpsReader, classify, parse_reading, reading_summary
from protocol.config import UpsConfig


def upsc(text: str) -> dict[str, str]:
    """Variables as `upsc` prints them ("name: value"), keeping trailing spaces."""
    pairs = (line.split(": ", 1) for line in text.strip("\n").splitlines())
    return {k.strip(): v for k, v in pairs}


# APC Back-UPS ES 700G on usbhid-ups, on mains.
APC_BACK_UPS = upsc("""
battery.charge: 100
battery.charge.low: 10
battery.charge.warning: 50
battery.date: 2001/09/25
battery.mfr.date: 2019/04/18
battery.runtime: 2530
battery.runtime.low: 120
battery.type: PbAc
battery.voltage: 13.6
battery.voltage.nominal: 12.0
device.mfr: American Power Conversion
device.model: Back-UPS ES 700G
device.type: ups
driver.name: usbhid-ups
driver.parameter.pollinterval: 2
driver.parameter.port: auto
driver.version: 2.8.0
input.sensitivity: medium
input.transfer.high: 266
input.transfer.low: 180
input.voltage: 230.0
input.voltage.nominal: 230
ups.beeper.status: enabled
ups.delay.shutdown: 20
ups.firmware: 871.O4 .I
ups.load: 12
ups.mfr: American Power Conversion
ups.model: Back-UPS ES 700G
ups.status: OL
ups.test.result: No test initiated
ups.timer.reboot: 0
ups.timer.shutdown: -1
ups.vendorid: 051d
""")

# The same APC, on battery and low, while its self-test is running.
APC_ON_BATTERY_LOW = {**APC_BACK_UPS, "ups.status": "OB DISCHRG LB", "battery.charge": "9",
                      "battery.runtime": "95", "input.voltage": "0.0",
                      "ups.test.result": "In progress"}

# A cheap 650 VA "Prolink"-style UPS on nutdrv_qx (megatec): no runtime, no battery date.
CHEAP_QX = upsc("""
battery.charge: 100
battery.voltage: 13.70
battery.voltage.high: 13.00
battery.voltage.low: 10.40
battery.voltage.nominal: 12.0
device.type: ups
driver.name: nutdrv_qx
driver.parameter.port: auto
driver.parameter.protocol: megatec
driver.version: 2.8.0
input.current.nominal: 3.0
input.frequency: 50.1
input.frequency.nominal: 50
input.voltage: 221.5
input.voltage.fault: 221.5
input.voltage.nominal: 220
output.voltage: 221.5
ups.beeper.status: enabled
ups.delay.shutdown: 30
ups.delay.start: 180
ups.load: 18
ups.productid: 5161
ups.status: OL
ups.type: offline / line interactive
ups.vendorid: 0665
""")

# The older blazer_usb driver on the same kind of UPS: not even a charge.
CHEAP_BLAZER = {k: v for k, v in CHEAP_QX.items() if k != "battery.charge"} | {
    "driver.name": "blazer_usb", "ups.status": "OB"}

# A UPS whose driver says 65535 when it does not know the runtime (0xFFFF).
RUNTIME_65535 = upsc("""
battery.charge: 76
battery.runtime: 65535
device.mfr: POWERCOM Co.,LTD
device.model: BNT-1000AP
driver.name: usbhid-ups
input.voltage: 228.0
ups.load: 0
ups.status: OL CHRG
""")

# CyberPower on usbhid-ups: values padded with trailing spaces.
TRAILING_SPACES = upsc("""
battery.charge: 87 
battery.runtime: 1260 
battery.date: 2022/03/01 
device.mfr: CPS   
device.model: CP1500EPFCLCD   
driver.name: usbhid-ups
input.voltage: 219.0 
ups.load: 22 
ups.status: OB DISCHRG 
ups.test.result: Done and passed   
""")


@pytest.mark.parametrize("variables, expected", [
    (APC_BACK_UPS, dict(status="OL", charge_pct=100.0, runtime_s=2530.0, load_pct=12.0,
                        input_voltage=230.0, battery_date="2001-09-25",
                        test_result="No test initiated", on_battery=False)),
    (APC_ON_BATTERY_LOW, dict(status="OB DISCHRG LB", charge_pct=9.0, runtime_s=95.0,
                              input_voltage=0.0, on_battery=True, low_battery=True,
                              self_test=True)),
    (CHEAP_QX, dict(status="OL", charge_pct=100.0, runtime_s=None, load_pct=18.0,
                    input_voltage=221.5, battery_date="", test_result="")),
    (CHEAP_BLAZER, dict(status="OB", charge_pct=None, runtime_s=None, on_battery=True)),
    (RUNTIME_65535, dict(status="OL CHRG", charge_pct=76.0, runtime_s=None, load_pct=0.0)),
    (TRAILING_SPACES, dict(status="OB DISCHRG", charge_pct=87.0, runtime_s=1260.0, load_pct=22.0,
                           input_voltage=219.0, battery_date="2022-03-01",
                           test_result="Done and passed", on_battery=True)),
], ids=["apc-ol", "apc-ob-lb", "qx-no-runtime", "blazer-no-charge", "runtime-65535",
        "trailing-spaces"])
def test_real_dumps(variables, expected):
    reading = parse_reading("meeting", variables, 1000.0, True)
    assert reading.reachable and reading.error == "" and reading.ts == 1000.0
    for name, value in expected.items():
        assert getattr(reading, name) == value, name


@pytest.mark.parametrize("runtime, expected", [
    # CONTRACT §5.3: 0 or below, 65535 or above, over 24 h: unknown (then charge decides).
    ("1800", 1800.0), ("0", None), ("0.0", None), ("1", 1.0), ("65534", 65534.0),
    ("65535", None), ("65536", None), ("86400", None), ("-1", None),
    ("86401", None), ("4294967295", None), ("", None), ("unknown", None), ("nan", None),
    ("inf", None), (" 300 ", 300.0), (None, None),
])
def test_runtime_sanity(runtime, expected):
    variables = {"ups.status": "OB"} | ({} if runtime is None else {"battery.runtime": runtime})
    assert parse_reading("u", variables, 0, True).runtime_s == expected


@pytest.mark.parametrize("charge, expected", [
    ("0", 0.0), ("100", 100.0), ("55.5", 55.5), ("101", None), ("-3", None), ("250", None),
    ("full", None), ("", None),
])
def test_charge_sanity(charge, expected):
    assert parse_reading("u", {"ups.status": "OL", "battery.charge": charge}, 0, True).charge_pct == expected


@pytest.mark.parametrize("variables", [
    {"ups.load": "heavy", "input.voltage": "n/a"}, {"ups.load": "-5", "input.voltage": "1e9"},
])
def test_non_numbers_become_none(variables):
    reading = parse_reading("u", {"ups.status": "OL", **variables}, 0, True)
    assert reading.load_pct is None and reading.input_voltage is None and reading.reachable


@pytest.mark.parametrize("status", ["WAIT", " WAIT ", "WAIT OL"])
def test_wait_at_upsd_start_is_unreadable_not_power_loss(status):
    reading = parse_reading("meeting", {"ups.status": status, "battery.charge": "0"}, 5.0, False)
    assert reading.error == "starting" and not reading.reachable and not reading.on_battery
    assert reading.powers_pc is False and reading.charge_pct is None
    assert 'UPS "meeting"' in reading.error_detail and "WAIT" in reading.error_detail


def test_no_status_is_a_protocol_error():
    reading = parse_reading("meeting", {"battery.charge": "100"}, 0, True)
    assert reading.error == "protocol_error" and "ups.status" in reading.error_detail


@pytest.mark.parametrize("exc, error", [
    (NUTCommandError("Error running: LIST VAR x: ERR UNKNOWN-UPS"), "unknown_ups"),
    (NUTCommandError("Error running: LIST VAR x: ERR DRIVER-NOT-CONNECTED"), "driver_not_connected"),
    (NUTCommandError("Error running: LIST VAR x: ERR DATA-STALE"), "data_stale"),
    (NUTLoginError("Error running: PASSWORD: ERR ACCESS-DENIED"), "access_denied"),
    (NUTCommandError("Error running: INSTCMD x y: ERR USERNAME-REQUIRED"), "access_denied"),
    (NUTCommandError("Error running: LIST VAR x: ERR FEATURE-NOT-CONFIGURED"), "protocol_error"),
    (NUTTimeoutError(""), "timeout"),
    (TimeoutError(), "timeout"),
    (ConnectionRefusedError(111, "Connection refused"), "refused"),
    (NUTProtocolError("Unexpected response: HELLO"), "protocol_error"),
    (NUTConnectionClosedError("Connection closed by server"), "protocol_error"),
    (ValueError("weird"), "protocol_error"),
    (RuntimeError("anything"), "protocol_error"),
])
def test_classify(exc, error):
    code, sentence = classify(exc)
    assert code == error and code in UNREADABLE_REASONS
    assert sentence and "\n" not in sentence


def test_classify_looks_at_the_cause():
    """aionut wraps OS errors; the cause tells refused from garbage from other network errors."""
    def wrapped(outer, inner):
        try:
            raise outer("x") from inner
        except Exception as exc:  # noqa: BLE001
            return exc

    assert classify(wrapped(NUTOSError, ConnectionRefusedError(111, "Connection refused")))[0] == "refused"
    code, sentence = classify(wrapped(NUTValueError, UnicodeDecodeError("ascii", b"\xff", 0, 1, "no")))
    assert code == "protocol_error" and "ASCII" in sentence
    code, sentence = classify(wrapped(NUTOSError, OSError(113, "No route to host")))
    assert code == "refused" and "No route to host" in sentence


def test_summary_and_where():
    reading = parse_reading("meeting", {"ups.status": "OL CHRG", "battery.charge": "100",
                                        "battery.runtime": "1800"}, 0, True)
    assert reading_summary(reading) == "OL CHRG, charge 100 %, runtime 30 min"
    assert reading_summary(parse_reading("m", CHEAP_BLAZER, 0, True)) == "OB"
    assert UpsReader(UpsConfig(name="meeting")).where == 'UPS "meeting" at 127.0.0.1:3493'
    assert UpsReader(UpsConfig(name="m", host="::1")).where == 'UPS "m" at [::1]:3493'


# ------------------------------------------------- the UPS's rating and battery date (issue 8)

DDL = Path(__file__).parent / "fixtures" / "nut-ddl"


def ddl_vars(name: str) -> dict[str, str]:
    """A device dump of NUT's library as upsd would list it (dummy-ups drops "#" comments)."""
    lines = (DDL / name).read_text().splitlines()
    pairs = [line.split("#", 1)[0].split(":", 1) for line in lines if ":" in line.split("#", 1)[0]]
    return {key.strip(): value.strip() for key, value in pairs}


@pytest.mark.parametrize("dump, watts, va, battery_date", [
    # battery.mfr.date only: it is the battery's date.
    ("APC__Back-UPS_BK650M2-CH__usbhid-ups__2.8.0__01.dev", 390.0, None, "2001-01-01"),
    # battery.date "2624/00/02" is no date: battery.mfr.date instead.
    ("APC__Back-UPS_LS_500__newhidups__2.0.3__01.dev", None, None, "2002-05-08"),
    # battery.date "2065/165/165" and nothing else: unknown.
    ("APC__AP9584__usbhid-ups__2.6.4__01.dev", None, None, ""),
    # CyberPower writes its name, "CPS", as the battery's date.
    ("Cyber_Power_Systems__Value_2200E-GP__usbhid-ups__2.4.3__01.dev", 296.0, None, ""),
    ("Eaton__5E1100iUSB__usbhid-ups__2.7.1__01.dev", None, 1100.0, ""),
    ("Novex__NUPS-650__blazer_usb__2.6.5__01.dev", None, None, ""),
])
def test_rating_and_battery_date_of_real_dumps(dump, watts, va, battery_date):
    reading = parse_reading("meeting", ddl_vars(dump), 1000.0, True)
    assert reading.reachable, reading.error_detail
    assert (reading.realpower_nominal, reading.power_nominal, reading.battery_date) == (
        watts, va, battery_date)


@pytest.mark.parametrize("extra, watts, va, battery_date", [
    ({"ups.realpower.nominal": "600 ", "battery.date": "2022/03/01 "}, 600.0, None, "2022-03-01"),
    ({"ups.realpower.nominal": "0", "ups.power.nominal": "0"}, None, None, ""),       # "0": not rated
    ({"ups.realpower.nominal": "", "ups.power.nominal": "1500"}, None, 1500.0, ""),
    ({"ups.realpower.nominal": "n/a", "ups.power.nominal": "-5"}, None, None, ""),
    ({"ups.power.nominal": "1e9"}, None, None, ""),                                  # misread
    ({"battery.date": "03/01/22"}, None, None, "2022-03-01"),                        # APC mm/dd/yy
    ({"battery.date": "2022-03-01"}, None, None, "2022-03-01"),
    ({"battery.date": "not set", "battery.mfr.date": "2020/05/08"}, None, None, "2020-05-08"),
    ({"battery.date": "2022/02/30"}, None, None, ""),                                # no such day
    ({"battery.date": "1970/01/01"}, None, None, ""),                                # a placeholder
    ({}, None, None, ""),
])
def test_rating_and_battery_date_quirks(extra, watts, va, battery_date):
    reading = parse_reading("meeting", {"ups.status": "OL", **extra}, 1000.0, True)
    assert (reading.realpower_nominal, reading.power_nominal, reading.battery_date) == (
        watts, va, battery_date)
