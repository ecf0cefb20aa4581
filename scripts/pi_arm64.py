#!/usr/bin/env python3
"""make pi-arm64: the README's Pi install tried on the Pi's own architecture, under emulation.

For each suite (Debian 12 bookworm and Debian 13 trixie, what Raspberry Pi OS bookworm and trixie
are built on) an arm64 root made by `mmdebstrap --arch=arm64 --variant=apt` (cached in
.cache/pi-arm64/SUITE.tar), run here by qemu-user-static through binfmt_misc:

  1. a user `pi` with password-less sudo (as Raspberry Pi OS makes it), a `git clone --depth 1`
     of this checkout's HEAD in ~pi/siaga, then the README's commands as pi:
     `sudo scripts/install-pi.sh --dry-run`, `sudo scripts/install-pi.sh` (timed), and the
     install again (it must have nothing to do);
  2. what `sudoedit /etc/siaga/siaga.toml` would change, and what a Pi has that this root lacks
     (a USB UPS, GPIO: see DIFFERENCES, printed with the results);
  3. in a network namespace of its own (so the installed ports 1883, 8883, 3493 and 8080 are the
     root's own, as on a Pi): the installed units' ExecStart run as their User= with runuser
     (systemd cannot run in a chroot: the units' sandboxing is not applied), `sudo siaga check`,
     then a power cut on dummy-ups: the time until the status page says on_battery, and after the
     mains is back, ready;
  4. with --budget, bench/pi_budget.py inside the root (emulated figures: not a Pi's CPU).

As root (mmdebstrap, chroot, mounts, namespaces). Every process started is stopped by its PID
(or its process group, made for it); whatever is still running inside the root at the end is
named and stopped by PID. Exit status 0 only if every suite passed.

  scripts/pi_arm64.py [--suite bookworm|trixie]... [--keep] [--budget]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "pi-arm64"
SUITES = ("bookworm", "trixie")
BASE_PACKAGES = "git,make,python3,ca-certificates,sudo"
SITE, SITE_NAME = "pi-arm64", "Uji arm64 - Ruang Rapat"
PI_HOME = "/home/pi"
SRC = f"{PI_HOME}/siaga"
PAGE = "http://127.0.0.1:8080"
# What differs from a real Raspberry Pi OS here; printed with every run (docs/pi.md).
DIFFERENCES = (
    "Debian's arm64 archive only, not Raspberry Pi OS's own repository: no python3-lgpio from "
    "apt, so install-pi.sh puts lgpio from the package index into the venv (a wheel exists for "
    "Python 3.11 on arm64, none for 3.13: there gpiozero falls back to its native pin factory)",
    "no GPIO: gpio.pin_factory = \"mock\" in /etc/siaga/siaga.toml",
    "no USB UPS: /etc/nut/ups.conf's usbhid-ups becomes dummy-ups reading /etc/nut/meeting.dev",
    "no systemd (a chroot): the units' ExecStart run as their User= with runuser, without the "
    "units' sandboxing; nut-driver's unit needs nut-driver-enumerator (systemd), so the driver "
    "runs as upsdrvctl would start it (dummy-ups -a meeting, in the foreground); upsmon (it "
    "only watches) is not started",
    "no meeting PC: edge.pcs = [] (a PC's agent is not part of the Pi install)",
    "pi's `sudo ...` commands are started as root (a setuid sudo keeps pi's uid under qemu-user "
    "without binfmt_misc's C flag); sudo still resets the environment as for pi",
    "the CPU is emulated (qemu-user): times are not a Pi's",
)


def log(msg: str) -> None:
    print(msg, flush=True)


def run(*argv: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), check=check, **kw)


# ---------------------------------------------------------------------------- the machine's part

def ensure_emulation() -> None:
    """qemu-user-static registered for aarch64 in binfmt_misc, and mmdebstrap."""
    need = [p for p, prog in (("mmdebstrap", "mmdebstrap"), ("qemu-user-static", "qemu-aarch64-static"),
                              ("binfmt-support", "update-binfmts")) if not shutil.which(prog)]
    if need:
        log(f"== apt-get install {' '.join(need)}")
        run("apt-get", "install", "-y", "-q", *need, stdout=subprocess.DEVNULL)
    binfmt = Path("/proc/sys/fs/binfmt_misc")
    if not (binfmt / "status").exists():
        run("mount", "-t", "binfmt_misc", "binfmt_misc", str(binfmt))
    entry = binfmt / "qemu-aarch64"
    if not entry.exists() or not entry.read_text().startswith("enabled"):
        run("update-binfmts", "--enable", "qemu-aarch64", check=False)
    if not entry.exists() or not entry.read_text().startswith("enabled"):
        sys.exit("pi-arm64: qemu-aarch64 is not registered in binfmt_misc (update-binfmts --enable)")


def base_tar(suite: str) -> Path:
    """The suite's minimal arm64 root as a tarball, made once."""
    tar = CACHE / f"{suite}.tar"
    if tar.exists():
        return tar
    CACHE.mkdir(parents=True, exist_ok=True)
    part = tar.with_suffix(".part")
    log(f"== mmdebstrap --arch=arm64 --variant=apt {suite} -> {tar}")
    mirror, security = "http://deb.debian.org/debian", "http://deb.debian.org/debian-security"
    run("mmdebstrap", "--quiet", "--arch=arm64", "--variant=apt", "--format=tar",
        f"--include={BASE_PACKAGES}", suite, str(part),
        f"deb {mirror} {suite} main", f"deb {mirror} {suite}-updates main",
        f"deb {security} {suite}-security main", stdin=subprocess.DEVNULL)
    part.rename(tar)
    return tar


