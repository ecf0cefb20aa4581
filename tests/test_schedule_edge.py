"""Ready before the meeting, end to end: a calendar served on 127.0.0.1, the edge on a real upsd
+ dummy-ups and mosquitto with mock pins, the dashboard alerting a real receiver.

A booking 10 min ahead (inside ready_before_s = 15 min) with the UPS at 60 %: the room turns
amber, the state says what is wrong, IT gets one alert; the UPS charges to 95 %: ready again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import urllib.request
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from protocol.config import load_config
from edge.daemon import Edge
from siaga.servers import free_port, stop_process
from tests.alert_receiver import Receiver
from tests.calendar_support import CalendarServer, calendar, event, weekly_with_exceptions
from tests.observer import Observer
from tests.dashboard_support import start_dashboard, write_config
from tests.edge_support import write_config as edge_toml

SITE = "rr1"


class Dash:
    """`siaga dashboard` with alerts to ``receiver`` (Apprise json://), on a free port."""

    def __init__(self, tmp_path: Path, broker_port: int, receiver: Receiver,
                 alerts: str = "") -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        (tmp_path / "alerts.urls").write_text(receiver.url + "\n")
        config = write_config(tmp_path, mqtt_port=broker_port, listen=f"127.0.0.1:{port}",
                              dashboard='\n[alerts]\nurls_file = "alerts.urls"\nretry_max_s = 1\n'
                              + alerts)
        self.proc = start_dashboard(config, self.url, tmp_path / "dashboard.log")

    def shows(self, site: str) -> bool:
        """The dashboard has the room's state (so alerts carry its name)."""
        with urllib.request.urlopen(self.url + "/api/sites", timeout=5) as answer:
            return any(s["site"] == site for s in json.load(answer)["sites"])

    def page(self, site: str, lang: str) -> str:
        """The room page's text in ``lang``, entities read back (``room&#39;s``)."""
        with urllib.request.urlopen(f"{self.url}/sites/{site}?lang={lang}", timeout=10) as answer:
            return html.unescape(answer.read().decode())

    def stop(self) -> None:
        stop_process(self.proc)


def edge_config(tmp_path: Path, upsd, broker, calendar_url: str) -> Path:
    """The room's siaga.toml (edge.toml: the dashboard's siaga.toml is beside it), no PC."""
    return edge_toml(tmp_path, upsd, broker, SITE, name="edge.toml", calendar=calendar_url, pcs=(),
                     ready_before_s=900, ready_min_charge_pct=80)


def led(factory) -> tuple[float, ...]:
    return tuple(round(float(factory.pin(n).state), 2) for n in (17, 27, 22))


@pytest.fixture
def receiver():
    receiver = Receiver(free_port()).start()
    yield receiver
    receiver.stop()


def test_not_ready_turns_amber_alerts_it_once_then_ready_again(tmp_path, upsd, broker, receiver,
                                                               mock_factory):
    start = float(int(time.time()) + 600)   # iCalendar times are whole seconds
    cal = CalendarServer(weekly_with_exceptions(start))
    dash = Dash(tmp_path, broker.port, receiver)
    watch = Observer(broker.port, f"siaga/{SITE}/edge/#")
    edge = Edge(load_config(edge_config(tmp_path, upsd, broker, cal.url)))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(edge.run(),), daemon=True)
    thread.start()
    try:
        watch.wait(lambda: (s := watch.state()) and s.get("next_meeting") and s["room"] == "ready",
                   20, "ready, with the booking known")
        watch.wait(lambda: dash.shows(SITE), 10, "the dashboard showing the room")
        upsd.set(battery_charge="60")
        state = watch.wait(lambda: (s := watch.state()) and s.get("next_meeting")
                           and s["room"] == "attention" and s, 20, "not ready")
        assert state["next_meeting"] == {"title": "Rapat mingguan", "start": start,
                                         "end": start + 3600, "ready": False,
                                         "problems": ["battery_low:meeting:60"]}
        assert "battery_low:meeting:60" in state["reasons"]
        assert state["indicator"]["led"] == "amber" and led(mock_factory)[1] > 0   # not green alone
        watch.wait(lambda: len(receiver.messages()) >= 1, 20, "the alert")
        alert = receiver.messages()[0]
        assert alert["title"].startswith('Siaga Ruang Rapat 1: Belum siap untuk rapat "Rapat mingguan"')
        assert "baru terisi 60 %" in alert["message"]

        upsd.set(battery_charge="95")
        state = watch.wait(lambda: (s := watch.state()) and s["room"] == "ready" and s, 20, "ready")
        assert state["next_meeting"]["ready"] is True and state["next_meeting"]["problems"] == []
        watch.wait(lambda: "ready_again" in watch.event_kinds(), 10, "ready_again")
        assert watch.event_kinds().count("not_ready") == 1
        assert led(mock_factory) == (0, 1, 0)
        time.sleep(2)   # a second alert would be here by now
        assert [m["title"] for m in receiver.messages()] == [alert["title"]]
    finally:
        loop.call_soon_threadsafe(edge.stopping.set)
        thread.join(10)
        edge.close()   # as `siaga edge` does after run(): its calendar and MQTT threads stop
        loop.close()
        watch.close()
        dash.stop()
        cal.close()


