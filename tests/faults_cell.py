"""One cell of the fault matrix, start to finish, and the invariants every cell must keep
(tests/faults.py has the rig, the phases, the faults and each cell's expectation)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from agent.main import RESUME_MIN_S
from dashboard.alerts.texts import CATALOGUE
from siaga.servers import Mosquitto, Upsd
from tests.dashboard_support import LOOK
from edge.runtime_store import VERSION, load_models
from tests.faults import (AGENT_GRACE_S, AUDIO_FAULTS, CALENDAR_FAULTS, DASHBOARD_FAULTS, CALENDAR_REFRESH_S, CALENDAR_SLOW_S,
                          HOLD_S, RUNTIME_FAULTS, RUNTIME_WORDS, SENT_KINDS, UPS_FAULTS, Expect,
                          Rig, clear, drive, expect, inject)
from tests.waiting import wait_until


def finish(rig: Rig) -> None:
    """Power back (if it was off), then wait until the room, the PC and the dashboard settle.
    Counts come from the journal: the watcher misses what was sent while the broker was down."""
    if rig.ups_values["ups.status"] not in ("OL", "OL CHRG"):
        rig.ups(ups_status="OL CHRG", battery_runtime="1800")
    rig.watch.wait(lambda: rig.room().get("room") == "ready" and not rig.room().get("reasons"),
                   45, "ready again")

    def settled() -> bool:
        kinds = [r[2] for r in rig.journal_rows()]
        told = any(k in kinds for k in ("notice_sent", "wrapup_sent", "shutdown_sent"))
        return (kinds.count("power_restored") >= kinds.count("power_lost")
                and (not told or kinds[-1:] != ["power_restored"] and "cancel_sent" in kinds))
    wait_until(settled, 20, what="power_restored and cancel_sent in the journal")
    wait_until(lambda: rig.held() == rig.journal_rows(), 60, what="the dashboard equals the journal",
               context=lambda: f"held {[r[0] for r in rig.held()]}, journal "
                               f"{[r[0] for r in rig.journal_rows()]}")


@dataclass
class Result:
    """What one cell showed."""

    fault: str
    phase: str
    ok: bool
    seen: str           # what happened, in a few words
    seconds: float
    problems: list[str] = field(default_factory=list)


def check(rig: Rig, want: Expect, during: str, phase: str) -> list[str]:
    """Every invariant of the cell; the problems found (none: the cell passed)."""
    problems = []
    if during != "-" and during not in want.during:
        problems.append(f"room during the fault was {during}, expected {sorted(want.during)}")
    snap = rig.room()
    if snap.get("room") != "ready" or snap.get("indicator", {}).get("led") != "green":
        problems.append(f"ended {snap.get('room')} with LED {snap.get('indicator')}")
    if rig.shutdowns() != want.shutdowns:
        problems.append(f"the PC shut down {rig.shutdowns()} times, expected {want.shutdowns}")
    rows = rig.journal_rows()
    if [r[0] for r in rows] != list(range(1, len(rows) + 1)):
        problems.append(f"journal seq not contiguous: {[r[0] for r in rows]}")
    if rig.held() != rows:
        problems.append("the dashboard's copy differs from the journal")
    problems += outage_problems([r[2] for r in rows])
    refused = [(r[3].get("kind"), r[3].get("detail")) for r in rows
               if r[2] == "pc_ack" and not r[3].get("ok")]
    if refused:
        problems.append(f"the PC refused commands: {refused}")
    if phase in ("on_mains",) and rig.commands():
        problems.append(f"commands on mains: {[c['kind'] for c in rig.commands()]}")
    if phase == "after_restore" and "shutdown" in [c["kind"] for c in rig.commands()]:
        problems.append("a shutdown was sent after the power came back")
    if "Traceback" in rig.logs():
        problems.append("a traceback in a log")
    return problems


CALENDAR_FAILED = "cannot be read"


def calendar_lines(log: str, words: str) -> list[str]:
    return [line for line in log.splitlines() if "calendar " in line and words in line]


def wait_calendar_fault(rig: Rig, fault: str, requests_before: int) -> None:
    """Until the edge has met the fault: its next refresh (every CALENDAR_REFRESH_S) failed, or,
    for the slow server, a request is hanging on it."""
    if fault == "calendar_slow":
        wait_until(lambda: len(rig.calendar.requests) > requests_before, CALENDAR_REFRESH_S + 15,
                   what="the edge's next calendar request")
        return
    wait_until(lambda: calendar_lines(rig.edge_log_since_fault(), CALENDAR_FAILED),
               CALENDAR_REFRESH_S + 15, what="the edge saying the calendar cannot be read")


def fault_problems(rig: Rig, fault: str, before: dict | None, during: dict | None) -> list[str]:
    """The checks of the new parts' own faults (runtime file, calendar)."""
    problems = []
    log = rig.edge_log_since_fault()
    if fault in RUNTIME_FAULTS:
        said = [line for line in log.splitlines()
                if "runtime" in line and any(w in line for w in RUNTIME_WORDS)]
        if len(said) != 1:
            problems.append(f"the edge said {len(said)} times that the learned runtimes were "
                            f"unusable, expected once: {said[:3]}")
        models, problem = load_models(rig.runtime_file)
        if problem or not rig.runtime_file.exists() or "meeting" not in models:
            problems.append(f"no fresh learned-runtime file (version {VERSION}) after the "
                            f"restart: {problem or 'missing or without the UPS'}")
    if fault in AUDIO_FAULTS:
        kinds = [r[2] for r in rig.journal_rows()]
        meetings = (kinds.count("meeting_started"), kinds.count("meeting_ended"))
        if meetings != (1, 1):
            problems.append(f"meeting_started {meetings[0]}x and meeting_ended {meetings[1]}x, "
                            "expected once each (the audio server's restart is no meeting's end)")
    if fault in CALENDAR_FAULTS:
        failed = calendar_lines(log, CALENDAR_FAILED)
        if len(failed) != 1:
            problems.append(f"the edge said {len(failed)} times that the calendar cannot be "
                            f"read, expected once: {failed[:3]}")
        if not calendar_lines(log.split(failed[0], 1)[1] if failed else "", " read: "):
            problems.append("the edge never said the calendar was read again")
        kept = (during or {}).get("next_meeting") or {}
        was = (before or {}).get("next_meeting") or {}
        if (kept.get("title"), kept.get("start")) != (was.get("title"), was.get("start")) \
                or not was.get("title"):
            problems.append(f"the next meeting changed during the fault: {was} -> {kept}")
    return problems


