"""The Pi's own shutdown and the UPS power-off follow the room's judgement (CONTRACT §5.3).

NUT's upsmon believes FSD whatever else the status says; three units in NUT's device dump
library report `OL FSD` on mains. Served that, an upsmon that may shut the Pi down writes the
POWERDOWNFLAG, and NUT's shutdown hook then tells the UPS to cut its outlets: the meeting PC loses
power on mains. So upsmon on the Pi only watches (power value 0) and `siaga edge` writes the flag,
only in a real outage (OB) and only after the PCs; a systemd path unit powers the Pi off when the
flag appears. Real upsd, dummy-ups, upsmon and `siaga edge`, with the NUT files rendered by
scripts/install-pi.sh; the shutdown command and the flag point at files of the test.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path


from siaga.servers import DEFAULT_UPS, NUT_BIN, Upsd, find_program, stop_process
from tests.install_support import shipped_nut_files
from tests.observer import Observer

REPO = Path(__file__).resolve().parents[1]
HOLD_S = 60   # the minute of `OL FSD`: upsmon as shipped acted within 15 s


def install(root: Path) -> Path:
    """scripts/install-pi.sh into ``root``; its /etc."""
    done = subprocess.run(["bash", str(REPO / "scripts/install-pi.sh"), "--root", str(root),
                           "--no-venv"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return root / "etc"


def directive(text: str, name: str) -> str:
    """The value of a NUT directive (``POWERDOWNFLAG /run/...``), quotes removed."""
    found = re.search(rf"^{name}\s+(.+)$", text, re.M)
    assert found, f"{name} missing"
    return found[1].strip().strip('"')


def private_nut(etc: Path, server: Upsd, flag: Path, ran: Path) -> None:
    """The installed NUT files in the private instance: dummy-ups for the USB UPS, upsd on the
    test's port, upsmon's SHUTDOWNCMD and POWERDOWNFLAG pointed at the test's files."""
    nut = etc / "nut"
    server.directory.mkdir()
    server.write_values("meeting", DEFAULT_UPS)
    upsmon = (nut / "upsmon.conf").read_text().replace("@localhost ", f"@127.0.0.1:{server.port} ")
    upsmon = re.sub(r"^(SHUTDOWNCMD|POWERDOWNFLAG)\s.*$", "", upsmon, flags=re.M)
    upsmon += f'\nSHUTDOWNCMD "touch {ran}"\nPOWERDOWNFLAG {flag}\n'
    for name, text in {**shipped_nut_files(nut, server.port), "upsmon.conf": upsmon}.items():
        (server.directory / name).write_text(text)
        (server.directory / name).chmod(0o600)


def _private_run_nut(argv: list[str], directory: Path) -> list[str]:
    """``argv`` with ``directory`` as its /run/nut, where mount namespaces are allowed (root)."""
    unshare = shutil.which("unshare")
    if os.geteuid() == 0 and unshare and subprocess.run([unshare, "--mount", "true"],
                                                        capture_output=True).returncode == 0:
        return [unshare, "--mount", "--propagation", "private",
                "sh", "-c", 'mount --bind "$0" /run/nut && exec "$@"', str(directory), *argv]
    return argv