def test_a_calendar_server_taking_30_s_never_delays_the_ups_polls(tmp_path, upsd, broker,
                                                                   mock_factory):
    cal = CalendarServer(weekly_with_exceptions(time.time() + 600), delay_s=30)
    watch = Observer(broker.port, f"siaga/{SITE}/edge/#")
    edge = Edge(load_config(edge_config(tmp_path, upsd, broker, cal.url)))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(edge.run(),), daemon=True)
    thread.start()
    try:
        watch.wait(lambda: (s := watch.state()) and s["power"]["charge_pct"] == 100.0, 10, "state")
        assert cal.requests, "the edge never asked for its calendar"
        changed = time.monotonic()
        upsd.set(battery_charge="70")
        state = watch.wait(lambda: (s := watch.state()) and s["power"]["charge_pct"] == 70.0 and s,
                           20, "the new charge while the calendar server still answers")
        # Long before the calendar's 30 s answer (a loaded machine takes seconds for the rest).
        assert time.monotonic() - changed < 20 and state["next_meeting"] is None
    finally:
        loop.call_soon_threadsafe(edge.stopping.set)
        thread.join(10)
        edge.close()   # as `siaga edge` does after run(): its calendar and MQTT threads stop
        loop.close()
        watch.close()
        cal.close()


def test_back_to_back_the_next_meeting_is_checked_while_the_one_before_runs(tmp_path, upsd, broker,
                                                                            mock_factory):
    """A meeting runs until 10 min from now, the next one follows it; the UPS at 60 %: the room
    turns amber and journals not_ready for the next meeting (it stayed green: the running
    meeting hid the next one's check until it had begun)."""
    start = float(int(time.time()) + 600)
    cal = CalendarServer(calendar(event("a@siaga", "Rapat pagi", start - 3000, start),
                                  event("b@siaga", "Rapat siang", start, start + 3600)))
    watch = Observer(broker.port, f"siaga/{SITE}/edge/#")
    upsd.set(battery_charge="60")
    edge = Edge(load_config(edge_config(tmp_path, upsd, broker, cal.url)))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(edge.run(),), daemon=True)
    thread.start()
    try:
        state = watch.wait(lambda: (s := watch.state()) and s.get("next_meeting") and
                           s["power"]["charge_pct"] == 60.0 and s, 20, "the booking known")
        state = watch.wait(lambda: (s := watch.state()) and s["room"] == "attention" and s, 10,
                           "amber before the next meeting")
        assert state["next_meeting"] == {"title": "Rapat siang", "start": start,
                                         "end": start + 3600, "ready": False,
                                         "problems": ["battery_low:meeting:60"]}
        watch.wait(lambda: "not_ready" in watch.event_kinds(), 10, "not_ready")
        events = watch.json_on("/edge/event")
        assert [e["detail"]["meeting"] for e in events if e["kind"] == "not_ready"] == ["Rapat siang"]
        assert state["indicator"]["led"] == "amber"
    finally:
        loop.call_soon_threadsafe(edge.stopping.set)
        thread.join(10)
        edge.close()
        loop.close()
        watch.close()
        cal.close()


