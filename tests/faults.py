"""The fault matrix's rig and its expectations, shared by tests/test_faults_matrix.py and
bench/soak.py.

Everything is real: upsd + dummy-ups and mosquitto (siaga.servers), the `siaga edge` process
(mock GPIO: its LED is read from the state it publishes), the `siaga agent` process whose
shutdown command only appends a line to a file, and a dashboard Feed + Store fed from the
broker. Policy times are short so that a cell takes seconds.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from dashboard.store.feed import Feed
from dashboard.store.store import Store
from protocol.config import load_config
from siaga.servers import Upsd, Mosquitto, free_port, stop_process
from edge.runtime_store import store_path
from tests.agent_helpers import PC, SITE, fake_program, marker_argv, write_agent_config
from tests.calendar_support import CalendarServer, event
from tests.calendar_support import calendar as calendar_body
from tests.alert_receiver import Receiver
from tests.dashboard_support import start_dashboard
from tests.dashboard_support import write_config as dashboard_config
from tests.faults_disk import JournalDisk, make_read_only, make_writable
from tests.observer import Observer
from tests.postgres_support import Postgres, start_postgres
from tests.pulse import PulseAudio
from tests.edge_support import run_edge_process, write_config
from tests.waiting import wait_until

PHASES = ("on_mains", "before_notice", "after_notice", "after_wrapup", "shutdown_grace",
          "after_restore")
RUNTIME_FAULTS = ("runtime_missing", "runtime_truncated", "runtime_old_version")
CALENDAR_FAULTS = ("calendar_down", "calendar_slow", "calendar_html")
AUDIO_FAULTS = ("audio_restarted",)
# The dashboards on a shared PostgreSQL (CONTRACT §6.5): the server restarted, one of two
# `siaga dashboard` processes SIGKILLed.
DASHBOARD_FAULTS = ("postgres_restarted", "dashboard_sigkill")
FAULTS = ("upsd_killed", "driver_killed", "driver_frozen", "broker_killed", "broker_restarted",
          "agent_killed", "agent_restarted", "edge_sigkill", "journal_full", "journal_readonly",
          "clock_forward_1h", "clock_back_1h", *RUNTIME_FAULTS, *CALENDAR_FAULTS, *AUDIO_FAULTS,
          *DASHBOARD_FAULTS)
# The phases where a fault matters (the rest of its row is left out, not "not run"): the learned
# runtimes are read when the edge starts, in any phase; the calendar matters to a room on mains
# (the next meeting, its readiness) and to one on battery (the page still shows the next meeting).
CALENDAR_PHASES = ("on_mains", "before_notice", "after_notice")
# The PC's audio server matters while a meeting runs: on mains, and on battery until the wrap-up
# (a meeting goes on through a cut: the notice only tells the people in it).
AUDIO_PHASES = ("on_mains", "before_notice", "after_notice", "after_wrapup")
# The dashboards' database and processes matter while an outage makes events and alerts: from
# the power lost (its alert waits for the notice) to the power back (its own alert). On mains
# nothing is journaled but the fault's silence command, and nothing pages IT.
DASHBOARD_PHASES = ("before_notice", "after_notice", "after_wrapup", "shutdown_grace",
                    "after_restore")


def phases_of(fault: str) -> tuple[str, ...]:
    """The phases the matrix runs ``fault`` in."""
    return (CALENDAR_PHASES if fault in CALENDAR_FAULTS else
            AUDIO_PHASES if fault in AUDIO_FAULTS else
            DASHBOARD_PHASES if fault in DASHBOARD_FAULTS else PHASES)


def cells() -> list[tuple[str, str]]:
    """Every (fault, phase) of the matrix."""
    return [(f, p) for f in FAULTS for p in phases_of(f)]



STAGES = ("on_battery", "wrapup", "shutdown")
SENT_KINDS = ("notice_sent", "wrapup_sent", "shutdown_sent")
BASE_ROOM = {"on_mains": "ready", "before_notice": "on_battery", "after_notice": "on_battery",
             "after_wrapup": "wrapup", "shutdown_grace": "shutdown", "after_restore": "ready"}
UPS_FAULTS = ("upsd_killed", "driver_killed", "driver_frozen")
AGENT_GRACE_S = 3.0
POLICY = {"notice_after_s": 2, "pc_offline_after_s": 4, "resend_after_s": 1,
          "unreadable_wrapup_after_s": 3}
HOLD_S = {"driver_frozen": 8.0, "broker_killed": 4.0, "agent_killed": 6.0}  # others: 3 s
CALENDAR_REFRESH_S = 30        # site.calendar_refresh_s's lowest value: a fault is seen within it
CALENDAR_SLOW_S = 30.0         # the slow server answers after this (the edge gives up after 20 s)
AUDIO_REJOIN_S = 2.0           # how long a browser takes to reopen its microphone (two readings)
RUNTIME_WORDS = ("starting fresh", "no learned runtimes yet")   # the edge's one line about the file


@dataclass(frozen=True)
class Expect:
    """What a cell must show: written before it runs (see ``expect``)."""

    during: frozenset[str]      # room states allowed once the fault has taken effect
    shutdowns: int              # lines the PC's shutdown command wrote in the whole cell
    why: str                    # the rule, in words, for docs/reliability.md

    def row(self) -> str:
        """The expectation in one cell of the table."""
        return f"room {'/'.join(sorted(self.during))}; PC off {self.shutdowns}x; {self.why}"


def expect(fault: str, phase: str) -> Expect:
    """The expected behaviour of one cell. Always, besides: the room ends `ready` with a green
    LED, the LED matches the room, journal seq 1..N with no gap, the dashboard's copy equals the
    journal, at most one notice/wrap-up/shutdown per outage, a cancel for every outage that told
    the PC anything, the PC refused no command (its acks say ok), no PC command on mains, no
    traceback, the edge exits 0 on SIGTERM."""
    base = BASE_ROOM[phase]
    shutdowns = 1 if phase == "shutdown_grace" else 0
    outage = base in STAGES
    if fault in UPS_FAULTS:
        if outage:  # an unreadable UPS mid-outage keeps the outage; time may move it on
            return Expect(frozenset(STAGES[STAGES.index(base):]), shutdowns,
                          "outage kept (never ended by an unreadable UPS), stages only forward")
        return Expect(frozenset({"fault"}), shutdowns, "fault (red), never an outage")
    if fault in ("agent_killed", "agent_restarted") and not outage:
        return Expect(frozenset({"ready", "attention"}), shutdowns,
                      "PC offline is at most attention; no command")
    if fault == "agent_killed":   # dead through the grace; power back before it restarts
        return Expect(frozenset({base}), 0, "stage kept; a PC whose agent comes back after the "
                      "power did is not shut down (the cancel wins)")
    if fault == "agent_restarted":
        return Expect(frozenset({base}), shutdowns,
                      "stage kept; a shutdown waiting out its grace survives an agent restart")
    if fault in RUNTIME_FAULTS:
        what = {"runtime_missing": "missing", "runtime_truncated": "truncated",
                "runtime_old_version": "of an older version"}[fault]
        return Expect(frozenset({base}), shutdowns, f"learned-runtime file {what} at the edge's "
                      "restart: resumes the outage, says so once in its log, writes a fresh "
                      "file (learns again); no traceback")
    if fault in AUDIO_FAULTS:
        return Expect(frozenset({base}), shutdowns, "the PC's audio server restarted mid-meeting "
                      "(a Meet in Chrome, which reopens its microphone): the meeting neither ends "
                      "nor starts again (one meeting_started; one meeting_ended, when it ends)")
    if fault in CALENDAR_FAULTS:
        what = {"calendar_down": "down", "calendar_slow": f"answering after {CALENDAR_SLOW_S:.0f} s",
                "calendar_html": "answering a web page"}[fault]
        return Expect(frozenset({base}), shutdowns, f"calendar {what}: the room keeps its last "
                      "good bookings (next meeting unchanged), says so once in the log, reads it "
                      "again when it is back; the loop never waits for it")
    if fault == "postgres_restarted":
        return Expect(frozenset({base}), shutdowns, "PostgreSQL stopped mid-outage and started "
                      "3 s later: every journal event in it once, every outage alert sent once, "
                      "each dashboard answers throughout and says so in one log line")
    if fault == "dashboard_sigkill":
        return Expect(frozenset({base}), shutdowns, "the dashboard running the alert rules, one "
                      "of two on PostgreSQL, SIGKILLed mid-outage (restarted 3 s later): every "
                      "journal event stored once, every outage alert sent once (the one it "
                      "was delivering may go again, marked [Mungkin ganda])")
    if fault == "broker_killed":
        return Expect(frozenset({"-"}), shutdowns, "room runs on unseen (power comes back while "
                      "the broker is down); state republished and events replayed after")
    what = {
            "broker_restarted": "state republished on reconnect; missed events replayed",
            "edge_sigkill": "resumes the outage from the journal: no second notice/shutdown",
            "journal_full": "room runs on; events held, published, written when there is room",
            "journal_readonly": "room runs on; events held, published, written when writable",
            "clock_forward_1h": "no stage moves (durations are monotonic)",
            "clock_back_1h": "no stage moves (durations are monotonic)"}[fault]
    return Expect(frozenset({base}), shutdowns, what)


@dataclass
class Rig:
    """One room on real servers; ``tmp`` is its own directory."""

    tmp: Path
    upsd: Upsd
    broker: Mosquitto
    journal_dir: Path | None = None       # a tmpfs of its own for the disk-full fault
    disk: JournalDisk | None = None
    edge: subprocess.Popen | None = None
    agent: subprocess.Popen | None = None
    ups_values: dict[str, str] = field(default_factory=lambda: {"ups.status": "OL"})
    edge_starts: int = 0
    calendar: CalendarServer | None = None
    log_mark: int = 0            # edge.log's length when the fault was made
    pulse: PulseAudio | None = None
    browser: subprocess.Popen | None = None
    microphone: subprocess.Popen | None = None
    postgres: Postgres | None = None
    dashboards: list = field(default_factory=list)   # `siaga dashboard` processes on PostgreSQL
    receiver: Receiver | None = None                 # IT's webhook behind them

    def start(self, with_disk: bool = False, with_calendar: bool = False,
              with_meeting: bool = False, with_postgres: bool = False) -> "Rig":
        """Edge, agent, dashboard and a watcher, all on the servers given; with_calendar: the
        room's bookings from a real HTTP server (one meeting tomorrow); with_meeting: the PC
        runs a real PulseAudio and a Meet in Chrome holds its microphone (meeting_started);
        with_postgres: two `siaga dashboard` processes on a PostgreSQL of their own too, their
        alerts to a real HTTP receiver (the first started runs the alert rules)."""
        if with_disk:
            self.disk = JournalDisk(self.tmp / "disk")
        self.config = write_config(self.disk.directory if self.disk else self.tmp, self.upsd,
                                   self.broker, site=SITE, **POLICY)
        if with_calendar:
            tomorrow = time.time() + 86400
            self.calendar = CalendarServer(calendar_body(event(
                "rapat@siaga", "Rapat koordinasi", tomorrow, tomorrow + 3600)))
            text = self.config.read_text().replace(
                "[site]\n", f'[site]\ncalendar = "{self.calendar.url}"\n'
                             f"calendar_refresh_s = {CALENDAR_REFRESH_S}\n", 1)
            self.config.write_text(text)
        self.journal = (self.disk.directory if self.disk else self.tmp) / "journal.sqlite3"
        self.runtime_file = store_path(self.journal)
        self.clock_file = self.tmp / "clock-offset"
        self.clock_file.write_text("0")
        self.marker = self.tmp / "shutdown.marker"
        self.watch = Observer(self.broker.port, f"siaga/{SITE}/#")
        dash = self.tmp / "dash"
        dash.mkdir(exist_ok=True)
        self.store = Store(str(dash / "dashboard.sqlite3"))
        self.feed = Feed(load_config(dashboard_config(dash, mqtt_port=self.broker.port)),
                         self.store, client_id=f"dash-{self.tmp.name}")
        self.feed.start()
        if with_postgres:
            self.start_postgres()
        self.start_edge()
        self.watch.wait(lambda: (s := self.watch.state()) and s["room"] == "ready", 20, "ready")
        if self.calendar is not None:
            self.watch.wait(lambda: (self.room().get("next_meeting") or {}).get("title"), 20,
                            "the next meeting from the calendar")
        if with_meeting:
            self.pulse = PulseAudio(self.tmp / "pulse").start()
            self.browser = fake_program(self.pulse.directory, "chrome")   # open all day
        self.start_agent()
        self.watch.wait(lambda: "pc_online" in self.watch.event_kinds(), 20, "pc_online")
        if with_meeting:
            self.join_meeting()
            self.wait_kind("meeting_started")
        return self

    def start_postgres(self) -> None:
        self.postgres = start_postgres()
        self.pg_url = self.postgres.new_database()
        self.receiver = Receiver(free_port()).start()
        self.dashboards, self.dashboard_ports = [None, None], [free_port(), free_port()]
        for n in range(2):
            self.start_dashboard(n)
            time.sleep(1.0)    # the first holds the alert rules' lock

    def start_dashboard(self, n: int) -> None:
        """`siaga dashboard` number ``n`` (0 or 1) on the rig's PostgreSQL; waits until it answers."""
        directory = self.tmp / f"pgdash-{n}"
        directory.mkdir(exist_ok=True)
        (directory / "alerts.urls").write_text(self.receiver.url + "\n")
        config = dashboard_config(directory, mqtt_port=self.broker.port,
                                  listen=f"127.0.0.1:{self.dashboard_ports[n]}",
                                  database=self.pg_url, dashboard='\n[alerts]\n'
                                  'urls_file = "alerts.urls"\nretry_max_s = 2\n')
        self.dashboards[n] = start_dashboard(config, self.dashboard_url(n), directory / "dashboard.log")

    def dashboard_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.dashboard_ports[n]}"

    def dashboard_logs(self) -> list[str]:
        out = []
        for n in range(len(self.dashboards)):
            path = self.tmp / f"pgdash-{n}" / "dashboard.log"
            out.append(path.read_text(errors="replace") if path.exists() else "")
        return out

    def pg_events(self) -> list[tuple]:
        """The events the dashboards stored in PostgreSQL, every row (a duplicate shows)."""
        import psycopg
        with psycopg.connect(self.pg_url, connect_timeout=5) as conn:
            rows = conn.execute("SELECT seq, ts, kind, detail FROM events WHERE site = %s "
                                "ORDER BY seq", (SITE,)).fetchall()
        return [(s, t, k, json.loads(d)) for s, t, k, d in rows]

    def pg_outbox(self) -> list[tuple]:
        """(kind, body, sent) of every outbox row, in order."""
        import psycopg
        with psycopg.connect(self.pg_url, connect_timeout=5) as conn:
            return conn.execute("SELECT kind, body, sent FROM alert_outbox ORDER BY id").fetchall()

    def join_meeting(self) -> None:
        """Chrome opens (or reopens) the microphone for a Meet call."""
        self.microphone = self.pulse.record("chrome", "Google Chrome", "Meet - abc-defg-hij")

    def leave_meeting(self) -> None:
        stop_process(self.microphone)

    def start_edge(self) -> None:
        """`siaga edge` with the test clock seam (edge/clock.py) pointed at our offset file."""
        self.edge = run_edge_process(self.config, self.tmp,
                                     env={"SIAGA_CLOCK_OFFSET_FILE": str(self.clock_file)})
        self.edge_starts += 1
        self.watch.wait(lambda: self.watch.event_kinds().count("edge_started") >= self.edge_starts,
                        20, "edge_started")

    def start_agent(self) -> None:
        """`siaga agent`; its shutdown appends a line to ``marker``."""
        agent_dir = self.tmp / "agent"
        agent_dir.mkdir(exist_ok=True)
        config = write_agent_config(agent_dir, self.broker.port, shutdown_grace_s=AGENT_GRACE_S,
                                    shutdown_command=marker_argv(self.marker, "shutdown\n"))
        env = {**os.environ, **self.pulse.env} if self.pulse else None
        with open(agent_dir / "agent.log", "ab") as log:
            self.agent = subprocess.Popen([sys.executable, "-m", "siaga", "agent", "-c",
                                           str(config)], stdout=subprocess.DEVNULL, stderr=log,
                                          env=env)

    def silence(self) -> None:
        """The dashboard's "silence" edge command: journaled as `command` in any room state."""
        self.watch.publish(f"siaga/{SITE}/edge/command", json.dumps(
            {"v": 1, "id": f"s{time.monotonic_ns()}", "ts": time.time(), "kind": "silence",
             "by": "fault-matrix"}))

    # --- the UPS ---------------------------------------------------------------------------
    def ups(self, **values: str) -> None:
        """Change the UPS (ups_status="OB") and remember it for a NUT restart."""
        for key, value in values.items():
            self.ups_values[key.replace("_", ".")] = value
        self.upsd.set(**values)

    def restart_nut(self) -> None:
        """upsd and driver again, with the values the UPS had (a restarted upsd needs a new
        driver: shared/TESTING.md)."""
        self.upsd.stop()
        self.upsd.start(values=self.ups_values, wait_for=self.ups_values["ups.status"])

    # --- what people see -------------------------------------------------------------------
    def kinds(self) -> list[str]:
        return self.watch.event_kinds()

    def wait_kind(self, kind: str, count: int = 1, timeout: float = 15) -> None:
        self.watch.wait(lambda: self.kinds().count(kind) >= count, timeout, kind)

    def fresh_state(self, since: float, timeout: float) -> dict:
        """The first state snapshot received after ``since`` (time.time())."""
        def fresh() -> dict | None:
            states = [p for at, t, p, _ in list(self.watch.messages)
                      if at > since and t.endswith("/edge/state")]
            return json.loads(states[-1]) if states else None
        return wait_until(fresh, timeout, what="a state snapshot after the fault")

    def room(self) -> dict:
        return self.watch.state() or {}

    def shutdowns(self) -> int:
        return self.marker.read_text().count("shutdown") if self.marker.exists() else 0

    def commands(self) -> list[dict]:
        """Distinct PC commands seen on the broker (a resend keeps its id), in order."""
        seen: dict[str, dict] = {}
        for c in self.watch.json_on(f"/pc/{PC}/command"):
            seen.setdefault(c["id"], c)
        return list(seen.values())

    def journal_rows(self) -> list[tuple]:
        with sqlite3.connect(self.journal) as db:
            rows = db.execute("SELECT seq, ts, kind, detail FROM events ORDER BY seq").fetchall()
        return [(s, t, k, json.loads(d)) for s, t, k, d in rows]

    def held(self) -> list[tuple]:
        return [(e.seq, e.ts, e.kind, e.detail) for e in reversed(self.store.events(SITE, 100000))]

    def edge_log(self) -> str:
        path = self.tmp / "edge.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def edge_log_since_fault(self) -> str:
        return self.edge_log()[self.log_mark:]

    def logs(self) -> str:
        text = (self.tmp / "edge.log").read_text(errors="replace") if (self.tmp / "edge.log").exists() else ""
        agent = self.tmp / "agent" / "agent.log"
        return text + (agent.read_text(errors="replace") if agent.exists() else "")

    def close(self) -> None:
        """Stop everything we started (by PID), undo disk faults."""
        if self.journal.exists():
            make_writable(self.journal)
        for proc in (self.agent, self.edge):
            stop_process(proc, 10)
        for proc in self.dashboards:
            stop_process(proc)
        if self.receiver is not None:
            self.receiver.stop()
        if self.postgres is not None:
            self.postgres.stop()
        self.feed.stop()
        self.store.close()
        self.watch.close()
        if self.disk:
            self.disk.free()
            self.disk.close()
        if self.calendar is not None:
            self.calendar.delay_s = 0
            self.calendar.close()
        if self.pulse is not None:
            stop_process(self.browser)
            self.pulse.stop()


