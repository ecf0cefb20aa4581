"""The edge daemon with the real agent on a real broker, over a real upsd + dummy-ups.

The agent is the real one (in-process for the outage, a `siaga agent` process for meetings);
the meeting app and the converter are real processes, named like them (a symlink to `sleep`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from siaga.servers import stop_process
from tests.agent_helpers import (PC, SITE, busy_program, fake_program, marker_argv,
                                 refused_shutdown, wait_until, write_agent_config)
from tests.observer import Observer
from tests.edge_support import write_config


@pytest.fixture
def watch(broker):
    """Everything the edge publishes for the agent helpers' site."""
    observer = Observer(broker.port, f"siaga/{SITE}/edge/#")
    yield observer
    observer.close()


@pytest.mark.slow   # half a minute: the estimate walks the stages
def test_ups_lost_mid_outage_stages_follow_the_estimate(tmp_path, upsd, broker, pc_client, watch,
                                                        start_agent, mock_factory, edge_in_process):
    # Runtime 70 s, wrap-up at 60 s, shutdown at 40 s: with upsd gone, the estimate reaches the
    # wrap-up 10 s and the shutdown 30 s after the last reading.
    edge_in_process(write_config(tmp_path, upsd, broker, site=SITE, wrapup_at_runtime_s=60,
                                 shutdown_at_runtime_s=40, hard_shutdown_at_runtime_s=30,
                                 unreadable_wrapup_after_s=3))
    agent = start_agent(shutdown_command=marker_argv(tmp_path / "shutdown.marker"))
    upsd.set(ups_status="OB DISCHRG", battery_runtime="70")
    pc_client.wait_for("command", lambda c: c["kind"] == "notice", timeout=10)
    pc_client.wait_for("ack", lambda a: a["kind"] == "notice", timeout=5)
    upsd.stop()
    lost = time.monotonic()
    _, wrapup_at, wrapup = pc_client.wait_for("command", lambda c: c["kind"] == "wrapup", timeout=20)
    _, shutdown_at, shutdown = pc_client.wait_for("command", lambda c: c["kind"] == "shutdown",
                                                  timeout=30)
    print(f"wrap-up {wrapup_at - lost:.2f} s, shutdown {shutdown_at - lost:.2f} s after upsd stopped")
    # The last reading is at most one poll (0.25 s) before the stop; polls and MQTT add ~0.5 s.
    assert 9.0 <= wrapup_at - lost <= 11.5, wrapup_at - lost
    assert 29.0 <= shutdown_at - lost <= 31.5, shutdown_at - lost
    assert 55 <= wrapup["runtime_s"] <= 60 and 35 <= shutdown["runtime_s"] <= 40
    pc_client.wait_for("ack", lambda a: a["kind"] == "shutdown", timeout=5)
    deadline = time.monotonic() + 10
    while not (tmp_path / "shutdown.marker").exists():
        assert time.monotonic() < deadline, "the agent never ran its shutdown command"
        time.sleep(0.1)
    # The PC goes off (its agent says offline): pc_off, and the outage view shows when.
    agent.stop()
    watch.wait(lambda: "pc_off" in watch.event_kinds(), 10, "pc_off")
    snap = watch.wait(lambda: (s := watch.state()) and (s["outage"] or {}).get("pc_off") and s,
                      5, "outage.pc_off")
    assert snap["room"] == "shutdown" and snap["indicator"]["pattern"] == "blink"
    assert snap["indicator"]["buzzer"] == "off"
    assert watch.event_kinds().count("runtime_estimated") == 1