def network_env() -> list[str]:
    """This machine's proxy and CA variables (its network may pass TLS through a proxy)."""
    names = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")
    return [f"{n}={os.environ[n]}" for n in names if os.environ.get(n)]


class Root:
    """One suite's root under /var/tmp, its mounts, and the processes started in it."""

    def __init__(self, suite: str, work: Path) -> None:
        self.suite, self.work = suite, work
        self.path = work / "root"
        self.logs = work / "logs"
        self.mounted: list[Path] = []

    def unpack(self, tar: Path) -> None:
        self.path.mkdir(parents=True)
        self.logs.mkdir()
        run("tar", "-xf", str(tar), "-C", str(self.path), "--numeric-owner")
        # The root shares this machine's file system view of the network: packages must not
        # start their services while apt installs them (there is no systemd to stop them).
        policy = self.path / "usr/sbin/policy-rc.d"
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        shutil.copy("/etc/resolv.conf", self.path / "etc/resolv.conf")
        with open(self.path / "etc/hosts", "a") as hosts:   # as a Pi's: sudo resolves its name
            hosts.write(f"127.0.1.1\t{socket.gethostname()}\n")
        local_cas = sorted(Path("/usr/local/share/ca-certificates").glob("*.crt"))
        for ca in local_cas:
            shutil.copy(ca, self.path / "usr/local/share/ca-certificates" / ca.name)
        if local_cas:
            # What update-ca-certificates would add to the bundle (run emulated it takes minutes).
            with open(self.path / "etc/ssl/certs/ca-certificates.crt", "a") as bundle:
                for ca in local_cas:
                    bundle.write(ca.read_text())
            # pip trusts its own bundle, not the system's: point it at the system's (which now
            # holds this machine's CAs too), as this machine's own pip is.
            (self.path / "etc/pip.conf").write_text("[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n")
        self.add_pi()
        sudoers = self.path / "etc/sudoers.d/010_pi-nopasswd"   # as Raspberry Pi OS has it
        sudoers.write_text("pi ALL=(ALL) NOPASSWD: ALL\n")
        sudoers.chmod(0o440)
        # Keep the network variables through sudo (install-pi.sh runs apt and pip under it).
        keep = self.path / "etc/sudoers.d/020_network"
        keep.write_text('Defaults env_keep += "http_proxy https_proxy no_proxy HTTP_PROXY '
                        'HTTPS_PROXY NO_PROXY"\n')
        keep.chmod(0o440)

    def add_pi(self) -> None:
        """User pi (uid 1000) in group sudo. A minimal Debian 13 has no useradd (package
        passwd; Raspberry Pi OS has it): then written into the files as useradd would."""
        if (self.path / "usr/sbin/useradd").exists():
            self.root_cmd("useradd", "--create-home", "--shell", "/bin/bash", "--groups", "sudo", "pi")
            return
        etc = self.path / "etc"
        with open(etc / "passwd", "a") as f:
            f.write("pi:x:1000:1000::/home/pi:/bin/bash\n")
        with open(etc / "shadow", "a") as f:
            f.write("pi:!:20000:0:99999:7:::\n")
        groups = (etc / "group").read_text().splitlines()
        groups = [g + ("pi" if g.endswith(":") else ",pi") if g.startswith("sudo:") else g for g in groups]
        (etc / "group").write_text("\n".join(groups + ["pi:x:1000:"]) + "\n")
        if (etc / "gshadow").exists():
            with open(etc / "gshadow", "a") as f:
                f.write("pi:!::\n")
        home = self.path / PI_HOME.lstrip("/")
        shutil.copytree(etc / "skel", home, dirs_exist_ok=True)
        self.root_cmd("chown", "-R", "1000:1000", PI_HOME)

    def mount(self) -> None:
        for fs, target, args in (("proc", "proc", ["-t", "proc", "proc"]),
                                 ("dev", "dev", ["--rbind", "/dev"])):
            where = self.path / target
            run("mount", *args, str(where))
            self.mounted.append(where)
            del fs

    def unmount(self) -> None:
        for where in reversed(self.mounted):
            run("umount", "-lR", str(where), check=False)
        self.mounted.clear()

    def clone(self) -> str:
        commit = run("git", "-C", str(REPO), "rev-parse", "--short", "HEAD", capture_output=True,
                     text=True).stdout.strip()
        run("git", "clone", "-q", "--depth", "1", f"file://{REPO}", str(self.path / SRC.lstrip("/")))
        self.root_cmd("chown", "-R", "pi:pi", SRC)
        return commit

    def env(self, home: str = "/root") -> list[str]:
        return ["/usr/bin/env", "-i", f"HOME={home}", "LANG=C.UTF-8", "TERM=dumb", *network_env(),
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]

    def root_cmd(self, *argv: str, **kw) -> subprocess.CompletedProcess:
        """A command as root in the root."""
        return run("chroot", str(self.path), *self.env(), *argv, **kw)

    def as_pi(self, command: str, logname: str, check: bool = True) -> tuple[int, float, str]:
        """``command`` typed by user pi in ~/siaga; its exit code, seconds, output. A command
        with sudo is started as root: sudo is setuid, and under qemu-user a setuid program
        keeps the caller's uid unless binfmt_misc's entry has the C flag (Debian's has not);
        sudo then runs it as it would for pi (its environment reset, its secure_path)."""
        start = time.monotonic()
        out_path = self.logs / f"{logname}.log"
        user = [] if command.startswith("sudo ") else ["runuser", "-u", "pi", "--"]
        with open(out_path, "w") as out:
            done = run("chroot", str(self.path), *self.env(PI_HOME), "USER=pi", "LOGNAME=pi",
                       *user, "bash", "-c", f"cd {SRC} && {command}",
                       stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False)
        seconds = time.monotonic() - start
        text = out_path.read_text(errors="replace")
        if check and done.returncode != 0:
            raise Failed(f"`{command}` exited {done.returncode} after {seconds:.0f} s:\n"
                         + "\n".join(text.splitlines()[-30:]))
        return done.returncode, seconds, text

    def leftovers(self) -> list[int]:
        """PIDs of processes whose root is this root."""
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.readlink(entry / "root") == str(self.path):
                        pids.append(int(entry.name))
                except OSError:
                    pass
        return pids


