"""The example files in firmware_config/ work: siaga.toml loads, the broker ACL holds, upsd starts."""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import ssl
import subprocess
import threading
import tomllib
from pathlib import Path

import pytest

from protocol import config as cfg
from siaga.servers import DEFAULT_UPS, Mosquitto, Upsd, find_program
from tests.broker_support import FIRMWARE, Client
from tests.install_support import shipped_nut_files

SITE = "bappeda-rr1"


def _copy_with_secrets(example: Path, tmp_path: Path) -> Path:
    """Copy ``example`` into tmp_path and create every password/token file it names."""
    target = tmp_path / example.name
    shutil.copy(example, target)
    for name in re.findall(r'^\s*(?:password_file|api_token_file)\s*=\s*"([^"]+)"',
                           example.read_text(), re.M):
        (tmp_path / name).write_text("secret-for-test\n")
    for name in re.findall(r'^\s*ca_file\s*=\s*"([^"]+)"', example.read_text(), re.M):
        shutil.copy(ssl.get_default_verify_paths().cafile, tmp_path / name)  # real CAs (PEM)
    return target


def _examples() -> list[Path]:
    return sorted(FIRMWARE.rglob("*.toml"))


@pytest.mark.parametrize("example", _examples(), ids=lambda p: str(p.relative_to(FIRMWARE)))
def test_example_toml_loads_without_warnings(example: Path, tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    """Every example config loads with its own loader and has no unknown keys."""
    target = _copy_with_secrets(example, tmp_path)
    with caplog.at_level(logging.WARNING):
        if "agent" in tomllib.loads(example.read_text()):
            loaded = cfg.load_agent_config(target)
            assert loaded.agent.pc_id
        else:
            loaded = cfg.load_config(target)
            assert loaded.ups and loaded.ups[0].name == "meeting"
    assert loaded.mqtt.password == "secret-for-test" or not loaded.mqtt.password_file
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_siaga_toml_example_shows_every_key() -> None:
    """A newcomer finds every key of every section in the example, active or commented."""
    text = (FIRMWARE / "siaga" / "siaga.toml").read_text()
    for section, check in [("site", cfg.SiteConfig), ("mqtt", cfg.MqttConfig),
                           ("ups", cfg.UpsConfig), ("edge", cfg.EdgeConfig),
                           ("policy", cfg.PolicyConfig), ("gpio", cfg.GpioConfig),
                           ("dashboard", cfg.DashboardConfig),
                           ("homeassistant", cfg.HomeAssistantConfig)]:
        for key in cfg.SCHEMA[section]:
            assert re.search(rf"^#?\s*{key}\s*=", text, re.M), f"[{section}] {key} missing"
        assert {f.name for f in dataclasses.fields(check)} >= set(cfg.SCHEMA[section])


def test_siaga_toml_example_keeps_the_pi_shutting_down_last() -> None:
    """The PC's shutdown (and its grace) comes before the UPS's own low-battery level (LB)."""
    loaded = tomllib.loads((FIRMWARE / "siaga" / "siaga.toml").read_text())
    ups_conf = (FIRMWARE / "nut" / "ups.conf").read_text()
    low = int(re.search(r"^\s*override\.battery\.runtime\.low\s*=\s*(\d+)", ups_conf, re.M)[1])
    policy = loaded["policy"]
    assert policy["shutdown_at_runtime_s"] - policy["shutdown_grace_s"] > low


# ------------------------------------------------------------------------------- mosquitto


@pytest.fixture
def login(room_broker: Mosquitto, request: pytest.FixtureRequest):
    """login(user) -> a connected Client, closed after the test."""

    def make(user: str, password: str | None = None) -> Client:
        client = Client(room_broker.port, user, password)
        request.addfinalizer(client.close)
        return client

    return make


P = f"siaga/{SITE}"
ALLOWED = [
    ("siaga-edge", f"{P}/edge/state"), ("siaga-edge", f"{P}/edge/event"),
    ("siaga-edge", f"{P}/edge/availability"), ("siaga-edge", f"{P}/pc/meeting-pc/command"),
    ("siaga-edge", f"{P}/edge/command"),
    ("meeting-pc", f"{P}/pc/meeting-pc/status"), ("meeting-pc", f"{P}/pc/meeting-pc/ack"),
    ("meeting-pc", f"{P}/pc/meeting-pc/availability"),
    ("siaga-dashboard", f"{P}/edge/command"),
]
DENIED = [
    ("meeting-pc", f"{P}/pc/other-pc/command"), ("meeting-pc", f"{P}/pc/meeting-pc/command"),
    ("meeting-pc", f"{P}/edge/state"), ("meeting-pc", f"{P}/edge/command"),
    ("meeting-pc", f"{P}/pc/other-pc/status"), ("other-pc", f"{P}/pc/meeting-pc/ack"),
    ("siaga-dashboard", f"{P}/edge/state"), ("siaga-dashboard", f"{P}/pc/meeting-pc/command"),
    ("siaga-edge", f"{P}/pc/meeting-pc/status"),
]


@pytest.mark.parametrize(("user", "topic"), ALLOWED)
def test_acl_lets_each_user_publish_its_own_topics(login, user: str, topic: str) -> None:
    """The broker accepts what CONTRACT §3 says this user sends."""
    assert login(user).publish(topic) == "accepted"


@pytest.mark.parametrize(("user", "topic"), DENIED)
def test_acl_refuses_other_topics(login, user: str, topic: str) -> None:
    """An agent cannot command another PC or fake the room state; the dashboard cannot either."""
    assert login(user).publish(topic) == "Not authorized"


def test_acl_delivers_what_each_side_must_read(login) -> None:
    """The edge hears every PC; an agent hears its own commands and nobody else's, and its own
    acks (its logon banner learns so that a shutdown failed)."""
    edge, pc, other = login("siaga-edge"), login("meeting-pc"), login("other-pc")
    edge.subscribe(f"{P}/pc/+/status")
    pc.subscribe(f"{P}/pc/meeting-pc/command")
    pc.subscribe(f"{P}/pc/meeting-pc/ack")
    other.subscribe(f"{P}/pc/meeting-pc/command")
    other.subscribe(f"{P}/pc/meeting-pc/ack")
    assert pc.publish(f"{P}/pc/meeting-pc/status") == "accepted"
    assert edge.publish(f"{P}/pc/meeting-pc/command") == "accepted"
    assert pc.publish(f"{P}/pc/meeting-pc/ack") == "accepted"
    deadline = threading.Event()
    for _ in range(50):
        if edge.messages and len(pc.messages) >= 2:
            break
        deadline.wait(0.05)
    deadline.wait(0.3)  # give a wrongly delivered message time to arrive
    assert [t for t, _ in edge.messages] == [f"{P}/pc/meeting-pc/status"]
    assert sorted(t for t, _ in pc.messages) == [f"{P}/pc/meeting-pc/ack",
                                                 f"{P}/pc/meeting-pc/command"]
    assert other.messages == []


def test_broker_refuses_anonymous_and_wrong_passwords(room_broker: Mosquitto) -> None:
    """Without the password file's credentials nobody gets in."""
    for user, password in [("", ""), ("meeting-pc", "wrong")]:
        client = Client(room_broker.port, user or "nobody", password)
        try:
            assert not client.connected.is_set()
            assert client.connect_reason in ("Not authorized", "Bad user name or password")
        finally:
            client.close()


# ------------------------------------------------------------------------------------ NUT


def test_nut_examples_start_upsd_with_the_siaga_user(tmp_path: Path,
                                                    request: pytest.FixtureRequest) -> None:
    """upsd runs with our upsd.conf, upsd.users and ups.conf; user siaga cannot cut the power."""
    nut = FIRMWARE / "nut"
    server = Upsd(tmp_path / "nut")
    request.addfinalizer(server.stop)
    server.directory.mkdir()
    server.write_values("meeting", DEFAULT_UPS)
    for name, text in shipped_nut_files(nut, server.port).items():
        (server.directory / name).write_text(text)
    server.start_driver("meeting")
    server.start_upsd()
    server.wait_status("meeting", "OL")
    upscmd = find_program("upscmd", "nut-client")
    target = f"meeting@127.0.0.1:{server.port}"
    login = ["-u", "siaga", "-p", "CHANGE-ME-siaga"]
    # dummy-ups offers load.off only: user siaga must not be able to cut the room's power,
    # nor change values (upsd checks that a command exists before it checks the user).
    for argv in ([upscmd, *login, target, "load.off"],
                 [find_program("upsrw", "nut-client"), "-s", "ups.status=OB", *login, target]):
        denied = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        assert "ACCESS-DENIED" in denied.stderr, denied
    assert server.read("meeting")["ups.status"] == "OL"


def test_upsmon_only_watches_the_ups_of_ups_conf() -> None:
    """upsmon watches the UPS with power value 0 (never shuts down: Siaga decides, see
    tests/test_upsmon.py) as a secondary that may not set FSD; its upsd.users entry matches."""
    nut = FIRMWARE / "nut"
    users = (nut / "upsd.users").read_text()
    upsmon = (nut / "upsmon.conf").read_text()
    monitor = re.search(r"^MONITOR (\S+)@localhost 0 (\S+) (\S+) secondary$", upsmon, re.M)
    assert monitor, "upsmon.conf needs a MONITOR ... 0 ... secondary line"
    assert re.search(r"^MINSUPPLIES 0$", upsmon, re.M)
    ups, user, password = monitor.groups()
    assert re.search(rf"^\[{ups}\]", (nut / "ups.conf").read_text(), re.M)
    assert re.search(rf"\[{user}\]\s*\n\s*password = {re.escape(password)}\s*\n\s*upsmon secondary",
                     users)
    assert "upsmon primary" not in users
    assert "MODE=standalone" in (nut / "nut.conf").read_text()