def test_meetings_and_conversions_journaled_from_a_real_agent(tmp_path, upsd, broker, watch,
                                                              mock_factory, edge_in_process):
    tag = random.randrange(1000, 9999)  # process names of our own: other tests may run a "Zoom"
    zoom, coder = f"Zoom{tag}", f"zTscoder{tag}"
    edge_in_process(write_config(tmp_path, upsd, broker, site=SITE))
    agent_dir = tmp_path / "agent"
    agent_dir.mkdir()
    config = write_agent_config(agent_dir, broker.port, meeting_apps=[zoom],
                                converter_processes=[coder])
    with open(agent_dir / "agent.log", "wb") as log:
        # No audio server: captures cannot be seen, so the running client decides (by process).
        no_audio = {**os.environ, "PULSE_SERVER": f"unix:{agent_dir}/no-pulse"}
        agent = subprocess.Popen([sys.executable, "-m", "siaga", "agent", "-c", str(config)],
                                 env=no_audio, stdout=subprocess.DEVNULL, stderr=log)
    programs = []
    try:
        watch.wait(lambda: "pc_online" in watch.event_kinds(), 15, "pc_online")
        assert "meeting_started" not in watch.event_kinds()
        programs.append(fake_program(agent_dir, zoom))
        watch.wait(lambda: "meeting_started" in watch.event_kinds(), 10, "meeting_started")
        programs.append(busy_program(agent_dir, coder))   # converting = running and working
        watch.wait(lambda: "conversion_started" in watch.event_kinds(), 10, "conversion_started")
        stop_process(programs[0])
        watch.wait(lambda: "meeting_ended" in watch.event_kinds(), 10, "meeting_ended")
        stop_process(programs[1])
        watch.wait(lambda: "conversion_ended" in watch.event_kinds(), 10, "conversion_ended")
        events = [(e["kind"], e["detail"]) for e in watch.json_on("/edge/event")
                  if e["kind"].startswith(("meeting_", "conversion_"))]
        meeting = {"pc": PC, "app": zoom.lower(), "by": "process"}
        assert events == [("meeting_started", meeting), ("conversion_started", {"pc": PC}),
                          ("meeting_ended", {"pc": PC}), ("conversion_ended", {"pc": PC})]
        # A PC that goes offline mid-meeting ends its meeting (the agent dies: its last will).
        programs.append(subprocess.Popen([str(agent_dir / zoom), "600"], start_new_session=True))
        watch.wait(lambda: watch.event_kinds().count("meeting_started") == 2, 10, "second meeting")
        agent.kill()
        watch.wait(lambda: watch.event_kinds().count("meeting_ended") == 2, 10, "meeting ended")
        assert watch.event_kinds()[-2:] == ["pc_offline", "meeting_ended"]
    finally:
        for proc in programs:
            stop_process(proc)
        stop_process(agent)
        print((agent_dir / "agent.log").read_text(errors="replace")[-2000:])