class Failed(Exception):
    """A step of the run failed (the message says which and why)."""


# ------------------------------------------------------------------------ what the user changes

def edit_config(root: Path) -> None:
    """What `sudoedit /etc/siaga/siaga.toml` changes here (site.id, site.name), and what the
    emulated machine lacks: GPIO (mock pins), a meeting PC (edge.pcs = [])."""
    conf = root / "etc/siaga/siaga.toml"
    text = conf.read_text()
    text = re.sub(r'(?m)^id = ".*"$', f'id = "{SITE}"', text, count=1)
    text = re.sub(r'(?m)^name = ".*"$', f'name = "{SITE_NAME}"', text, count=1)
    text = re.sub(r"(?m)^pcs = \[.*\]$", "pcs = []", text, count=1)
    if re.search(r"(?m)^pin_factory = ", text):
        text = re.sub(r'(?m)^pin_factory = ".*"$', 'pin_factory = "mock"', text, count=1)
    else:
        text = text.rstrip("\n") + '\n\n[gpio]\npin_factory = "mock"\n'
    conf.write_text(text)


def use_dummy_ups(root: Path) -> None:
    """/etc/nut/ups.conf's USB UPS becomes dummy-ups on /etc/nut/meeting.dev (on mains)."""
    ups_conf = root / "etc/nut/ups.conf"
    text = ups_conf.read_text()
    text = text.replace("driver = usbhid-ups", "driver = dummy-ups").replace("port = auto", "port = meeting.dev")
    text = re.sub(r"(?m)^\s*(offdelay|ondelay)\s*=.*$", "", text)   # usbhid-ups only
    ups_conf.write_text(text)
    write_ups(root, "OL")


