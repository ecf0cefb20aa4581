"""systemd/siaga-edge.service: systemd accepts every line, and the lines Siaga relies on are there."""

import configparser
import shutil
import subprocess
from pathlib import Path

UNIT = Path(__file__).resolve().parent.parent / "systemd" / "siaga-edge.service"
EXEC = "/opt/siaga/venv/bin/siaga"


def read_unit(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(text)
    return parser


def test_unit_has_what_siaga_relies_on():
    service = read_unit(UNIT.read_text())["Service"]
    assert service["Type"] == "notify"  # READY=1 / WATCHDOG=1 from edge.sdnotify
    assert service["ExecStart"] == f"{EXEC} edge -c /etc/siaga/siaga.toml"
    assert service["WatchdogSec"] == "30" and service["Restart"] == "on-failure"
    assert service["User"] == "siaga" and service["SupplementaryGroups"] == "gpio"
    assert service["StateDirectory"] == "siaga"  # /var/lib/siaga: the journal's default home
    assert service["ProtectSystem"] == "strict" and service["NoNewPrivileges"] == "yes"
    # The GPIO character devices stay reachable.
    assert service.get("PrivateDevices", "no") == "no" and "PrivateUsers" not in service
    assert service["DeviceAllow"] == "char-gpiochip rw"
    assert set(service["RestrictAddressFamilies"].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}
    assert service["RestartPreventExitStatus"] == "2"  # a bad config is not retried forever
    assert read_unit(UNIT.read_text())["Install"]["WantedBy"] == "multi-user.target"


def test_systemd_accepts_every_line(tmp_path: Path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return  # the configparser test above is what remains on a machine without systemd
    # verify checks that ExecStart exists; /opt/siaga is there only on an installed Pi.
    unit = tmp_path / "siaga-edge.service"
    unit.write_text(UNIT.read_text().replace(EXEC, shutil.which("true")))
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    # And it would notice a mistake (so the check above can fail).
    unit.write_text(unit.read_text().replace("WatchdogSec=30", "WatchdogSec=thirty"))
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                          timeout=60)
    assert "WatchdogSec" in done.stderr or "thirty" in done.stderr
