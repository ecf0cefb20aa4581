"""scripts/install-pi.sh: a dry run changes nothing, a second run changes nothing, edits survive."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from protocol.config import load_config
from siaga.servers import Mosquitto
from tests.install_support import REPO, SCRIPT, _as_done, _connects, install, snapshot


def test_dry_run_prints_every_action_and_changes_nothing(tmp_path: Path) -> None:
    """--dry-run lists the files, the user, the packages and the units, and writes nothing."""
    root = tmp_path / "root"
    out = install("--dry-run", "--root", str(root), "--no-venv").stdout
    for expected in ["write {r}/etc/siaga/siaga.toml", "write {r}/etc/nut/upsd.users",
                     "write {r}/etc/mosquitto/conf.d/siaga.conf", "add_broker_user",
                     "useradd --system", "usermod -a -G gpio siaga",
                     "systemctl enable siaga-edge.service", "systemctl enable nut-server.service"]:
        assert expected.format(r=root) in out, expected
    assert not root.exists()


def test_second_run_changes_nothing_and_edits_survive(tmp_path: Path) -> None:
    """Idempotent: run twice, the tree is identical; an edited siaga.toml is kept."""
    root = tmp_path / "root"
    first = install("--root", str(root), "--no-venv").stdout
    assert "[skip: --root] useradd" in first and "[skip: --root] systemctl" in first
    before = snapshot(root)
    assert "etc/siaga/siaga.toml" in before and "etc/nut/ups.conf" in before
    second = install("--root", str(root), "--no-venv").stdout
    assert snapshot(root) == before
    assert "Nothing to do" in second
    edited = root / "etc/siaga/siaga.toml"
    edited.write_text(edited.read_text().replace('id = "bappeda-rr1"', 'id = "dinkes-rr2"'))
    (root / "etc/nut/ups.conf").write_text("[meeting]\n  driver = nutdrv_qx\n  port = auto\n")
    own_unit = root / "etc/systemd/system/siaga-dashboard.service"
    own_unit.parent.mkdir(parents=True, exist_ok=True)
    own_unit.write_text("[Service]\nAmbientCapabilities=CAP_NET_BIND_SERVICE\n")
    install("--root", str(root), "--no-venv")
    assert 'id = "dinkes-rr2"' in edited.read_text()
    assert "nutdrv_qx" in (root / "etc/nut/ups.conf").read_text()
    assert "CAP_NET_BIND_SERVICE" in own_unit.read_text()
    assert "siaga dashboard -c" in (root / "usr/local/lib/systemd/system/siaga-dashboard.service").read_text()


def test_a_broken_siaga_toml_is_kept_and_named_without_a_traceback(tmp_path: Path) -> None:
    """An admin's siaga.toml with a TOML mistake: the run goes on, says which file, keeps it."""
    root = tmp_path / "root"
    install("--root", str(root), "--no-venv")
    conf = root / "etc/siaga/siaga.toml"
    conf.write_text(conf.read_text() + "\npcs = [\n")
    done = install("--root", str(root), "--no-venv")
    assert "Traceback" not in done.stdout + done.stderr
    assert f"{conf}: " in done.stderr and "no broker users made" in done.stderr
    assert conf.read_text().endswith("pcs = [\n")