def write_ups(root: Path, status: str) -> None:
    """The simulated UPS's values; each write a whole second later (dummy-ups compares mtimes)."""
    dev = root / "etc/nut/meeting.dev"
    old = dev.stat().st_mtime if dev.exists() else 0.0
    dev.write_text(f"ups.status: {status}\nbattery.charge: 100\nbattery.runtime: 1800\n"
                   "ups.load: 35\ninput.voltage: 220.0\nups.mfr: Siaga\nups.model: Simulated UPS\n")
    stamp = max(time.time(), old + 1.0)
    os.utime(dev, (stamp, stamp))
    dev.chmod(0o640)
    nut_gid = group_id(root, "nut")
    os.chown(dev, 0, nut_gid)


def group_id(root: Path, name: str) -> int:
    for line in (root / "etc/group").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return int(fields[2])
    raise Failed(f"no group {name} in the root")


# -------------------------------------------------------------------- units without systemd

def unit_fields(path: Path) -> dict[str, list[str]]:
    """The [Service] settings of a unit file: name -> values in order (continuations joined)."""
    fields: dict[str, list[str]] = {}
    section, pending = "", ""
    for raw in path.read_text().splitlines():
        line = pending + raw.strip()
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line:
            key, value = line.split("=", 1)
            fields.setdefault(key.strip(), []).append(value.strip())
    return fields


def exec_line(value: str) -> tuple[list[str], bool]:
    """An Exec*= line as argv, and whether a failure counts (no '-' prefix)."""
    counts = True
    while value and value[0] in "-+!@:":
        counts = counts and value[0] != "-"
        value = value[1:]
    return shlex.split(value), counts


