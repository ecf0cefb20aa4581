"""`siaga check` through the real CLI against a real upsd and mosquitto."""

import subprocess
from pathlib import Path

import pytest

from siaga.servers import Mosquitto, free_port
from tests.check_support import check, write_config


def lines(done: subprocess.CompletedProcess) -> dict[str, str]:
    """check name -> its line."""
    return {line[6:14].strip(): line for line in done.stdout.splitlines()}


def test_all_pass_then_each_server_fails(tmp_path, upsd, broker):
    path = write_config(tmp_path, upsd.port, broker.port)
    done = check(path)
    assert done.returncode == 0, done.stdout + done.stderr
    got = lines(done)
    assert got["config"] == f"ok    config  {path}"
    assert got["nut"] == (f"ok    nut     meeting@127.0.0.1:{upsd.port}  "
                          "OL, charge 100 %, runtime 30 min")
    assert got["mqtt"] == f"ok    mqtt    127.0.0.1:{broker.port}"
    assert got["gpio"] == "ok    gpio    rgb on 17,27,22, buzzer 23, button 24 (mock)"
    assert len(done.stdout.splitlines()) == 4

    upsd.stop()
    done = check(path)
    assert done.returncode == 1
    assert lines(done)["nut"].startswith(f"FAIL  nut     meeting@127.0.0.1:{upsd.port}  "
                                         "connection refused")
    assert lines(done)["mqtt"].startswith("ok")

    broker.stop()
    done = check(path)
    assert done.returncode == 1
    assert lines(done)["mqtt"].startswith(f"FAIL  mqtt    127.0.0.1:{broker.port}  connection refused")
    assert "Traceback" not in done.stderr


def test_gpio_problem_is_a_fail_line(tmp_path):
    path = write_config(tmp_path, free_port(), free_port(), "buzzer_pin = 17")
    done = check(path)
    assert done.returncode == 1, done.stderr
    gpio = lines(done)["gpio"]
    assert gpio.startswith("FAIL  gpio    rgb on 17,27,22  gpio: cannot set up") and "17" in gpio[30:]
    assert [line[:6].strip() for line in done.stdout.splitlines()] == ["ok", "FAIL", "FAIL", "FAIL"]
    assert "Traceback" not in done.stderr


def test_bad_config_exits_2_with_one_message(tmp_path):
    path = tmp_path / "siaga.toml"
    path.write_text('[site]\nid = "bappeda-rr1"\n[[ups]]\nname = "meeting"\n[policy]\n'
                    'notice_after_s = "five"\n')
    done = check(path)
    assert done.returncode == 2
    assert done.stderr == ""
    assert done.stdout == (f'FAIL  config  {path}  siaga.toml: policy.notice_after_s: must be a '
                           f'number >= 0, got "five"\n')


def test_misspelt_section_and_key_are_fail_lines_naming_the_nearest(tmp_path):
    """`[polcy]` once passed `siaga check` and left the whole policy at its defaults."""
    path = write_config(tmp_path, free_port(), free_port())
    path.write_text(path.read_text().replace("[mqtt]", "[mqtt]\nhots = \"broker\"")
                    + "[polcy]\nnotice_after_s = 10\n")
    done = check(path)
    assert done.returncode == 2 and done.stderr == ""
    assert done.stdout.splitlines() == [
        f"FAIL  config  {path}  siaga.toml: polcy: unknown section; did you mean [policy]?",
        f'FAIL  config  {path}  siaga.toml: mqtt.hots: unknown key; did you mean "host"?']


def test_broker_refusing_our_login_is_a_fail_line(tmp_path, request):
    passwords = tmp_path / "mosquitto.passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), "siaga-edge", "right"],
                   check=True, capture_output=True, timeout=10)
    passwords.chmod(0o600)
    broker = Mosquitto(tmp_path / "broker", extra=f"password_file {passwords}").start()
    request.addfinalizer(broker.stop)
    (tmp_path / "mqtt.password").write_text("wrong\n")
    path = write_config(tmp_path, free_port(), broker.port)
    path.write_text(path.read_text().replace(
        "[mqtt]", '[mqtt]\nusername = "siaga-edge"\npassword_file = "mqtt.password"'))
    done = check(path)
    assert done.returncode == 1
    assert lines(done)["mqtt"] == (f"FAIL  mqtt    127.0.0.1:{broker.port}  the broker refused us: "
                                   "Not authorized")
    (tmp_path / "mqtt.password").write_text("right\n")
    assert lines(check(path))["mqtt"] == f"ok    mqtt    127.0.0.1:{broker.port}"