def test_a_calendar_unreadable_for_the_threshold_is_said_alerted_shown_and_cleared(
        tmp_path, upsd, broker, receiver, mock_factory, monkeypatch):
    """The calendar server goes down: the room kept showing the last copy's meeting as current,
    green, with nothing for IT (only the Pi's log said it). Now, once the calendar has been
    unreadable for CALENDAR_UNREADABLE_AFTER_S (1 h; 3 s here, the edge's monotonic clock
    cannot be stepped): the reason, amber, calendar_unreadable journaled once, one alert in the
    dashboard's language, the page in both; the server back: readable, green, the page clean."""
    monkeypatch.setattr("edge.room.CALENDAR_UNREADABLE_AFTER_S", 3.0, raising=False)
    start = float(int(time.time()) + 7200)   # outside ready_before_s: no readiness check
    cal = CalendarServer(calendar(event("w@siaga", "Rapat mingguan", start, start + 3600)))
    dash = Dash(tmp_path, broker.port, receiver, alerts='min_room = "attention"\n')
    watch = Observer(broker.port, f"siaga/{SITE}/edge/#")
    edge = Edge(load_config(edge_config(tmp_path, upsd, broker, cal.url)))
    edge.calendar.refresh_s = 1.0   # site.calendar_refresh_s is 30 s at least
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(edge.run(),), daemon=True)
    thread.start()
    try:
        watch.wait(lambda: (s := watch.state()) and s.get("next_meeting") and s["room"] == "ready",
                   20, "ready, with the booking known")
        watch.wait(lambda: dash.shows(SITE), 10, "the dashboard showing the room")
        cal.close()
        down = time.time()
        state = watch.wait(lambda: (s := watch.state()) and s["room"] == "attention" and s, 20,
                           "attention: the calendar cannot be read")
        assert state["reasons"] == ["calendar_unreadable"] and state["indicator"]["led"] == "amber"
        assert state["next_meeting"]["title"] == "Rapat mingguan"     # the last copy, kept
        assert led(mock_factory)[1] > 0 and led(mock_factory)[0] > 0  # amber, not green
        said = [e for e in watch.json_on("/edge/event") if e["kind"] == "calendar_unreadable"]
        assert len(said) == 1 and down - 2 <= said[0]["detail"]["since"] <= down + 3
        assert "Connection refused" in said[0]["detail"]["problem"]
        since = dt.datetime.fromtimestamp(said[0]["detail"]["since"], ZoneInfo("Asia/Jakarta"))
        watch.wait(lambda: receiver.messages(), 20, "the alert")
        alert = receiver.messages()[0]
        assert alert["title"] == ("Siaga Ruang Rapat 1: Kalender ruangan tidak terbaca sejak "
                                  f"{since:%H:%M} WIB; jadwal yang tampil mungkin usang")
        assert "Periksa server atau berkas kalender ruangan ini (site.calendar)" in alert["message"]
        page = watch.wait(lambda: "usang" in (p := dash.page(SITE, "id")) and p, 10, "the page")
        assert "Kalender ruangan tidak terbaca; jadwal yang tampil mungkin usang" in page
        assert ("Kalender ruangan tidak terbaca: jadwal ini dari salinan terakhir yang terbaca "
                "dan mungkin sudah usang.") in page
        page = dash.page(SITE, "en")
        assert "The room's calendar cannot be read; the schedule shown may be out of date" in page
        assert ("The room's calendar cannot be read: this schedule is from the last copy read "
                "and may be out of date.") in page
        assert "The room's calendar has not been readable for" in page     # the journal line

        cal.start()
        state = watch.wait(lambda: (s := watch.state()) and s["room"] == "ready" and s, 20,
                           "ready: the calendar read again")
        assert state["reasons"] == [] and state["indicator"]["led"] == "green"
        watch.wait(lambda: "calendar_readable" in watch.event_kinds(), 10, "calendar_readable")
        assert watch.event_kinds().count("calendar_unreadable") == 1
        page = watch.wait(lambda: "salinan terakhir" not in (p := dash.page(SITE, "id")) and p,
                          10, "the page without the stale schedule")
        assert "Kalender ruangan terbaca lagi; jadwal kembali terkini." in page
        time.sleep(2)   # a second alert would be here by now
        assert len(receiver.messages()) == 1
    finally:
        loop.call_soon_threadsafe(edge.stopping.set)
        thread.join(10)
        edge.close()
        loop.close()
        watch.close()
        dash.stop()
        cal.close()


def test_a_restarted_edge_reads_its_last_word_on_the_calendar_from_the_journal(tmp_path, upsd,
                                                                              broker, mock_factory):
    """calendar_unreadable journaled before a restart: the edge neither says it again nor forgets
    to say calendar_readable (edge.room's calendar_said, resumed from the journal)."""
    edge = Edge(load_config(edge_config(tmp_path, upsd, broker, "http://127.0.0.1:9/room.ics")))
    try:
        assert edge.calendar_said() is False
        edge.journal.append(SITE, time.time(), "calendar_unreadable", {"since": 0.0, "problem": "x"})
        edge.journal.append(SITE, time.time(), "booking", {"meeting": "m", "start": 0.0, "end": 1.0})
        assert edge.calendar_said() is True
        edge.journal.append(SITE, time.time(), "calendar_readable", {})
        assert edge.calendar_said() is False
    finally:
        edge.close()
