"""`siaga demo`: the whole room on this machine, with a simulated UPS, mock GPIO and a simulated PC.

`siaga demo` starts upsd + dummy-ups, mosquitto, `siaga edge`, `siaga agent` and `siaga dashboard`
on free loopback ports in a temporary directory, holds every PID, and stops them all (by PID) on
Ctrl-C or SIGTERM. While the UPS is on battery it loses runtime ten times faster than a real one,
so a power cut walks through notice, wrap-up and shutdown within a minute. `siaga demo power
off|low|on` from another terminal finds the running demo through a small JSON state file and
changes the simulated UPS with upsrw (siaga/demo_state.py). One demo at a time per state file:
a second one is refused before it starts anything.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psutil

from protocol.config import MqttConfig, SiteConfig
from siaga.demo_alerts import AlertInbox
from protocol.messages import BadMessage, JournalEvent, StateSnapshot, Topics, decode
from protocol.mqtt import MqttLink
from siaga.demo_state import (LOW_RUNTIME_S, POWER, SITE, UPS, claim, power, running_demo,
                              save_state, state_path)
from siaga.servers import (UPSD_PASSWORD, UPSD_USER, Mosquitto, ServerMissing, Upsd, free_port,
                           stop_process)

logger = logging.getLogger(__name__)

SITE_NAME, PC = "Demo - Ruang Rapat 1", "meeting-pc"
ADMIN_PASSWORD = "siaga-demo"
FULL_RUNTIME_S, DRAIN_PER_S, RECHARGE_PER_S = 600, 10, 20
EMPTY_RUNTIME_S = 10
WRAPUP_AT_S, SHUTDOWN_AT_S = 300, 120   # the demo runs with the default policy
PC_BOOT_AFTER_S = 5        # the simulated PC starts again this long after the mains is back
TICK_S = 0.5
ZONE = ZoneInfo(SiteConfig().timezone)   # the demo site has no site.timezone: the default
PROGRAMS = ("edge", "agent", "dashboard")
USAGE = "usage: siaga demo                  start the demo\n" \
        "       siaga demo power off|low|on  change the running demo's UPS"


def drain_per_s() -> float:
    """Runtime lost per second on battery ($SIAGA_DEMO_DRAIN_PER_S lets a test go faster)."""
    try:
        return max(1.0, float(os.environ.get("SIAGA_DEMO_DRAIN_PER_S") or DRAIN_PER_S))
    except ValueError:
        return float(DRAIN_PER_S)


def stage_after_s(runtime_at_s: int) -> float:
    """Seconds on battery until the simulated runtime falls to ``runtime_at_s``."""
    return (FULL_RUNTIME_S - runtime_at_s) / drain_per_s()


def clock(ts: float | None = None) -> str:
    """'10:32:05 WIB': a time as the room page shows it (the site's zone), with the zone."""
    return dt.datetime.fromtimestamp(time.time() if ts is None else ts, ZONE).strftime("%H:%M:%S %Z")


def run(action: list[str]) -> int:
    """`siaga demo [power off|low|on]`; the exit code."""
    if not action:
        return Demo().run()
    if len(action) == 2 and action[0] == "power" and action[1] in POWER:
        return power(action[1])
    if len(action) == 2 and action[0] == "power":   # say which word is wrong, not only the usage
        print(f'siaga demo power: "{action[1]}" is not one of {", ".join(POWER)}', file=sys.stderr)
    else:
        print(USAGE, file=sys.stderr)
    return 2


def _toml(value: Any) -> str:
    """A TOML value (JSON strings, numbers, lists and booleans are valid TOML)."""
    return json.dumps(value)


def _write_action(path: Path, what: str) -> list[str]:
    """A harmless argv for the simulated PC: append a timestamped line to ``path``."""
    code = ("import sys, time; open(sys.argv[1], 'a').write("
            "f'{time.time():.3f} ' + sys.argv[2] + '\\n')")
    return [sys.executable, "-c", code, str(path), what]


class Demo:
    """Every server and program of the demo, with their PIDs and the temporary directory."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.directory = Path(tempfile.mkdtemp(prefix="siaga-demo-"))
        self.upsd = Upsd(self.directory / "nut")
        self.broker = Mosquitto(self.directory / "mosquitto")
        self.programs: dict[str, subprocess.Popen] = {}
        self.dashboard_port = free_port()
        self.url = f"http://127.0.0.1:{self.dashboard_port}"
        # The alerts IT would get go to the demo's own receiver, linked from the room page.
        self.alerts = AlertInbox(free_port(), ZONE, f"{self.url}/sites/{SITE}", self._show_alert)
        self.runtime_s = float(FULL_RUNTIME_S)
        self.watch: MqttLink | None = None
        self.room: tuple[str, tuple[str, ...]] = ("", ())
        self.actions_seen = 0
        self.pc_off_since: float | None = None   # the simulated PC "shut down" (agent stopped)
        self.mains_since: float | None = None
        self.cut: tuple[float, float] | None = None  # on battery since (monotonic), runtime then
        self._lock_fd: int | None = None

    def run(self) -> int:
        """Start everything, wait for Ctrl-C/SIGTERM, stop everything; the exit code."""
        self._lock_fd, other = claim(self.url)
        if self._lock_fd is None:
            shutil.rmtree(self.directory, ignore_errors=True)
            print(f"A Siaga demo is already running (pid {other.get('pid')}, "
                  f"{other.get('dashboard')}); stop it with Ctrl-C first, or give this one its "
                  "own SIAGA_DEMO_STATE file.", file=sys.stderr)
            return 1
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, lambda *_: self.stopping.set())
        try:
            return self._start_and_serve()
        except (ServerMissing, TimeoutError, RuntimeError) as exc:  # a server missing or not starting
            print(f"The Siaga demo cannot start: {exc}", file=sys.stderr, flush=True)
            return 1
        finally:
            self.stop()

    def _start_and_serve(self) -> int:
        print(f"Starting the Siaga demo in {self.directory} ...", flush=True)
        self.upsd.start(values={"battery.runtime": str(FULL_RUNTIME_S)})
        self.broker.start()
        self.alerts.start()
        self._write_configs()
        for name in PROGRAMS:
            if not self.stopping.is_set():
                self._spawn(name)
        self._save_state()
        if not self._wait_for_dashboard():
            return 0 if self.stopping.is_set() else 1
        self._start_watch()
        self._say_hello()
        while not self.stopping.wait(TICK_S):
            if self._someone_died():
                return 1
            self._drain_or_charge()
            self._show_pc_actions()
            self._boot_pc_when_mains_is_back()
        print("\nStopping the Siaga demo ...", flush=True)
        return 0

    def _write_configs(self) -> None:
        d = self.directory
        (d / "nut.password").write_text(UPSD_PASSWORD + "\n")
        from werkzeug.security import generate_password_hash  # comes with flask
        admin_hash = generate_password_hash(ADMIN_PASSWORD)
        mqtt = f"[mqtt]\nhost = \"127.0.0.1\"\nport = {self.broker.port}\n"
        (d / "demo.toml").write_text(
            f'[site]\nid = "{SITE}"\nname = "{SITE_NAME}"\nlanguage = "id"\n\n{mqtt}\n'
            f'[[ups]]\nname = "{UPS}"\nport = {self.upsd.port}\nusername = "{UPSD_USER}"\n'
            f'password_file = "nut.password"\npowers_pc = true\n\n'
            f'[edge]\njournal = {_toml(str(d / "journal.sqlite3"))}\npcs = ["{PC}"]\n'
            f'poll_interval_s = {TICK_S}\n\n'  # as often as the battery changes: stages on time
            f'[gpio]\npin_factory = "mock"\n\n'
            f'[dashboard]\nlisten = "127.0.0.1:{self.dashboard_port}"\n'
            f'database = {_toml(str(d / "dashboard.sqlite3"))}\n'
            f'admin_password_hash = {_toml(admin_hash)}\n\n'
            f'[alerts]\nurls_file = "alerts.urls"\ninbox_url = {_toml(self.alerts.page_url)}\n')
        (d / "alerts.urls").write_text(self.alerts.apprise_url + "\n")
        display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        log = d / "pc-actions.log"
        (d / "agent.toml").write_text(
            f'[site]\nid = "{SITE}"\nlanguage = "id"\n\n{mqtt}\n'
            f'[agent]\npc_id = "{PC}"\ninterval_s = 2\nrecordings_dir = {_toml(str(d))}\n'
            f'banner = {_toml(display)}\nshutdown_grace_s = 15\n'
            f'wrapup_command = {_toml(_write_action(log, "wrap-up: the recording is saved"))}\n'
            f'shutdown_command = {_toml(_write_action(log, "shutdown: the PC switches off now"))}\n')

    def _spawn(self, name: str) -> None:
        config = "agent.toml" if name == "agent" else "demo.toml"
        package_root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONUNBUFFERED": "1",
               "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        with open(self.directory / f"{name}.log", "ab") as log:
            self.programs[name] = subprocess.Popen(
                [sys.executable, "-m", "siaga", name, "-c", str(self.directory / config)],
                cwd=self.directory, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)

    def pids(self) -> dict[str, int]:
        """Every process this demo started, by name."""
        procs = {**self.programs, "upsd": self.upsd.upsd, "mosquitto": self.broker.proc,
                 **{f"dummy-ups-{n}": p for n, p in self.upsd.drivers.items()}}
        return {name: p.pid for name, p in procs.items() if p is not None}

    def _save_state(self) -> None:
        me = psutil.Process()
        save_state({"pid": me.pid, "pid_created": me.create_time(), "dir": str(self.directory),
                    "nut_dir": str(self.upsd.directory), "ups_port": self.upsd.port, "ups": UPS,
                    "mqtt_port": self.broker.port, "dashboard": self.url,
                    "alerts": self.alerts.page_url, "site": SITE,
                    "config": str(self.directory / "demo.toml"), "pids": self.pids()})

    def _wait_for_dashboard(self, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping.is_set():
            if self._someone_died():
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return True
            except OSError:
                pass
            self.stopping.wait(0.2)
        if not self.stopping.is_set():
            print(f"The dashboard did not answer within {timeout:.0f} s; see "
                  f"{self.directory}/dashboard.log", file=sys.stderr)
        return False

    def _say_hello(self) -> None:
        siaga = Path(sys.executable).with_name("siaga")
        try:
            siaga = siaga.relative_to(Path.cwd())
        except ValueError:
            pass
        cmd = str(siaga) if siaga.exists() else "siaga"
        print(f"""
Siaga demo: room "{SITE_NAME}" (site {SITE}), simulated UPS "{UPS}", simulated PC "{PC}".

  Dashboard: {self.url}
  Room page: {self.url}/sites/{SITE}   (admin password for the buttons: {ADMIN_PASSWORD})
  Alerts:    {self.alerts.page_url}   (what IT receives; linked from the room page)

Try, in another terminal in this directory:
  {cmd} demo power off    the mains fails: LED amber blinking, a notice to the meeting PC
  {cmd} demo power low    the battery is nearly empty: the PC shuts down
  {cmd} demo power on     the mains is back: a pending shutdown is cancelled, LED green
Left on battery, the simulated UPS loses {drain_per_s():g} s of runtime each second: wrap-up
{stage_after_s(WRAPUP_AT_S):g} s and shutdown {stage_after_s(SHUTDOWN_AT_S):g} s after `power off`
(each within 3 s more). Times below are the room page's: {ZONE.key}.
Logs: {self.directory}    Press Ctrl-C to stop.
""", flush=True)

    def _start_watch(self) -> None:
        logging.getLogger("protocol.mqtt").setLevel(logging.ERROR)  # no connect/disconnect chatter
        topics = Topics("siaga", SITE)
        self.watch = MqttLink(MqttConfig(port=self.broker.port), f"siaga-demo-watch-{os.getpid()}",
                              subscriptions=(topics.edge("state"), topics.edge("event")),
                              on_message=self._on_message)
        self.watch.start()

    def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        stamp = clock()
        try:
            if topic.endswith("/state"):
                state = decode(StateSnapshot, payload)
                shown = (state.room, tuple(state.reasons))
                if shown != self.room:
                    self.room = shown
                    i = state.indicator
                    why = f"  ({', '.join(state.reasons)})" if state.reasons else ""
                    print(f"{stamp}  room: {state.room:<10}  LED {i.led} {i.pattern}, "
                          f"buzzer {i.buzzer}{why}", flush=True)
            else:
                event = decode(JournalEvent, payload)
                detail = f" {json.dumps(event.detail)}" if event.detail else ""
                print(f"{stamp}    journal #{event.seq}: {event.kind}{detail}", flush=True)
        except BadMessage as exc:
            logger.warning("ignored a message on %s: %s", topic, exc)

    def _show_alert(self, alert: dict[str, Any]) -> None:
        title = str(alert.get("title") or "").replace("\n", " ")
        print(f"{clock()}  alert to IT ({alert.get('type') or 'info'}): {title}", flush=True)

    def _drain_or_charge(self) -> None:
        """The simulated battery: drains by the clock on battery, recharges on mains.

        The runtime follows the time since the cut (not a step per tick: a tick late under load
        would delay every stage), so the stages come when the README and the greeting say."""
        status = self.upsd.read(UPS).get("ups.status", "").split()
        now = time.monotonic()
        self.mains_since = (self.mains_since or now) if "OL" in status else None
        if "LB" in status and self.runtime_s > LOW_RUNTIME_S:  # `power low`: drain from 90 s
            self.runtime_s = LOW_RUNTIME_S
            self.cut = (now, self.runtime_s)
        if "OB" in status:
            self.cut = self.cut or (now, self.runtime_s)
            runtime = max(EMPTY_RUNTIME_S, self.cut[1] - drain_per_s() * (now - self.cut[0]))
        elif "OL" in status:
            self.cut = None
            runtime = min(FULL_RUNTIME_S, self.runtime_s + RECHARGE_PER_S * TICK_S)
        else:
            return
        if int(runtime) != int(self.runtime_s) or "LB" in status:
            self.runtime_s = runtime
            charge = round(100 * runtime / FULL_RUNTIME_S)
            try:
                self.upsd.set(UPS, battery_runtime=str(int(runtime)), battery_charge=str(charge))
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
                logger.warning("cannot update the simulated battery: %s", exc)

    def _show_pc_actions(self) -> None:
        try:
            lines = (self.directory / "pc-actions.log").read_text().splitlines()
        except OSError:
            return
        for line in lines[self.actions_seen:]:
            stamp, _, what = line.partition(" ")
            try:
                stamp = clock(float(stamp))
            except ValueError:
                pass
            print(f"{stamp}  meeting PC ran its {what}", flush=True)
            if "shutdown:" in line:
                self._pc_switches_off()
        self.actions_seen = len(lines)

    def _pc_switches_off(self) -> None:
        """The simulated PC shut down: its agent stops (and says offline) until the mains is back."""
        stop_process(self.programs.pop("agent", None))
        self.pc_off_since = time.monotonic()
        print(f"{clock()}  meeting PC is off; it starts again "
              f"{PC_BOOT_AFTER_S} s after the mains is back", flush=True)

    def _boot_pc_when_mains_is_back(self) -> None:
        if self.pc_off_since is None or self.mains_since is None:
            return
        if time.monotonic() - self.mains_since >= PC_BOOT_AFTER_S:
            self.pc_off_since = None
            self._spawn("agent")
            self._save_state()
            print(f"{clock()}  meeting PC starts again", flush=True)

    def _someone_died(self) -> bool:
        procs = {**self.programs, "upsd": self.upsd.upsd, "mosquitto": self.broker.proc}
        for name, proc in procs.items():
            if proc is not None and proc.poll() is not None:
                log = self.directory / (f"{name}.log" if name in PROGRAMS else
                                        f"{'nut' if name == 'upsd' else 'mosquitto'}/{name}.log")
                tail = log.read_text(errors="replace").splitlines()[-15:] if log.exists() else []
                print(f"\n{name} stopped unexpectedly (exit status {proc.returncode}); the end of "
                      f"{log}:\n" + "\n".join(f"  {line}" for line in tail), file=sys.stderr)
                return True
        return False

    def stop(self) -> None:
        """Stop every process we started, by PID, then remove the state file and the directory."""
        for name in ("agent", "edge", "dashboard"):
            stop_process(self.programs.get(name))
        if self.watch is not None:
            self.watch.stop()
        self.broker.stop()
        self.upsd.stop()
        self.alerts.stop()
        state = running_demo()
        if state is not None and state["pid"] == os.getpid():
            state_path().unlink(missing_ok=True)
        shutil.rmtree(self.directory, ignore_errors=True)
        print(f"Siaga demo stopped; every process it started has ended and {self.directory} "
              "is removed.", flush=True)