# Which alert each journal event makes (dashboard/alerts/rules.py): per outage, power_lost once
# when the PC was told anything, wrapup and shutdown once each, power_restored once when the
# outage paged IT, pc_off for each PC that went off.
STAGE_ALERT = {"notice_sent": "power_lost", "wrapup_sent": "wrapup", "shutdown_sent": "shutdown"}


def expected_alerts(kinds: list[str]) -> dict[str, int]:
    """The outage alerts the journal's events call for, per alert kind."""
    want = {"power_lost": 0, "wrapup": 0, "shutdown": 0, "pc_off": 0, "power_restored": 0}
    stages: set[str] = set()
    for kind in kinds:
        if kind == "power_lost":
            stages = set()
        elif kind in STAGE_ALERT:
            fresh = {"power_lost", STAGE_ALERT[kind]} - stages
            for alert in fresh:
                want[alert] += 1
            stages |= fresh
        elif kind == "pc_off":
            want["pc_off"] += 1
        elif kind == "power_restored":
            want["power_restored"] += 1 if stages else 0
            stages = set()
    return want


def serves(url: str) -> bool:
    """The dashboard answers /api/sites with the room."""
    try:
        with urllib.request.urlopen(url + "/api/sites", timeout=5) as answer:
            return any(s.get("site") for s in json.load(answer)["sites"])
    except (OSError, ValueError, KeyError):
        return False