class Service:
    """What one unit's [Service] says, started with runuser in the root."""

    def __init__(self, root: Root, unit: Path, name: str) -> None:
        self.root, self.name = root, name
        f = unit_fields(unit)
        self.fields = f
        self.user = (f.get("User") or ["root"])[-1]
        self.group = (f.get("Group") or [""])[-1]
        self.groups = " ".join(f.get("SupplementaryGroups", [])).split()
        self.env = [kv for value in f.get("Environment", []) for kv in shlex.split(value)]
        self.cwd = (f.get("WorkingDirectory") or ["/"])[-1].lstrip("-")
        self.proc: subprocess.Popen | None = None

    def prepare(self) -> None:
        """RuntimeDirectory= and StateDirectory= as systemd makes them, then ExecStartPre=."""
        for key, base in (("RuntimeDirectory", "/run"), ("StateDirectory", "/var/lib")):
            for d in " ".join(self.fields.get(key, [])).split():
                self.root.root_cmd("install", "-d", "-o", self.user, "-g", self.group or self.user,
                                   "-m", "0755" if key == "RuntimeDirectory" else "0750", f"{base}/{d}")
        for value in self.fields.get("ExecStartPre", []):
            argv, counts = exec_line(value)
            done = self.root.root_cmd(*argv, check=False, capture_output=True)
            if done.returncode and counts:
                raise Failed(f"{self.name}: ExecStartPre {value} exited {done.returncode}")

    def argv(self) -> list[str]:
        argv, _ = exec_line(self.fields["ExecStart"][-1])
        return argv

    def start(self) -> None:
        self.prepare()
        cmd = ["runuser", "-u", self.user]
        if self.group:
            cmd += ["-g", self.group]
        for g in self.groups:
            cmd += ["-G", g]
        cmd += ["--", "/bin/sh", "-c", 'cd "$0" && exec "$@"', self.cwd, *self.argv()]
        start_in_root(self, cmd)

    def describe(self) -> str:
        return f"{self.name}: {' '.join(self.argv())} as {self.user}" + \
            (f" (groups {self.group}{', ' + ', '.join(self.groups) if self.groups else ''})"
             if self.group else "")


def start_in_root(svc, cmd: list[str]) -> None:
    root = svc.root
    with open(root.logs / f"{svc.name}.log", "ab") as out:
        svc.proc = subprocess.Popen(["chroot", str(root.path), *root.env(), *svc.env, *cmd],
                                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)


class Plain:
    """A command started as root in the root (the UPS driver)."""

    def __init__(self, root: Root, name: str, argv: list[str]) -> None:
        self.root, self.name, self._argv = root, name, argv
        self.env: list[str] = []
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        start_in_root(self, self._argv)

    def describe(self) -> str:
        return f"{self.name}: {' '.join(self._argv)} as root"


def stop(services: list) -> None:
    """Each service's process group (made for it), newest first: TERM, 5 s, then KILL."""
    for svc in reversed(services):
        proc = svc.proc
        if proc is None or proc.poll() is not None:
            continue
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass


def unit_file(root: Path, name: str) -> Path:
    for where in ("usr/local/lib/systemd/system", "etc/systemd/system", "usr/lib/systemd/system",
                  "lib/systemd/system"):
        if (root / where / name).exists():
            return root / where / name
    raise Failed(f"no unit {name} installed in the root")


def room(timeout: float = 0.0) -> dict:
    """The page's state of the site ({} when the page does not answer)."""
    try:
        with urllib.request.urlopen(f"{PAGE}/api/sites/{SITE}", timeout=2) as answer:
            return json.load(answer).get("state") or {}
    except (OSError, ValueError):
        return {}


def wait_room(want, timeout: float) -> tuple[float | None, dict]:
    """Seconds until want(state) holds (None if it never did), and the last state."""
    start = time.monotonic()
    state: dict = {}
    while time.monotonic() - start < timeout:
        state = room()
        if state and want(state):
            return time.monotonic() - start, state
        time.sleep(0.1)
    return None, state