# --- phases --------------------------------------------------------------------------------
def drive(rig: Rig, phase: str) -> None:
    """Bring the room to ``phase``."""
    if phase == "on_mains":
        return
    rig.ups(ups_status="OB DISCHRG", battery_runtime="1500")
    rig.wait_kind("power_lost")
    if phase == "before_notice":
        return
    rig.wait_kind("notice_sent")
    rig.watch.wait(lambda: any(a["kind"] == "notice" for a in rig.watch.json_on(f"/pc/{PC}/ack")),
                   10, "notice ack")
    if phase == "after_restore":
        rig.ups(ups_status="OL CHRG", battery_runtime="1800")
        rig.wait_kind("cancel_sent")
        return
    if phase == "after_notice":
        return
    rig.ups(battery_runtime="250")
    rig.wait_kind("wrapup_sent")
    if phase == "after_wrapup":
        return
    rig.ups(ups_status="OB DISCHRG LB")
    rig.wait_kind("shutdown_sent")
    rig.watch.wait(lambda: any(a["kind"] == "shutdown" for a in rig.watch.json_on(f"/pc/{PC}/ack")),
                   10, "shutdown ack")


# --- faults --------------------------------------------------------------------------------
def spoil_runtime(path: Path, fault: str) -> None:
    """The learned-runtime file as an office finds it: gone (an SD card restored from an old
    image), cut short (a card that lost its last blocks), or written by an older Siaga."""
    if fault == "runtime_missing":
        path.unlink(missing_ok=True)
    elif fault == "runtime_truncated":
        whole = path.read_bytes() if path.exists() else b'{"version": 1, "ups": {"meeting": {}}}'
        path.write_bytes(whole[: max(1, len(whole) // 2)])
    else:
        path.write_text(json.dumps({"version": 0, "models": {"meeting": {"k": 1.0}}}))


def inject(rig: Rig, fault: str) -> None:
    """Make the fault happen, for real."""
    rig.log_mark = len(rig.edge_log())
    if fault == "upsd_killed":
        rig.upsd.upsd.kill()
    elif fault == "driver_killed":
        rig.upsd.drivers["meeting"].kill()
    elif fault == "driver_frozen":
        rig.upsd.drivers["meeting"].send_signal(signal.SIGSTOP)
    elif fault == "broker_killed":
        rig.broker.proc.kill()
        rig.broker.proc.wait()
    elif fault == "broker_restarted":
        rig.broker.stop()
        rig.broker.start()
    elif fault == "agent_killed":
        rig.agent.kill()
        rig.agent.wait()
    elif fault == "agent_restarted":
        stop_process(rig.agent)
        rig.start_agent()
    elif fault == "edge_sigkill":
        rig.edge.kill()
        rig.edge.wait()
        rig.start_edge()
    elif fault == "journal_full":
        rig.disk.fill()
    elif fault == "journal_readonly":
        make_read_only(rig.journal)
    elif fault.startswith("clock_"):
        rig.clock_file.write_text("3600" if "forward" in fault else "-3600")
    elif fault in RUNTIME_FAULTS:   # the edge dies (a power cut on the Pi) and finds the file so
        rig.edge.kill()
        rig.edge.wait()
        spoil_runtime(rig.runtime_file, fault)
        rig.start_edge()
    elif fault == "audio_restarted":   # systemctl --user restart pulseaudio: the capture stream
        rig.pulse.restart()             # dies with it; Chrome reopens the microphone a moment later
        time.sleep(AUDIO_REJOIN_S)
        rig.join_meeting()
    elif fault == "postgres_restarted":   # stopped (fast: sessions ended) for the hold, then started
        rig.postgres.pg_ctl("stop", "-m", "fast")
    elif fault == "dashboard_sigkill":     # the one running the alert rules
        rig.dashboards[0].kill()
        rig.dashboards[0].wait()
    elif fault == "calendar_down":
        rig.calendar.close()
    elif fault == "calendar_slow":
        rig.calendar.delay_s = CALENDAR_SLOW_S
    elif fault == "calendar_html":
        rig.calendar.html = True
    else:
        raise ValueError(fault)


def clear(rig: Rig, fault: str) -> None:
    """The fault ends as it would on site (systemd restarts a daemon, the disk gets room);
    a clock step stays (it is the new time)."""
    if fault in ("upsd_killed", "driver_killed"):
        rig.restart_nut()
    elif fault == "driver_frozen":
        rig.upsd.drivers["meeting"].send_signal(signal.SIGCONT)
    elif fault == "broker_killed":
        rig.broker.start()
    elif fault == "agent_killed":
        rig.start_agent()
    elif fault == "journal_full":
        rig.disk.free()
    elif fault == "journal_readonly":
        make_writable(rig.journal)
    elif fault == "postgres_restarted":
        rig.postgres.pg_ctl("start")
    elif fault == "dashboard_sigkill":     # systemd starts it again
        rig.start_dashboard(0)
    elif fault == "calendar_down":
        rig.calendar.start()
    elif fault == "calendar_slow":
        rig.calendar.delay_s = 0
    elif fault == "calendar_html":
        rig.calendar.html = False