def test_a_cancel_missed_by_a_restarting_agent_is_resent_after_a_flicker(tmp_path, upsd, broker,
                                                                         watch, pc_client,
                                                                         mock_factory,
                                                                         edge_in_process):
    """The PC acked its shutdown and waits out its grace; mains back, but the agent is
    restarting (an update) and misses the cancel. The mains flickers once. The agent comes back
    and goes on with the shutdown it was waiting out: only the edge's resent cancel stops it."""
    edge_in_process(write_config(tmp_path, upsd, broker, site=SITE, notice_after_s=5))
    agent_dir = tmp_path / "agent"
    agent_dir.mkdir()
    config = write_agent_config(agent_dir, broker.port, shutdown_grace_s=30)

    def start() -> subprocess.Popen:
        with open(agent_dir / "agent.log", "ab") as log:
            return subprocess.Popen([sys.executable, "-m", "siaga", "agent", "-c", str(config)],
                                    stdout=subprocess.DEVNULL, stderr=log)

    agent = start()
    try:
        watch.wait(lambda: "pc_online" in watch.event_kinds(), 15, "pc_online")
        upsd.set(ups_status="OB DISCHRG", battery_runtime="100")   # at once: shutdown
        pc_client.wait_for("ack", lambda a: a["kind"] == "shutdown", timeout=10)
        state = agent_dir / "agent-state.json"   # where it keeps the shutdown it waits out
        wait_until(lambda: state.exists() and json.loads(state.read_text())["shutdown"], 10,
                   what="the agent waits out its shutdown's grace")
        agent.kill()
        agent.wait(5)
        upsd.set(ups_status="OL CHRG", battery_runtime="1800")
        _, _, cancel = pc_client.wait_for("command", lambda c: c["kind"] == "cancel", timeout=10)
        upsd.set(ups_status="OB DISCHRG", battery_runtime="1500")  # one flicker
        watch.wait(lambda: watch.event_kinds().count("power_lost") == 2, 10, "the flicker")
        upsd.set(ups_status="OL CHRG")
        watch.wait(lambda: watch.event_kinds().count("power_restored") == 2, 10, "mains again")
        agent = start()   # it resumes the shutdown it was waiting out (at least 10 s more)
        pc_client.wait_for("ack", lambda a: a["id"] == cancel["id"], timeout=20)
        wait_until(lambda: "shutdown cancelled" in (agent_dir / "agent.log").read_text(), 10,
                   what="the agent cancels its shutdown")
        assert not (agent_dir / "shutdown.marker").exists()
        shutdowns = {c["id"] for c in pc_client.all("command") if c["kind"] == "shutdown"}
        assert len(shutdowns) == 1   # the first outage's: the flicker sent none
    finally:
        stop_process(agent)
        print((agent_dir / "agent.log").read_text(errors="replace")[-3000:])


def test_a_pc_that_did_not_shut_down_is_journaled_and_the_page_says_so(tmp_path, upsd, broker, watch,
                                                                       pc_client, start_agent,
                                                                       mock_factory,
                                                                       edge_in_process):
    """polkit refuses ``systemctl poweroff`` (another user is logged in): the agent had acked
    "shutdown in 1 s" and only its own log said the PC stayed up. The room's journal now has a
    second ``pc_ack`` of the shutdown, ok false, with the reason the page words in both
    languages; and the PC going dark later (the battery) is not "shut down as asked"."""
    from dashboard.texts.events import sentence
    from protocol.messages import JournalEvent

    edge_in_process(write_config(tmp_path, upsd, broker, site=SITE))
    agent = start_agent(shutdown_grace_s=1, shutdown_command=refused_shutdown(tmp_path / "tries"))
    watch.wait(lambda: "pc_online" in watch.event_kinds(), 15, "pc_online")
    upsd.set(ups_status="OB DISCHRG LB", battery_runtime="100")   # a sure shutdown: at once
    acks = lambda: [e for e in watch.json_on("/edge/event")   # noqa: E731
                    if e["kind"] == "pc_ack" and e["detail"]["kind"] == "shutdown"]
    watch.wait(lambda: len(acks()) == 2, 15, "both answers to the shutdown journaled")
    took, failed = acks()
    assert took["detail"]["ok"] is True and took["detail"]["id"] == failed["detail"]["id"]
    assert failed["detail"]["ok"] is False and failed["detail"]["code"] == "shutdown_failed"
    event = JournalEvent(**{k: failed[k] for k in ("site", "seq", "ts", "kind", "detail")})
    assert sentence(event, "id").startswith(f"PC meeting-pc tidak mati: {Path(sys.executable).name} -c")
    assert "gagal dengan kode keluar 1: \u201cCall to PowerOff failed: Access denied\u201d" in \
        sentence(event, "id")
    assert "failed with exit status 1: \u201cCall to PowerOff failed: Access denied\u201d" in \
        sentence(event, "en")
    agent.stop()   # the battery runs flat under the PC that is still up
    watch.wait(lambda: "pc_offline" in watch.event_kinds(), 30, "pc_offline")
    time.sleep(1)
    assert "pc_off" not in watch.event_kinds()


