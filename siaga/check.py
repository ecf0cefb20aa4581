"""`siaga check -c FILE`: is this Pi ready? The config, each UPS, the broker and the GPIO.

One line per check, `ok` or `FAIL`, then exit 0 only when every check passed. A bad config is
a FAIL line per problem (file, key, what is wrong) and exit 2; every other problem is a FAIL line
with a reason a person can act on, never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl
import subprocess
import threading
import time
from typing import Any, Callable
from zoneinfo import ZoneInfo

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from edge.calendar import describe as describe_calendar
from edge.indicator import Indicator, IndicatorError
from edge.room import UpsReading
from edge.ups import UpsReader, reading_summary
from protocol.config import Config, ConfigError, GpioConfig, MqttConfig, UpsConfig, load_config
from protocol.config.dashboard import cannot_listen
from protocol.mqtt import connect_error
from siaga.bridgecheck import check_bridge
from siaga.powerdowncheck import check_powerdown

logger = logging.getLogger(__name__)

MQTT_TIMEOUT_S = 3.0
EXPIRY_WARN_DAYS = 30
LAN_CERT, LAN_CA = "siaga-broker.crt", "siaga-ca.crt"   # install-pi.sh's, beside siaga.toml
UPS_STARTING_RETRIES = 5  # upsd says WAIT for ~2 s after it (or its driver) starts

Result = tuple[bool, str, str, str]  # ok, check name, what was checked, detail


def run(path: str) -> int:
    """Run every check, print one line each; 0 when all passed, 2 on a bad config, else 1."""
    try:
        config = load_config(path)
    except ConfigError as exc:   # one FAIL line per problem; nothing else can be probed
        for problem in str(exc).splitlines():
            print_result((False, "config", path, problem))
        return 2
    first: Result = (True, "config", path, "")
    print_result(first)
    passed = True
    steps: list[tuple[Callable[[Any], Result], Any]] = [
        *((check_ups, u) for u in config.ups), (check_mqtt, config.mqtt),
        *([(check_tls, config.mqtt)] if config.mqtt.tls else []), (check_gpio, config.gpio)]
    for check, section in steps:
        result = check(section)
        print_result(result)
        passed = passed and result[0]
        if check is check_ups:
            print_runtimecal(config, section)
    powerdown, notes = check_powerdown(config)   # edge.powerdown_flag as NUT and systemd see it
    for result in powerdown:
        print_result(result)
        passed = passed and result[0]
    for note in notes:
        print(note, flush=True)
    listen = check_listen(config)   # named only when the dashboard could not listen there
    if listen is not None:
        print_result(listen)
        passed = False
    for result in check_alerts(config):
        print_result(result)
        passed = passed and result[0]
    lan = check_lan_tls(path)   # the LAN listener's certificate made by install-pi.sh
    if lan is not None:
        print_result(lan)
        passed = passed and lan[0]
    if config.site.calendar:
        result = check_calendar(config)
        print_result(result)
        passed = passed and result[0]
    bridge = check_bridge(config.mqtt)   # only for a room bridged to a central broker
    if bridge is not None:
        print_result(bridge)
        passed = passed and bridge[0]
    return 0 if passed else 1


def print_result(result: Result) -> None:
    """'ok    nut     meeting@127.0.0.1:3493  OL, charge 100 %'."""
    ok, name, what, detail = result
    line = f"{'ok' if ok else 'FAIL':<6}{name:<8}{what}"
    print(f"{line}  {detail}" if detail else line, flush=True)


def check_ups(ups: UpsConfig) -> Result:
    """Read the UPS once (waiting out upsd's start-up WAIT)."""
    host = f"[{ups.host}]" if ":" in ups.host else ups.host
    what = f"{ups.name}@{host}:{ups.port}"
    reader = UpsReader(ups)
    reading = _read(reader)
    for _ in range(UPS_STARTING_RETRIES):
        if reading.error != "starting":
            break
        time.sleep(1)
        reading = _read(reader)
    if reading.error:
        return False, "nut", what, reading.error_detail.split(": ", 1)[-1]
    return True, "nut", what, reading_summary(reading)


def print_runtimecal(config: Config, ups: UpsConfig) -> None:
    """For a nutdrv_qx or blazer_* UPS Siaga has measured: the ups.conf lines it implies."""
    for line in runtimecal_lines(config, ups, _read(UpsReader(ups))):
        print(line, flush=True)


def runtimecal_lines(config: Config, ups: UpsConfig, reading: UpsReading) -> list[str]:
    """What `siaga check` prints under a Q* UPS's line: [] for other drivers or no measurement."""
    from edge.runtime_nut import estimates_runtime, ups_conf_lines
    from edge.runtime_store import load_models, store_path
    if reading.error or not estimates_runtime(reading.driver):
        return []
    models, _ = load_models(store_path(config.edge.journal))
    lines = ups_conf_lines(ups.name, models.get(ups.name))
    if not lines:
        return []
    head = f"      ups.conf for [{ups.name}] (driver {reading.driver}), from Siaga's measurements:"
    return [head, *(f"        {line}" for line in lines)]


def _read(reader: UpsReader) -> UpsReading:
    return asyncio.run(reader.read(time.time()))


def check_mqtt(mqtt: MqttConfig, timeout: float = MQTT_TIMEOUT_S) -> Result:
    """Connect to the broker with our credentials and wait for its CONNACK."""
    what = f"{mqtt.host}:{mqtt.port}"
    answered = threading.Event()
    outcome: dict[str, Any] = {}

    def on_connect(client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        outcome["reason"] = reason
        answered.set()

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"siaga-check-{os.getpid()}",
                         protocol=paho.MQTTv311)
    client.on_connect = on_connect
    client.connect_timeout = timeout
    if mqtt.username:
        client.username_pw_set(mqtt.username, mqtt.password or None)
    try:
        if mqtt.tls:
            client.tls_set(ca_certs=mqtt.ca_file or None)
        client.connect(mqtt.host, mqtt.port, keepalive=max(5, int(timeout) * 2))
    except (OSError, ValueError) as exc:
        return False, "mqtt", what, connect_error(exc, mqtt.ca_file)
    client.loop_start()
    try:
        if not answered.wait(timeout):
            return False, "mqtt", what, f"the broker did not answer within {timeout:g} s"
        reason = outcome["reason"]
        if reason.is_failure:
            return False, "mqtt", what, f"the broker refused us: {reason}"
        return True, "mqtt", what, ""
    finally:
        client.disconnect()
        client.loop_stop()


def check_tls(mqtt: MqttConfig, now: float | None = None) -> Result:
    """The broker's certificate and mqtt.ca_file: trusted, and neither expires within 30 days."""
    what = f"{mqtt.host}:{mqtt.port}"
    try:
        context = ssl.create_default_context(cafile=mqtt.ca_file or None)
        with socket.create_connection((mqtt.host, mqtt.port), timeout=MQTT_TIMEOUT_S) as raw, \
                context.wrap_socket(raw, server_hostname=mqtt.host) as tls:
            peer = tls.getpeercert()
    except (OSError, ValueError) as exc:
        return False, "tls", what, connect_error(exc, mqtt.ca_file)
    assert peer is not None   # the default context requires a certificate
    ends: list[tuple[str, dict[str, Any]]] = [("the broker's certificate", peer)]
    if mqtt.ca_file:
        ends += [(f"the CA in {os.path.basename(mqtt.ca_file)}", ca) for ca in context.get_ca_certs()]
    return _expiry("tls", what, [(n, ssl.cert_time_to_seconds(c["notAfter"])) for n, c in ends],
                   now)


def check_lan_tls(config_path: str, now: float | None = None) -> Result | None:
    """The LAN listener's certificate that install-pi.sh made beside the config
    (siaga-broker.crt) and its CA (siaga-ca.crt): neither expires within 30 days.
    None when there is no such certificate (a Pi set up by hand)."""
    directory = os.path.dirname(os.path.abspath(config_path))
    cert = os.path.join(directory, LAN_CERT)
    if not os.path.exists(cert):
        return None
    ends = []
    for name, path in (("the broker's certificate", cert),
                       (f"the CA in {LAN_CA}", os.path.join(directory, LAN_CA))):
        try:
            ends.append((name, _not_after(path)))
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            return False, "tls", cert, f"cannot read {path}: {exc}"
    result = _expiry("tls", cert, ends, now)
    if result[0]:
        return result
    return False, "tls", cert, (f"{result[3]}: sudo rm {cert}, then run scripts/install-pi.sh "
                                "again (the PCs keep the CA)")


def _not_after(path: str) -> float:
    """A PEM certificate file's end of validity (epoch seconds), read by openssl."""
    done = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", path],
                          capture_output=True, text=True, timeout=10)
    if done.returncode != 0 or not done.stdout.startswith("notAfter="):
        raise ValueError((done.stderr.strip().splitlines() or ["not a PEM certificate"])[0])
    return ssl.cert_time_to_seconds(done.stdout.strip().split("=", 1)[1])