def test_a_dashboard_address_that_does_not_resolve_is_a_fail_line(tmp_path):
    """`siaga check` said nothing of a dashboard.listen the dashboard then could not use."""
    path = write_config(tmp_path, free_port(), free_port())
    path.write_text(path.read_text() + '[dashboard]\nlisten = "siaga.invalid:8080"\n')
    done = check(path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert lines(done)["listen"].startswith(
        "FAIL  listen  siaga.invalid:8080  siaga dashboard cannot listen there: ")


def test_a_dashboard_address_not_host_port_is_a_config_fail_line(tmp_path):
    path = write_config(tmp_path, free_port(), free_port())
    path.write_text(path.read_text() + '[dashboard]\nlisten = "nonsense"\n')
    done = check(path)
    assert done.returncode == 2 and done.stderr == ""
    assert done.stdout == (f'FAIL  config  {path}  siaga.toml: dashboard.listen: must be HOST:PORT '
                           'such as "127.0.0.1:8080", got "nonsense"\n')


FLAG = "/run/siaga/killpower"   # what install-pi.sh writes into edge.powerdown_flag
REPO = Path(__file__).resolve().parents[1]
# Debian 12's own upsmon.conf (nut-client 2.8.0), the lines that matter: an admin's file.
DEBIAN_UPSMON = """# POWERDOWNFLAG - Flag file for forcing UPS shutdown on the primary system
#
# upsmon will create a file with this name in primary mode when it's time
# to shut down the load.
POWERDOWNFLAG /etc/killpower
MONITOR meeting@localhost 0 upsmon secret secondary
"""


def upsmon_lines(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in done.stdout.splitlines() if line[6:14].strip() == "upsmon"
            or line.strip().startswith("upsmon:")]


def with_flag(tmp_path: Path) -> Path:
    path = write_config(tmp_path, free_port(), free_port())
    path.write_text(path.read_text() + f'[edge]\npowerdown_flag = "{FLAG}"\n')
    return path


def nut_dir(tmp_path: Path, upsmon_conf: str) -> str:
    (tmp_path / "nut").mkdir()
    (tmp_path / "nut" / "upsmon.conf").write_text(upsmon_conf)
    return str(tmp_path / "nut")


@pytest.mark.parametrize("upsmon_conf, says", [
    (DEBIAN_UPSMON, "POWERDOWNFLAG is /etc/killpower"),
    ("MONITOR meeting@localhost 0 upsmon secret secondary\n", "no POWERDOWNFLAG"),
])
def test_an_upsmon_conf_naming_another_killpower_flag_is_a_fail_line(tmp_path, upsmon_conf, says):
    """With the admin's upsmon.conf kept (Debian's /etc/killpower), the Pi powered off at the
    end of a cut, NUT's shutdown hook found no flag, the UPS never cut its outlets, and the Pi
    stayed off when the mains came back; `siaga check` said nothing of it."""
    nut = nut_dir(tmp_path, upsmon_conf)
    done = check(with_flag(tmp_path), NUT_CONFPATH=nut, SYSTEMD_UNIT_PATH=str(tmp_path / "none"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert upsmon_lines(done) == [
        f"FAIL  upsmon  {nut}/upsmon.conf  {says}, but edge.powerdown_flag is {FLAG}: after a cut "
        "the Pi powers off, the UPS never cuts its outlets and the Pi stays off when the mains is "
        f"back; set POWERDOWNFLAG {FLAG}"]


def test_the_shipped_upsmon_conf_and_path_unit_match_the_installed_flag(tmp_path):
    nut, units = REPO / "firmware_config" / "nut", REPO / "systemd"
    done = check(with_flag(tmp_path), NUT_CONFPATH=str(nut), SYSTEMD_UNIT_PATH=str(units))
    assert upsmon_lines(done) == [
        f"ok    upsmon  {nut}/upsmon.conf  POWERDOWNFLAG {FLAG}, as edge.powerdown_flag",
        f"ok    upsmon  {units}/siaga-poweroff.path  watches {FLAG}, as edge.powerdown_flag"]
    other = tmp_path / "units"
    other.mkdir()
    (other / "siaga-poweroff.path").write_text(
        (units / "siaga-poweroff.path").read_text().replace(FLAG, "/etc/killpower"))
    done = check(with_flag(tmp_path), NUT_CONFPATH=str(nut), SYSTEMD_UNIT_PATH=str(other))
    assert upsmon_lines(done)[1] == (
        f"FAIL  upsmon  {other}/siaga-poweroff.path  watches /etc/killpower, but "
        f"edge.powerdown_flag is {FLAG}: after a cut the Pi is never powered off; "
        f"set PathExists={FLAG}")


def test_no_line_without_a_flag_or_a_file_and_a_note_when_it_cannot_be_read(tmp_path):
    nut = nut_dir(tmp_path, DEBIAN_UPSMON)
    plain = write_config(tmp_path, free_port(), free_port())   # edge.powerdown_flag = ""
    assert upsmon_lines(check(plain, NUT_CONFPATH=nut)) == []
    missing = check(with_flag(tmp_path), NUT_CONFPATH=str(tmp_path / "no-nut"),
                    SYSTEMD_UNIT_PATH=str(tmp_path / "none"))
    assert upsmon_lines(missing) == []
    (tmp_path / "nut" / "upsmon.conf").unlink()
    (tmp_path / "nut" / "upsmon.conf").mkdir()   # read fails as for a user not in group nut
    done = check(with_flag(tmp_path), NUT_CONFPATH=nut, SYSTEMD_UNIT_PATH=str(tmp_path / "none"))
    assert upsmon_lines(done) == [
        f"      upsmon: cannot read {nut}/upsmon.conf (Is a directory): its POWERDOWNFLAG is not "
        "compared with edge.powerdown_flag (run siaga check as root)"]