def services_phase(root: Root, result: dict) -> None:
    """In this process's own network namespace: start the stack, `siaga check`, the cut."""
    run("ip", "link", "set", "lo", "up")
    tmpfiles = root.path / "usr/bin/systemd-tmpfiles"
    if tmpfiles.exists():   # what systemd does at boot: /run/nut, /run/mosquitto, ...
        root.root_cmd("systemd-tmpfiles", "--create", check=False, capture_output=True)
    else:
        root.root_cmd("install", "-d", "-o", "root", "-g", "nut", "-m", "0770", "/run/nut")
    stack = [
        Plain(root, "nut-driver@meeting", ["/lib/nut/dummy-ups", "-a", "meeting", "-F"]),
        Service(root, unit_file(root.path, "nut-server.service"), "nut-server"),
        Service(root, unit_file(root.path, "mosquitto.service"), "mosquitto"),
        Service(root, unit_file(root.path, "siaga-edge.service"), "siaga-edge"),
        Service(root, unit_file(root.path, "siaga-dashboard.service"), "siaga-dashboard"),
    ]
    started: list = []
    try:
        for svc in stack:
            log(f"   start {svc.describe()}")
            svc.start()
            started.append(svc)
            if svc.name.startswith("nut-driver"):
                time.sleep(2)   # the driver's socket first (upsd says WAIT for a while anyway)
        seconds, state = wait_room(lambda s: s.get("room") == "ready", 180)
        if seconds is None:
            raise Failed(f"the page never showed the room ready (last: {state.get('room')} "
                         f"{state.get('reasons')}); logs in {root.logs}")
        result["ready_s"] = round(seconds, 1)
        log(f"== {seconds:.1f} s: the page shows {SITE} ready")
        code, secs, out = root.as_pi("sudo siaga check", "siaga-check", check=False)
        log("\n".join("   " + line for line in out.splitlines()))
        result["check_s"] = round(secs, 1)
        if code != 0:
            raise Failed(f"sudo siaga check exited {code}")
        log("== the power cut (dummy-ups: OL -> OB)")
        write_ups(root.path, "OB")
        seconds, state = wait_room(lambda s: s.get("room") == "on_battery", 60)
        if seconds is None:
            raise Failed(f"the page never showed on_battery after the cut (last: {state.get('room')})")
        result["on_battery_s"] = round(seconds, 1)
        log(f"   {seconds:.1f} s after the cut the page shows on_battery "
            f"(power {state.get('power')})")
        log("== the mains back (dummy-ups: OB -> OL)")
        write_ups(root.path, "OL")
        seconds, state = wait_room(lambda s: s.get("room") == "ready"
                                   and not s.get("power", {}).get("on_battery"), 60)
        if seconds is None:
            raise Failed(f"the page never showed ready after the mains came back (last: {state.get('room')})")
        result["restored_s"] = round(seconds, 1)
        log(f"   {seconds:.1f} s after the mains is back the page shows ready")
        for svc in started:
            if svc.proc.poll() is not None:
                raise Failed(f"{svc.name} exited ({svc.proc.returncode}); see {root.logs}/{svc.name}.log")
        if result.get("budget"):
            stop(started)
            started.clear()
            code, secs, out = root.as_pi("/opt/siaga/venv/bin/python bench/pi_budget.py --rest 30 "
                                         "--cut 20", "pi-budget", check=False)
            log("\n".join("   " + line for line in out.splitlines()))
            result["budget_output"] = out
    finally:
        stop(started)


# ------------------------------------------------------------------------------------ one suite