def _expiry(check: str, what: str, ends: list[tuple[str, float]], now: float | None) -> Result:
    """ok, or FAIL naming the certificate that ends first when that is within 30 days."""
    name, end = min(ends, key=lambda e: e[1])
    days = int((end - (time.time() if now is None else now)) // 86400)
    until = time.strftime("%Y-%m-%d", time.gmtime(end))
    if days < EXPIRY_WARN_DAYS:
        return False, check, what, f"{name} expires on {until}, in {days} days: renew it"
    return True, check, what, f"certificates valid until {until}"


def check_calendar(config: Config) -> Result:
    """Read [site] calendar once: how many bookings ahead and the next, or why it cannot be read."""
    site = config.site
    ok, detail = describe_calendar(site.calendar, site.calendar_refresh_s, site.timezone)
    return ok, "agenda", site.calendar, detail


def check_listen(config: Config) -> Result | None:
    """dashboard.listen as `siaga dashboard` resolves it (nothing bound: the dashboard may be
    running on it): a FAIL when its host does not resolve, else None."""
    problem = cannot_listen(config.dashboard.listen)
    if problem is None:
        return None
    return False, "listen", config.dashboard.listen, f"siaga dashboard cannot listen there: {problem}"


def check_gpio(gpio: GpioConfig) -> Result:
    """Claim the LED, buzzer and button pins once, then release them."""
    what = f"{gpio.led_kind} on {','.join(map(str, gpio.led_pins))}"
    try:
        indicator = Indicator(gpio, on_button=lambda: None)
    except IndicatorError as exc:
        hint = " (is `siaga edge` running and holding the pins?)" if "busy" in str(exc).lower() else ""
        return False, "gpio", what, f"{exc}{hint}"
    try:
        return True, "gpio", indicator.describe(), ""
    finally:
        indicator.close()


def check_alerts(config: Config) -> list[Result]:
    """Each URL of ``alerts.urls_file``: does Apprise parse it, and does a test alert arrive?
    Lines name the file's line and the service, never the URL (it holds a token)."""
    if not config.alerts.urls_file:
        return []
    from dashboard.alerts.rules import Alert, AlertKind      # the dashboard's extra ("pi")
    from dashboard.alerts.targets import describe, problem, read_lines, send, urls_path
    from dashboard.alerts.texts import render

    path = urls_path(config)
    assert path is not None   # None only without alerts.urls_file
    try:
        lines = read_lines(path)
    except (OSError, UnicodeError) as exc:
        return [(False, "alerts", str(path), f"cannot read: {getattr(exc, 'strerror', None) or exc}")]
    if not lines:
        return [(False, "alerts", str(path), "holds no URL: alerts would go nowhere")]
    site, now = config.site, time.time()
    title, body = render(Alert(site.id, AlertKind.TEST, site.name or site.id,
                               detail={"by": "siaga check"}, at=now), config.alerts.language,
                         ZoneInfo(site.timezone), config.dashboard.public_url, now)
    results: list[Result] = []
    for item, notifier in describe(lines):
        what = f"{path.name} line {item.line}"
        if item.service is None:
            results.append((False, "alerts", what, problem(item)))
            continue
        reason = send(notifier, title, body)
        detail = f"{item.service} URL parses; test alert " + (
            "sent" if reason is None else f"not sent: {reason}")
        results.append((reason is None, "alerts", what, detail))
    return results