def test_installed_files_work_together(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The installed siaga.toml loads, NUT passwords match, the agent can log in to the broker."""
    root = tmp_path / "root"
    install("--root", str(root), "--no-venv")
    etc = root / "etc"
    config = load_config(etc / "siaga/siaga.toml")
    assert config.ups[0].password == (etc / "siaga/nut.password").read_text().strip()
    assert len(config.mqtt.password) >= 20
    users, upsmon = (etc / "nut/upsd.users").read_text(), (etc / "nut/upsmon.conf").read_text()
    assert "CHANGE-ME" not in users + upsmon
    assert f"password = {config.ups[0].password}" in users
    upsmon_password = re.search(r"^MONITOR \S+ 0 upsmon (\S+) secondary$", upsmon, re.M)[1]
    assert f"password = {upsmon_password}" in users
    conf = (etc / "mosquitto/conf.d/siaga.conf").read_text()
    conf = re.sub(r"^(listener|certfile|keyfile) .*$", "", conf, flags=re.M)  # tests/test_install_tls.py
    conf = conf.replace("/etc/mosquitto/", f"{etc}/mosquitto/")
    broker = Mosquitto(tmp_path / "broker", extra=conf).start()
    request.addfinalizer(broker.stop)
    pc_password = (etc / "siaga/pc-meeting-pc.password").read_text().strip()
    assert _connects(broker.port, "meeting-pc", pc_password) == "Success"
    assert _connects(broker.port, "siaga-edge", config.mqtt.password) == "Success"
    assert _connects(broker.port, "meeting-pc", "wrong") != "Success"
    # Commands to each PC are signed with its own key, made once and kept on the next run.
    key = (etc / "siaga/keys/meeting-pc.key").read_text().strip()
    assert len(key) >= 32 and dict(config.edge.command_keys) == {"meeting-pc": key.encode()}
    install("--root", str(root), "--no-venv")
    assert (etc / "siaga/keys/meeting-pc.key").read_text().strip() == key


def test_unknown_option_is_refused() -> None:
    """A typo is an error with the usage, not an install."""
    done = subprocess.run(["bash", str(SCRIPT), "--rot", "/tmp/x"], capture_output=True,
                          text=True, timeout=10)
    assert done.returncode == 2
    assert "unknown option --rot" in done.stderr


NUT_SAMPLES = ("nut.conf", "ups.conf", "upsd.conf", "upsd.users", "upsmon.conf")


@pytest.mark.parametrize("nut", ["no NUT files", "NUT's unedited samples"])
def test_dry_run_prints_line_for_line_what_the_run_then_does(tmp_path: Path, nut: str) -> None:
    """The dry run and the real run into the same tree print the same actions, the NUT step
    included (the package's samples saved and replaced, Siaga's files written, NUT restarted)."""
    root = tmp_path / "root"
    (root / "etc/nut").mkdir(parents=True)
    if nut != "no NUT files":  # the Debian package's files, as apt leaves them (CI installs it)
        for name in NUT_SAMPLES:
            shutil.copy2(Path("/etc/nut") / name, root / "etc/nut" / name)
    before = snapshot(root)
    dry = install("--dry-run", "--root", str(root), "--no-venv").stdout
    assert snapshot(root) == before
    done = install("--root", str(root), "--no-venv").stdout
    assert _as_done(dry) == _as_done(done)
    assert f"+ write {root}/etc/nut/upsd.users (mode 0640)" in _as_done(dry)
    assert ("[skip: --root] systemctl restart nut-driver-enumerator.service nut-server.service "
            "nut-monitor.service") in dry.splitlines()
    if nut != "no NUT files":
        assert f"+ cp -p {root}/etc/nut/ups.conf {root}/etc/nut/ups.conf.dist" in _as_done(dry)
        assert (root / "etc/nut/ups.conf.dist").read_bytes() == Path("/etc/nut/ups.conf").read_bytes()
        assert "CHANGE-ME" not in (root / "etc/nut/upsd.users").read_text()


def _install_block(text: str) -> list[str]:
    """The commands of the README's "Install on a Raspberry Pi" block, comments cut off."""
    section = text.split("## Install on a Raspberry Pi", 1)[1]
    block = section.split("```", 2)[1]
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_block_followed_alone_gives_a_restarted_install_reachable_on_the_lan(
        tmp_path: Path) -> None:
    """The README's install block restarts the services after the edit, the installed config
    listens on the LAN, and firmware_config/pi.md says the same."""
    commands = _install_block((REPO / "README.md").read_text())
    edit = next(i for i, c in enumerate(commands) if "/etc/siaga/siaga.toml" in c)
    restart = "sudo systemctl restart siaga-edge siaga-dashboard"
    assert restart in commands[edit + 1:], commands
    root = tmp_path / "root"
    out = install("--root", str(root), "--no-venv").stdout
    assert load_config(root / "etc/siaga/siaga.toml").dashboard.listen == "0.0.0.0:8080"
    assert restart in out and "http://<this Pi's address>:8080/" in out
    guide = (REPO / "firmware_config/pi.md").read_text()
    assert f"`{restart}`" in guide and "listens on `0.0.0.0:8080`" in guide
    assert "http://<the Pi's address>:8080/" in (REPO / "README.md").read_text()


# upsmon.conf as Siaga shipped it before upsmon was taken out of the shutdown decision: upsmon
# primary with power value 1 believed `OL FSD` and had the UPS cut the room's power on mains.
EARLIER_UPSMON = """MONITOR meeting@localhost 1 upsmon CHANGE-ME-upsmon primary
MINSUPPLIES 1
SHUTDOWNCMD "/sbin/shutdown -h +0"
POWERDOWNFLAG /etc/killpower
"""


def test_an_earlier_upsmon_conf_is_replaced_and_an_edited_one_gets_a_note(tmp_path: Path) -> None:
    """An upgraded Pi must not keep an upsmon that may shut it down: Siaga's own earlier file
    (unedited, with its password) is replaced; an admin's edited one is kept with what to change."""
    root = tmp_path / "root"
    install("--root", str(root), "--no-venv")
    conf, password = root / "etc/nut/upsmon.conf", (root / "etc/siaga/upsmon.password").read_text()
    earlier = (REPO / "tests/fixtures/upsmon-siaga-1.conf").read_text()  # as shipped until now
    conf.write_text(earlier.replace("CHANGE-ME-upsmon", password.strip()))
    out = install("--root", str(root), "--no-venv").stdout
    assert "upsmon.conf is an earlier Siaga's, unedited: replaced" in out
    assert re.search(r"^MONITOR meeting@localhost 0 upsmon \S+ secondary$", conf.read_text(), re.M)
    conf.write_text(EARLIER_UPSMON.replace("CHANGE-ME-upsmon", password.strip()))  # edited
    out = install("--root", str(root), "--no-venv").stdout
    assert "POWERDOWNFLAG /etc/killpower" in conf.read_text()
    assert "upsmon.conf lets upsmon shut this Pi down" in out


def test_a_kept_siaga_acl_without_a_line_this_version_needs_gets_a_note(tmp_path: Path) -> None:
    """An update keeps /etc/mosquitto/siaga.acl; one from before a PC could read its own acks
    (the Windows logon banner's "could not shut itself down") is named with the line to add."""
    root = tmp_path / "root"
    install("--root", str(root), "--no-venv")
    acl = root / "etc/mosquitto/siaga.acl"
    assert "add these lines" not in install("--root", str(root), "--no-venv").stdout
    acl.write_text(acl.read_text().replace("pattern read siaga/+/pc/%u/ack\n", ""))
    out = install("--root", str(root), "--no-venv").stdout
    assert "note: /etc/mosquitto/siaga.acl is kept; add these lines" in out
    assert "\n  pattern read siaga/+/pc/%u/ack\n" in out
    assert "pattern read siaga/+/pc/%u/ack" not in acl.read_text()   # told, not edited


def _path_without(program: str, bin_dir: Path) -> str:
    """A PATH to every program of this one's but ``program`` (links in ``bin_dir``)."""
    bin_dir.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        for found in Path(directory).glob("*") if Path(directory).is_dir() else ():
            link = bin_dir / found.name
            if found.name != program and not link.exists() and os.access(found, os.X_OK):
                link.symlink_to(found)
    return str(bin_dir)


@pytest.mark.parametrize("systemctl", ["here", "absent"])
def test_without_a_running_systemd_units_are_never_started(tmp_path: Path, systemctl: str) -> None:
    """This system, not --root: in a chroot or a container without systemd (no
    /run/systemd/system: make pi-arm64's arm64 root) the units are enabled and the run says once
    that they start at the next boot; with no systemctl at all they are only put in place. A dry
    run, so nothing changes here."""
    env = {**os.environ}
    if systemctl == "absent":
        env["PATH"] = _path_without("systemctl", tmp_path / "bin")
    done = subprocess.run(["bash", str(SCRIPT), "--dry-run"], capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    started = [line for line in lines if re.match(r"\[dry-run\] systemctl (restart|start|daemon-reload)", line)]
    if systemctl == "absent":
        assert not [line for line in lines if line.startswith("[dry-run] systemctl")]
        assert sum("has no systemctl" in line for line in lines) == 1
    elif not Path("/run/systemd/system").is_dir():
        assert not started, started
        assert sum("systemd is not running here" in line for line in lines) == 1
    else:   # a machine that runs systemd: what a Pi does
        assert started and not [line for line in lines if "systemd is not running" in line]
    assert "[dry-run] write /usr/local/lib/systemd/system/siaga-edge.service (mode 0644)" in lines \
        or "ok: /usr/local/lib/systemd/system/siaga-edge.service is up to date" in lines


def test_make_pi_arm64_reads_the_shipped_units_as_systemd_does() -> None:
    """make pi-arm64 starts what each unit says without systemd (scripts/pi_arm64.py): its
    reading of the shipped units (user, groups, command, environment, directories) is theirs."""
    spec = importlib.util.spec_from_file_location("pi_arm64", REPO / "scripts/pi_arm64.py")
    pi_arm64 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pi_arm64)
    edge = pi_arm64.unit_fields(REPO / "systemd/siaga-edge.service")
    assert (edge["User"], edge["Group"], edge["SupplementaryGroups"]) == (["siaga"], ["siaga"], ["gpio"])
    assert pi_arm64.exec_line(edge["ExecStart"][-1]) == (
        ["/opt/siaga/venv/bin/siaga", "edge", "-c", "/etc/siaga/siaga.toml"], True)
    assert edge["Environment"] == ["LG_WD=/run/siaga"] and edge["RuntimeDirectory"] == ["siaga"]
    assert edge["WorkingDirectory"] == ["/var/lib/siaga"] and edge["StateDirectory"] == ["siaga"]
    dashboard = pi_arm64.unit_fields(REPO / "systemd/siaga-dashboard.service")
    assert pi_arm64.exec_line(dashboard["ExecStart"][-1])[0][1] == "dashboard"
    assert "Description" not in dashboard   # [Unit], not [Service]
    assert pi_arm64.exec_line("-/bin/mkdir -m 740 -p /run/x") == (["/bin/mkdir", "-m", "740", "-p", "/run/x"], False)


def test_make_install_runs_the_installer(tmp_path: Path) -> None:
    """README: `sudo make install` is the same as `sudo scripts/install-pi.sh`. The Makefile ran
    the bash script with sh (dash on Debian), which stopped at once: `Syntax error: redirection
    unexpected`, exit 2, nothing installed. A dry run into a temporary root, so nothing changes."""
    root = tmp_path / "root"
    done = subprocess.run(["make", "--no-print-directory", "-C", str(REPO), "install",
                           f"INSTALL_ARGS=--dry-run --root {root} --no-venv"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Syntax error" not in done.stderr
    assert f"[dry-run] write {root}/etc/siaga/siaga.toml (mode 0640)" in done.stdout
    assert not root.exists()