def dashboard_problems(rig: Rig, fault: str, served: list[bool], marks: list[int]) -> list[str]:
    """The dashboards on PostgreSQL: every journal event stored once, every outage alert sent
    once, no traceback; after a PostgreSQL restart each said so in one log line and served on."""
    problems = []
    rows: list[tuple] = []

    def same() -> bool:      # the journal read again each time: the edge may still be writing
        rows[:] = rig.journal_rows()
        return rig.pg_events() == rows
    try:
        wait_until(same, 60, what="PostgreSQL equals the journal")
    except AssertionError:
        held = rig.pg_events()
        seqs = Counter(r[0] for r in held)
        problems.append(f"PostgreSQL holds {len(held)} event rows for {len(rows)} journal events: "
                        f"missing {sorted({r[0] for r in rows} - set(seqs))}, twice "
                        f"{sorted(s for s, n in seqs.items() if n > 1)}")
    want = expected_alerts([r[2] for r in rows])

    def queued() -> dict[str, int]:
        kinds = Counter(r[0] for r in rig.pg_outbox())
        return {k: kinds[k] for k in want}
    try:
        wait_until(lambda: queued() == want and all(r[2] is not None for r in rig.pg_outbox()
                                                    if r[0] in want), 60,
                   what="every outage alert queued and sent")
    except AssertionError:
        pass
    time.sleep(3.0)    # an alert sent twice would arrive by now
    outbox = [r for r in rig.pg_outbox() if r[0] in want]
    # An alert a SIGKILLed dashboard was delivering may go again, marked "[Mungkin ganda]" (the
    # outbox cannot know whether it arrived): allowed once, and only when a dashboard was killed.
    repeat = tuple(texts["repeat_title"] for texts in CATALOGUE.values())
    messages = rig.receiver.messages()
    got = Counter(m.get("message", "") for m in messages if not m.get("title", "").startswith(repeat))
    again = Counter(m.get("message", "") for m in messages if m.get("title", "").startswith(repeat))
    sent = Counter(r[1] for r in outbox)
    twice = sum(max(0, got[b] - n) for b, n in sent.items())
    never = sum(max(0, n - got[b] - again[b]) for b, n in sent.items())
    marked = sum(again.values())
    if queued() != want or twice or never or marked > (fault == "dashboard_sigkill"):
        problems.append(f"alerts: the journal calls for {want}, queued {queued()}; delivered "
                        f"twice {twice}, never {never}, again marked as a possible duplicate {marked}")
    for n, log in enumerate(rig.dashboard_logs()):
        since = log[marks[n]:] if n < len(marks) else log
        if "Traceback" in log:
            problems.append(f"a traceback in dashboard {n}'s log")
        if fault == "postgres_restarted":
            said = [line for line in since.splitlines() if " WARNING " in line or " ERROR " in line]
            if len(said) != 1:
                problems.append(f"dashboard {n} said {len(said)} lines about the restart, "
                                f"expected one: {said[:4]}")
    if not all(served):
        problems.append(f"a dashboard did not answer /api/sites while PostgreSQL was down: {served}")
    return problems


def outage_problems(kinds: list[str]) -> list[str]:
    """Per outage in the journal (from a power_lost to the next): restored, at most one of each
    command, a cancel when the PC was told anything."""
    outages: list[list[str]] = []
    for kind in kinds:
        if kind == "power_lost":
            outages.append([])
        elif outages:
            outages[-1].append(kind)
    problems = []
    for events in outages:
        if "power_restored" not in events:
            problems.append("an outage was never restored")
            continue
        told = [k for k in events[:events.index("power_restored")] if k in SENT_KINDS]
        if len(told) != len(set(told)):
            problems.append(f"an outage sent a command twice: {told}")
        if told and "cancel_sent" not in events:
            problems.append("an outage that told the PC something ended with no cancel")
    return problems