def start_upsmon(server: Upsd) -> subprocess.Popen:
    """upsmon in the foreground (the /sbin wrapper wants nut.conf's MODE: call it directly).

    Its PID file is always /run/nut/upsmon.pid (2.8.0 has no variable for it) and a second upsmon
    refuses to start while the first lives: where it may (root, mount namespaces allowed), it gets
    a private /run/nut of its own."""
    program = find_program(str(NUT_BIN / "upsmon"), "nut-client")
    argv = [program, "-F", "-D", *(["-u", "root"] if os.geteuid() == 0 else [])]
    pids = server.directory / "run-nut"
    pids.mkdir()
    argv = _private_run_nut(argv, pids)
    with open(server.directory / "upsmon.log", "ab") as log:
        return subprocess.Popen(argv, env=server.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop_upsmon(proc: subprocess.Popen | None) -> None:
    """The PID we hold is upsmon's privileged parent; its monitoring child is in the same new
    session: stop the whole group we started."""
    if proc is None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        stop_process(proc)
        time.sleep(0.2)


def flag_set(server: Upsd) -> bool:
    """What NUT's shutdown hook asks before it tells the UPS to cut its outlets: `upsmon -K`.

    upsmon -K refuses to answer while /run/nut/upsmon.pid names a live upsmon (ours, or any other
    on this machine): where it may, it gets an empty private /run/nut of its own."""
    program = find_program(str(NUT_BIN / "upsmon"), "nut-client")
    empty = server.directory / "run-nut-K"
    empty.mkdir(exist_ok=True)
    done = subprocess.run(_private_run_nut([program, "-K"], empty), env=server.env,
                          capture_output=True, timeout=10)
    said = (done.stdout + done.stderr).decode(errors="replace")
    # Exit status 1 is also a refusal: that must not read as "no flag".
    assert "A previous upsmon instance is already running" not in said, (
        f"upsmon -K did not look at the flag: {said.strip()}")
    return done.returncode == 0


def edge_config(tmp_path: Path, server: Upsd, broker_port: int, flag: Path) -> Path:
    """siaga.toml for the test's servers, its powerdown_flag where upsmon.conf says."""
    path = tmp_path / "siaga.toml"
    path.write_text(f"""
[site]
id = "rr1"
[mqtt]
port = {broker_port}
[[ups]]
name = "meeting"
port = {server.port}
[edge]
poll_interval_s = 0.5
journal = "{tmp_path / 'journal.sqlite3'}"
pcs = []
powerdown_flag = "{flag}"
[gpio]
pin_factory = "mock"
""")
    return path


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read_string((REPO / "systemd" / name).read_text())
    return parser


def test_ol_fsd_for_a_minute_shuts_nothing_down_and_ob_lb_powers_the_pi_off(tmp_path, broker):
    etc = install(tmp_path / "root")
    installed_flag = directive((etc / "nut/upsmon.conf").read_text(), "POWERDOWNFLAG")
    # One file, three readers: the edge writes it, systemd powers the Pi off when it appears,
    # NUT's shutdown hook (`upsmon -K` with upsmon.conf) then has the UPS cut its outlets.
    siaga = tomllib.loads((etc / "siaga/siaga.toml").read_text())
    assert siaga["edge"]["powerdown_flag"] == installed_flag
    assert unit("siaga-poweroff.path")["Path"]["PathExists"] == installed_flag
    server = Upsd(tmp_path / "nut")
    flag, ran = tmp_path / "killpower", tmp_path / "shutdown-command-ran"
    private_nut(etc, server, flag, ran)
    upsmon = edge = watch = None
    try:
        server.start_driver("meeting")
        server.start_upsd()
        server.wait_status("meeting", "OL")
        upsmon = start_upsmon(server)
        watch = Observer(broker.port, "siaga/rr1/#")
        with open(tmp_path / "edge.log", "ab") as log:
            edge = subprocess.Popen([sys.executable, "-m", "siaga", "edge", "-c",
                                     str(edge_config(tmp_path, server, broker.port, flag))],
                                    stdout=log, stderr=subprocess.STDOUT)
        watch.wait_room("ready", 20)
        server.write_values("meeting", {**DEFAULT_UPS, "ups.status": "OL FSD"})
        server.wait_status("meeting", "OL FSD")
        watch.wait_room("attention", 10)   # the edge saw it: ups_fsd_on_mains, for IT
        deadline = time.monotonic() + HOLD_S
        while time.monotonic() < deadline:
            assert not ran.exists(), "a shutdown command ran on `OL FSD` (mains is fine)"
            assert not flag.exists(), "the killpower flag was written on `OL FSD`"
            assert upsmon.poll() is None, "upsmon left its watch"
            time.sleep(1)
        assert not flag_set(server)
        assert "ups_fsd_on_mains" in watch.event_kinds()
        assert "pi_poweroff" not in watch.event_kinds()

        server.write_values("meeting", {**DEFAULT_UPS, "ups.status": "OB LB",
                                        "battery.runtime": "50", "battery.charge": "8"})
        watch.wait(lambda: flag.exists(), 15, "the edge writes the killpower flag on OB LB")
        assert flag_set(server), "NUT's shutdown hook would not see the flag"
        assert watch.event_kinds().index("shutdown_sent") < watch.event_kinds().index("pi_poweroff")
        time.sleep(3)
        assert not ran.exists(), "upsmon ran its own shutdown: it must only watch"
        # Mains back before the Pi went down: a flag left behind would cut the room's power at
        # the next ordinary reboot.
        server.write_values("meeting", {**DEFAULT_UPS, "ups.status": "OL CHRG"})
        watch.wait(lambda: not flag.exists(), 15, "the flag removed once mains is back")
    finally:
        stop_process(edge)
        stop_upsmon(upsmon)
        server.stop()
        if watch is not None:
            watch.close()
        for log in [tmp_path / "edge.log", *sorted(server.directory.glob("*.log"))]:
            if log.exists():
                print(f"----- {log} -----\n{log.read_text(errors='replace')[-2500:]}")


def test_the_pi_powers_off_through_systemd_and_keeps_the_flag_for_nuts_hook(tmp_path):
    """The path unit starts a poweroff when the flag appears; the edge's runtime directory
    (where the flag lives) outlives the edge's stop, so NUT's late shutdown hook still reads it."""
    analyze = shutil.which("systemd-analyze")
    if analyze:   # systemd accepts every line of both units
        for name in ("siaga-poweroff.path", "siaga-poweroff.service"):
            (tmp_path / name).write_text((REPO / "systemd" / name).read_text())
        done = subprocess.run([analyze, "verify", *map(str, tmp_path.iterdir())],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and done.stderr == "", done.stderr
    service = unit("siaga-poweroff.service")["Service"]
    assert "poweroff" in service["ExecStart"] and service["Type"] == "oneshot"
    assert unit("siaga-poweroff.path")["Install"]["WantedBy"] == "multi-user.target"
    edge = unit("siaga-edge.service")["Service"]
    assert edge["RuntimeDirectory"] == "siaga" and edge["RuntimeDirectoryPreserve"] == "yes"
    flag = directive((REPO / "firmware_config/nut/upsmon.conf").read_text(), "POWERDOWNFLAG")
    assert flag.startswith("/run/siaga/")   # tmpfs: a new boot never finds an old flag