def _agent_process(agent_dir, config) -> subprocess.Popen:
    """`siaga agent` as its own process with no audio server: the running client decides."""
    no_audio = {**os.environ, "PULSE_SERVER": f"unix:{agent_dir}/no-pulse"}
    with open(agent_dir / "agent.log", "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "siaga", "agent", "-c", str(config)],
                                env=no_audio, stdout=subprocess.DEVNULL, stderr=log)


def _report(tmp_path) -> tuple[dict, list]:
    """What `siaga report` says of the edge's journal (JSON), and the meetings it counted."""
    from dashboard.report import data
    from dashboard.report.facts import site_facts, window
    from tests.report_support import ZONE
    out = subprocess.run([sys.executable, "-m", "siaga", "report", "-c", str(tmp_path / "siaga.toml"),
                          "--journal", str(tmp_path / "journal.sqlite3"), "--format", "json"],
                         capture_output=True, text=True, timeout=60, check=True)
    now = time.time()
    today = dt.datetime.fromtimestamp(now, ZONE).date()
    conn = data.open_readonly(str(tmp_path / "journal.sqlite3"))
    try:
        win = window(today, today, ZONE, now + 1)
        meetings = site_facts(SITE, data.events(conn, SITE, win), win).meetings
    finally:
        conn.close()
    return json.loads(out.stdout), meetings


def _meeting_events(watch) -> list[tuple[str, float]]:
    return [(e["kind"], e["ts"]) for e in watch.json_on("/edge/event")
            if e["kind"] in ("meeting_started", "meeting_ended", "pc_offline", "pc_online", "pc_off")]


class MeetingPc:
    """A real edge, and `siaga agent` as its own process on a PC where a Zoom (a process of a new
    name each test) has a meeting going: pc_online and meeting_started are journaled. Stops the
    app and the agent, and prints the agent's log, at the test's end."""

    def __init__(self, tmp_path, upsd, broker, watch, edge_in_process, request) -> None:
        self.zoom = f"Zoom{random.randrange(1000, 9999)}"
        edge_in_process(write_config(tmp_path, upsd, broker, site=SITE))
        self.dir = tmp_path / "agent"
        self.dir.mkdir()
        self.config = write_agent_config(self.dir, broker.port, meeting_apps=[self.zoom])
        self.app: subprocess.Popen | None = None
        self.agent = _agent_process(self.dir, self.config)
        request.addfinalizer(self.close)
        watch.wait(lambda: "pc_online" in watch.event_kinds(), 15, "pc_online")
        self.app = fake_program(self.dir, self.zoom)
        watch.wait(lambda: "meeting_started" in watch.event_kinds(), 10, "meeting_started")

    def start_agent(self) -> None:
        """The agent again, after it was stopped or killed."""
        self.agent = _agent_process(self.dir, self.config)

    def close(self) -> None:
        if self.app is not None:
            stop_process(self.app)
        stop_process(self.agent)
        print((self.dir / "agent.log").read_text(errors="replace")[-2000:])


