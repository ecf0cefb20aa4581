"""Config: defaults, every error gathered with file and key, exit 2 and no traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from protocol.config import ConfigError, load_agent_config, load_config

GOOD = """
[site]
id = "bappeda-rr1"
[mqtt]
password_file = "mqtt.pw"
[[ups]]
name = "meeting"
"""


def write(tmp_path: Path, text: str, name: str = "siaga.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_and_secret(tmp_path):
    (tmp_path / "mqtt.pw").write_text("s3cret\n")
    config = load_config(write(tmp_path, GOOD))
    assert config.site.language == "id"
    assert config.policy.notice_after_s == 5 and config.edge.pcs == ("meeting-pc",)
    assert config.mqtt.password == "s3cret"
    assert "s3cret" not in repr(config)


def test_every_error_is_reported_at_once(tmp_path):
    path = write(tmp_path, """
[site]
id = "Bappeda RR1"
language = "fr"
[policy]
notice_after_s = "five"
[gpio]
led_pins = [17, 99, 22]
""")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    lines = str(info.value).splitlines()
    assert 'siaga.toml: policy.notice_after_s: must be a number >= 0, got "five"' in lines
    assert any(line.startswith("siaga.toml: site.id: must match") for line in lines)
    assert any(line.startswith("siaga.toml: site.language: must be one of") for line in lines)
    assert any(line.startswith("siaga.toml: gpio.led_pins:") for line in lines)
    assert any(line.startswith("siaga.toml: ups: needs at least one") for line in lines)
    assert len(lines) == 5


@pytest.mark.parametrize("text, expected", [
    ("[site\nid=1", "not valid TOML"),
    (GOOD.replace('"mqtt.pw"', '"missing.pw"'), "mqtt.password_file: cannot read"),
    (GOOD + "[policy]\nwrapup_at_runtime_s = 60\n", "shutdown_at_runtime_s: must not be above"),
    (GOOD + '[[ups]]\nname = "meeting"\n', "UPS names must be different"),
    (GOOD + "[edge]\npoll_interval_s = 0\n", "edge.poll_interval_s: must be a number >= 0.1"),
    # An empty host made paho raise "Invalid host." at start-up: a traceback, not exit 2.
    (GOOD.replace("[mqtt]\n", '[mqtt]\nhost = ""\n'), 'mqtt.host: must be a host name or IP'),
    (GOOD + 'host = "upsd host"\n', r'ups\[0\].host: must be a host name or IP'),
])
def test_single_errors(tmp_path, text, expected):
    (tmp_path / "mqtt.pw").write_text("pw")
    with pytest.raises(ConfigError, match=expected):
        load_config(write(tmp_path, text))


def test_agent_config_needs_pc_id(tmp_path):
    with pytest.raises(ConfigError, match="agent.pc_id: is required"):
        load_agent_config(write(tmp_path, '[site]\nid = "rr1"\n', "agent.toml"))


def test_cli_bad_config_exits_2_with_one_message_and_no_traceback(tmp_path):
    path = write(tmp_path, '[site]\nid = "rr1"\n[policy]\nnotice_after_s = "five"\n[[ups]]\nname="m"\n')
    result = subprocess.run([sys.executable, "-m", "siaga", "edge", "-c", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == 'siaga.toml: policy.notice_after_s: must be a number >= 0, got "five"'


def test_cli_missing_config_exits_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "siaga", "edge", "-c", str(tmp_path / "no.toml")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "no such file" in result.stderr and "Traceback" not in result.stderr


TYPOS = GOOD.replace("[mqtt]\n", '[mqtt]\nhots = "broker.lan"\n') + "[polcy]\nnotice_after_s = 10\n"
TYPO_LINES = ['siaga.toml: polcy: unknown section; did you mean [policy]?',
              'siaga.toml: mqtt.hots: unknown key; did you mean "host"?']


def test_misspelt_section_and_key_are_errors_naming_the_nearest_name(tmp_path):
    """`[polcy]` once dropped the whole policy to its defaults; now it stops the load."""
    (tmp_path / "mqtt.pw").write_text("pw")
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, TYPOS))
    assert sorted(str(info.value).splitlines()) == sorted(TYPO_LINES)


@pytest.mark.parametrize("text, expected", [
    ('id = "rr1"\n' + GOOD.replace('id = "bappeda-rr1"\n', ""),
     ["siaga.toml: id: outside any section; it belongs under [site]",
      "siaga.toml: site.id: is required"]),
    (GOOD + "[gpoi]\n[dashbord]\ngroups = {}\n",
     ["siaga.toml: gpoi: unknown section; did you mean [gpio]?",
      "siaga.toml: dashbord: unknown section; did you mean [dashboard]?"]),
    (GOOD + "[[usp]]\nname = \"x\"\n", ["siaga.toml: usp: unknown section; did you mean [[ups]]?"]),
    (GOOD + 'nmae = "x"\n', ['siaga.toml: ups[0].nmae: unknown key; did you mean "name"?']),
    (GOOD.replace("[mqtt]", 'di = "x"\n[mqtt]'), ['siaga.toml: site.di: unknown key; did you mean "id"?']),
    (GOOD + "[policy]\nshutdown_at_runtme_s = 60\n",
     ['siaga.toml: policy.shutdown_at_runtme_s: unknown key; did you mean "shutdown_at_runtime_s"?']),
    (GOOD + "[alerts]\n\"the colour\" = \"a\"\n",
     ['siaga.toml: alerts."the colour": unknown key; known keys: inbox_url, language, min_room, quiet_repeat_s, '
      'retry_max_s, urls_file']),
])
def test_unknown_names_are_errors(tmp_path, text, expected):
    (tmp_path / "mqtt.pw").write_text("pw")
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert str(info.value).splitlines() == expected


def test_agent_file_typos_are_errors(tmp_path):
    path = write(tmp_path, '[site]\nid = "rr1"\n[agnet]\n[agent]\npc_id = "pc"\nbaner = false\n'
                           '[agent.obz]\nport = 4455\n', "agent.toml")
    with pytest.raises(ConfigError) as info:
        load_agent_config(path)
    assert sorted(str(info.value).splitlines()) == [
        'agent.toml: agent.baner: unknown key; did you mean "banner"?',
        'agent.toml: agent.obz: unknown key; did you mean "obs"?',
        'agent.toml: agnet: unknown section; did you mean [agent]?']


@pytest.mark.parametrize("command", ["edge", "dashboard", "report", "agent"])
def test_cli_typo_exits_2_naming_it_from_every_command(tmp_path, command):
    """Every program that reads the file refuses a typo with exit 2 and the nearest name."""
    (tmp_path / "mqtt.pw").write_text("pw")
    path, expected = write(tmp_path, TYPOS), TYPO_LINES
    if command == "agent":
        path = write(tmp_path, '[site]\nid = "rr1"\n[mqtt]\nhots = "broker.lan"\n[agnet]\n'
                               '[agent]\npc_id = "meeting-pc"\n', "agent.toml")
        expected = ['agent.toml: agnet: unknown section; did you mean [agent]?',
                    'agent.toml: mqtt.hots: unknown key; did you mean "host"?']
    result = subprocess.run([sys.executable, "-m", "siaga", command, "-c", str(path)],
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2, result.stdout + result.stderr
    assert sorted(result.stderr.splitlines()) == sorted(expected)


# TOML writes inf and nan; 1e300 is a number no one means (`shutdown_grace_s = inf` once passed
# and the edge died at the first power cut); a list or a link can be wrong in its own way.
@pytest.mark.parametrize("table, line, expected", [
    ("policy", "shutdown_grace_s = inf", "policy.shutdown_grace_s: must be a number >= 0 and <= 3600, got inf"),
    ("policy", "notice_after_s = inf", "policy.notice_after_s: must be a number >= 0 and <= 86400, got inf"),
    ("policy", "notice_after_s = 1e300", "policy.notice_after_s: must be a number >= 0 and <= 86400, got 1e+300"),
    ("policy", "pc_offline_after_s = nan", "policy.pc_offline_after_s: must be a number >= 0 and <= 86400, got nan"),
    ("policy", "wrapup_at_charge_pct = 150", "policy.wrapup_at_charge_pct: must be a number >= 0 and <= 100, got 150"),
    ("policy", "disk_low_gb = inf", "policy.disk_low_gb: must be a number >= 0 and <= 10000, got inf"),
    ("dashboard", "stale_after_s = inf", "dashboard.stale_after_s: must be a number >= 10 and <= 86400, got inf"),
    ("alerts", "quiet_repeat_s = inf", "alerts.quiet_repeat_s: must be a number >= 0 and <= 604800, got inf"),
    ("edge", "poll_interval_s = -inf", "edge.poll_interval_s: must be a number >= 0.1 and <= 60, got -inf"),
    # every command was sent twice to the PC and pc_online journaled twice
    ("edge", 'pcs = ["pc1", "pc1"]',
     "edge.pcs: must name each PC once; \"pc1\" is there twice, got ['pc1', 'pc1']"),
    # a link in every alert that goes nowhere; a relative href on the room page
    ("dashboard", 'public_url = "pi.local:8080"',
     'dashboard.public_url: must be "" or an address starting with http:// or https://, '
     'got "pi.local:8080"'),
    ("alerts", 'inbox_url = "chat.example.go.id/room"',
     'alerts.inbox_url: must be "" or an address starting with http:// or https://, '
     'got "chat.example.go.id/room"'),
])
def test_a_value_outside_what_it_may_be_is_one_line(tmp_path, table, line, expected):
    (tmp_path / "mqtt.pw").write_text("pw")
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, GOOD + f"[{table}]\n{line}\n"))
    assert str(info.value) == f"siaga.toml: {expected}"


def test_an_infinite_grace_stops_the_edge_at_start_with_one_line(tmp_path):
    (tmp_path / "mqtt.pw").write_text("pw")
    path = write(tmp_path, GOOD + "[policy]\nshutdown_grace_s = inf\n")
    result = subprocess.run([sys.executable, "-m", "siaga", "edge", "-c", str(path)],
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert result.stderr.strip() == ("siaga.toml: policy.shutdown_grace_s: must be a number >= 0 "
                                     "and <= 3600, got inf")


def test_links_with_their_scheme_are_taken(tmp_path):
    (tmp_path / "mqtt.pw").write_text("pw")
    config = load_config(write(tmp_path, GOOD + '[dashboard]\npublic_url = "https://siaga.example.go.id"\n'
                                                '[alerts]\ninbox_url = "http://chat.lan/room"\n'))
    assert (config.dashboard.public_url, config.alerts.inbox_url) == (
        "https://siaga.example.go.id", "http://chat.lan/room")