def try_suite(suite: str, keep: bool, budget: bool) -> dict:
    result: dict = {"suite": suite, "ok": False, "budget": budget}
    start = time.monotonic()
    step = lambda msg: log(f"== {time.monotonic() - start:.0f} s [{suite}]: {msg}")  # noqa: E731
    tar = base_tar(suite)
    work = Path(tempfile.mkdtemp(prefix=f"siaga-pi-{suite}-", dir="/var/tmp"))
    root = Root(suite, work)
    try:
        step(f"unpack {tar.name} into {root.path}")
        root.unpack(tar)
        root.mount()
        result["commit"] = root.clone()
        result["arch"] = root.root_cmd("uname", "-m", capture_output=True, text=True).stdout.strip()
        result["python"] = root.root_cmd("python3", "-V", capture_output=True, text=True).stdout.strip()
        step(f"{result['arch']}, {result['python']}, siaga {result['commit']} in {SRC}")
        step("sudo scripts/install-pi.sh --dry-run")
        root.as_pi("sudo scripts/install-pi.sh --dry-run", "install-dry-run")
        step("sudo scripts/install-pi.sh")
        _, seconds, out = root.as_pi("sudo scripts/install-pi.sh", "install")
        result["install_s"] = round(seconds)
        # What install-pi.sh says about this system (not the routine notes every install has).
        result["notes"] = [line for line in out.splitlines() if line.startswith("note:")
                           and re.search(r"lgpio|systemd|systemctl", line)]
        log("\n".join("   " + line for line in result["notes"]))
        step(f"installed in {seconds:.0f} s")
        _, seconds, out = root.as_pi("sudo scripts/install-pi.sh", "install-again")
        if "Nothing to do" not in out:
            raise Failed("the second install-pi.sh changed something:\n"
                         + "\n".join(line for line in out.splitlines() if line.startswith("+ ")))
        result["again_s"] = round(seconds)
        step(f"the install again: nothing to do ({seconds:.0f} s)")
        edit_config(root.path)
        use_dummy_ups(root.path)
        step("the stack in a network namespace of its own (the root's ports 1883, 3493, 8080)")
        with open(work / "services.json", "w") as out:
            json.dump({"budget": budget}, out)
        done = run("unshare", "--net", sys.executable, __file__, "--services", str(work),
                   check=False)
        result.update(json.loads((work / "services.json").read_text()))
        if done.returncode != 0:
            raise Failed(result.get("error") or f"the services phase exited {done.returncode}")
        result["ok"] = True
    except (Failed, subprocess.CalledProcessError) as exc:
        result["error"] = str(exc)
        log(f"FAILED [{suite}]: {exc}")
        keep = True
    finally:
        for pid in root.leftovers():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                os.kill(pid, signal.SIGKILL)
                log(f"   still running in the root, stopped: pid {pid} {cmdline}")
            except (OSError, ProcessLookupError):
                pass
        root.unmount()
        if keep:
            log(f"   the root is kept: {root.path} (logs in {root.logs})")
        elif not any(p.is_mount() for p in (root.path / "proc", root.path / "dev")):
            shutil.rmtree(work)
        result["total_s"] = round(time.monotonic() - start)
    return result


def services_main(work: Path) -> int:
    """The services phase, run by try_suite inside `unshare --net` (a private loopback)."""
    root = Root(work.name.split("-")[2], work)
    result = json.loads((work / "services.json").read_text())
    code = 0
    try:
        services_phase(root, result)
    except Failed as exc:
        result["error"] = str(exc)
        code = 1
    (work / "services.json").write_text(json.dumps(result))
    return code


def summary(results: list[dict]) -> None:
    log("\n== pi-arm64 summary "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {results[0].get('commit', '?')})")
    for r in results:
        if r["ok"]:
            log(f"   {r['suite']}: ok ({r['arch']}, {r['python']}): install {r['install_s']} s, "
                f"again {r['again_s']} s; page ready {r['ready_s']} s after the start; on_battery "
                f"{r['on_battery_s']} s after the cut; ready {r['restored_s']} s after the mains; "
                f"whole run {r['total_s']} s")
        else:
            log(f"   {r['suite']}: FAILED after {r.get('total_s', '?')} s: "
                f"{(r.get('error') or '').splitlines()[0] if r.get('error') else '?'}")
        for note in r.get("notes", []):
            log(f"      install-pi.sh {note}")
    log("   What differs from a Raspberry Pi here:")
    for d in DIFFERENCES:
        log(f"    - {d}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", action="append", choices=SUITES)
    parser.add_argument("--keep", action="store_true", help="keep the roots (paths printed)")
    parser.add_argument("--budget", action="store_true", help="also run bench/pi_budget.py inside")
    parser.add_argument("--services", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("make pi-arm64 needs root (mmdebstrap, chroot, mount, unshare)")
    if args.services:
        return services_main(args.services)
    ensure_emulation()
    results = [try_suite(s, args.keep, args.budget) for s in (args.suite or SUITES)]
    summary(results)
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