@pytest.mark.parametrize("how", ["crash", "stop"])
def test_an_agent_restarted_mid_meeting_is_one_meeting_in_the_report(tmp_path, upsd, broker, watch,
                                                                      mock_factory, edge_in_process,
                                                                      request, how):
    """The agent's service restarts (an update) or it crashes and comes back while Zoom runs on:
    the edge journals the PC offline (the page and alerts say so at once) and the meeting ended,
    then the PC online and a meeting started. The report counts one meeting, from the first
    start to the real end; the meeting is not cut at the restart."""
    pc = MeetingPc(tmp_path, upsd, broker, watch, edge_in_process, request)
    if how == "crash":
        pc.agent.kill()     # its last will says offline
    else:
        pc.agent.terminate()   # a service stop: it says offline itself
    pc.agent.wait(10)
    watch.wait(lambda: "pc_offline" in watch.event_kinds(), 10, "pc_offline")
    snap = watch.wait(lambda: (s := watch.state()) and "pc_offline:meeting-pc" in s["reasons"] and s,
                      5, "the page says the PC is offline")
    assert snap["room"] == "attention"
    time.sleep(1)
    pc.start_agent()
    watch.wait(lambda: watch.event_kinds().count("meeting_started") == 2, 20, "meeting again")
    time.sleep(1)
    stop_process(pc.app)
    watch.wait(lambda: watch.event_kinds().count("meeting_ended") == 2, 20, "meeting ended")
    journal = _meeting_events(watch)
    assert [k for k, _ in journal] == ["pc_online", "meeting_started", "pc_offline", "meeting_ended",
                                       "pc_online", "meeting_started", "meeting_ended"]
    report, meetings = _report(tmp_path)
    print(journal, report["meetings"], meetings)
    assert report["meetings"]["count"] == 1
    assert report["meetings"]["by_app"][pc.zoom.lower()]["count"] == 1
    assert report["meetings"]["peak_concurrent"] == 1
    first_start, last_end = journal[1][1], journal[-1][1]
    assert [(m.start, m.end) for m in meetings] == [(first_start, last_end)]


def test_a_pc_that_stays_gone_ends_its_meeting_when_it_went_offline(tmp_path, upsd, broker, watch,
                                                                    mock_factory, edge_in_process,
                                                                    request):
    """The agent dies mid-meeting and never comes back: the meeting ends in the report at the
    moment the PC went offline (not later, not left open)."""
    pc = MeetingPc(tmp_path, upsd, broker, watch, edge_in_process, request)
    pc.agent.kill()
    watch.wait(lambda: "meeting_ended" in watch.event_kinds(), 10, "meeting_ended")
    time.sleep(3)
    journal = _meeting_events(watch)
    assert [k for k, _ in journal] == ["pc_online", "meeting_started", "pc_offline", "meeting_ended"]
    report, meetings = _report(tmp_path)
    assert report["meetings"]["count"] == 1
    assert [(m.start, m.end) for m in meetings] == [(journal[1][1], journal[2][1])]


def test_a_meeting_ended_by_siagas_shutdown_stays_ended(tmp_path, upsd, broker, watch, pc_client,
                                                        mock_factory, edge_in_process, request):
    """Power lost, Siaga shuts the PC down mid-meeting (pc_off); mains back, the PC is on again
    with the meeting app at once: that is a second meeting, the first ended at the shutdown."""
    pc = MeetingPc(tmp_path, upsd, broker, watch, edge_in_process, request)
    upsd.set(ups_status="OB DISCHRG", battery_runtime="100")   # at once: shutdown
    pc_client.wait_for("ack", lambda a: a["kind"] == "shutdown", timeout=10)
    wait_until(lambda: (pc.dir / "shutdown.marker").exists(), 10, what="the PC shuts down")
    pc.agent.terminate()   # the PC is off
    pc.agent.wait(10)
    watch.wait(lambda: "pc_off" in watch.event_kinds(), 10, "pc_off")
    upsd.set(ups_status="OL CHRG", battery_runtime="1800")
    watch.wait(lambda: "power_restored" in watch.event_kinds(), 10, "mains back")
    pc.start_agent()
    watch.wait(lambda: watch.event_kinds().count("meeting_started") == 2, 20, "meeting again")
    stop_process(pc.app)
    watch.wait(lambda: watch.event_kinds().count("meeting_ended") == 2, 20, "meeting ended")
    journal = _meeting_events(watch)
    assert [k for k, _ in journal] == ["pc_online", "meeting_started", "pc_offline", "meeting_ended",
                                       "pc_off", "pc_online", "meeting_started", "meeting_ended"]
    report, meetings = _report(tmp_path)
    assert report["meetings"]["count"] == 2
    assert [(m.start, m.end) for m in meetings] == [(journal[1][1], journal[2][1]),
                                                    (journal[6][1], journal[7][1])]