def run_cell(tmp: Path, fault: str, phase: str) -> Result:
    """One cell, start to finish, on servers of its own."""
    started = time.monotonic()
    tmp.mkdir(parents=True, exist_ok=True)
    upsd, broker = Upsd(tmp / "nut").start(), Mosquitto(tmp / "mosquitto").start()
    rig = Rig(tmp, upsd, broker)
    want, during, problems = expect(fault, phase), "-", []
    try:
        rig.start(with_disk=fault == "journal_full", with_calendar=fault in CALENDAR_FAULTS,
                  with_meeting=fault in AUDIO_FAULTS, with_postgres=fault in DASHBOARD_FAULTS)
        drive(rig, phase)
        before, requests = rig.room(), len(rig.calendar.requests) if rig.calendar else 0
        marks = [len(log) for log in rig.dashboard_logs()]
        inject(rig, fault)
        if fault in CALENDAR_FAULTS:
            wait_calendar_fault(rig, fault, requests)
            hung_at = len(rig.watch.messages)
        if not fault.startswith("broker_"):  # something to journal while the fault holds
            rig.silence()
        hold = HOLD_S.get(fault, 3.0)
        if phase == "shutdown_grace":   # the grace runs out while the fault holds; a restarted
            # agent resumes a pending shutdown with at least RESUME_MIN_S left
            hold = max(hold, (RESUME_MIN_S if fault == "agent_restarted" else AGENT_GRACE_S) + 1.5)
        time.sleep(hold)
        served = [serves(rig.dashboard_url(n)) for n in range(len(rig.dashboards))
                  if fault == "postgres_restarted"]
        if fault == "broker_restarted":   # back at once: the room is seen again once republished
            rig.fresh_state(time.time() - hold, 45)
            rig.silence()                 # (our watcher is connected again: it saw the state)
        seen_during = rig.room()
        if fault != "broker_killed":      # (while the broker is down nobody sees the room)
            during = rig.room().get("room", "?")
            led = rig.room().get("indicator", {}).get("led")
            if during in LOOK and led != LOOK[during][0]:
                problems.append(f"LED {led} in room {during}")
        if fault not in UPS_FAULTS and rig.ups_values["ups.status"] != "OL CHRG" \
                and rig.ups_values["ups.status"] != "OL":
            rig.ups(ups_status="OL CHRG", battery_runtime="1800")   # power back, fault or not
            time.sleep(2.0)
        if fault == "calendar_slow":      # the room went on while the fetch hung; now it gives up
            wait_until(lambda: calendar_lines(rig.edge_log_since_fault(), CALENDAR_FAILED),
                       CALENDAR_SLOW_S, what="the edge giving up on the slow calendar")
            if len(rig.watch.messages) == hung_at:
                problems.append("nothing was published while the calendar fetch hung")
        clear(rig, fault)
        if fault in AUDIO_FAULTS:         # the meeting ends for real: once
            rig.leave_meeting()
            wait_until(lambda: "meeting_ended" in [r[2] for r in rig.journal_rows()], 15,
                       what="meeting_ended")
            time.sleep(2.0)               # a second start or end would come now
        if fault in CALENDAR_FAULTS:      # read again at the next refresh
            wait_until(lambda: calendar_lines(rig.edge_log_since_fault().split(CALENDAR_FAILED, 1)[-1],
                                              " read: "), CALENDAR_REFRESH_S + 15,
                       what="the edge reading the calendar again")
        if fault == "broker_killed":
            rig.fresh_state(time.time(), 45)
        finish(rig)
        problems += check(rig, want, during, phase)
        problems += fault_problems(rig, fault, before, seen_during)
        if fault in DASHBOARD_FAULTS:
            problems += dashboard_problems(rig, fault, served, marks)
        rig.edge.send_signal(signal.SIGTERM)
        if rig.edge.wait(15) != 0:
            problems.append(f"the edge exited {rig.edge.returncode} on SIGTERM")
    except (AssertionError, TimeoutError, OSError, RuntimeError,
            subprocess.SubprocessError) as exc:
        problems.append(f"{type(exc).__name__}: {str(exc)[:600]}")
    finally:
        try:
            rig.close()
        finally:
            broker.stop()
            upsd.stop()
    seen = f"room {during}; PC off {rig.shutdowns()}x; {len(rig.kinds())} events"
    return Result(fault, phase, not problems, seen, time.monotonic() - started, problems)
