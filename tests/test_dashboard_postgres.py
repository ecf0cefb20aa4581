"""Several dashboards on one PostgreSQL (CONTRACT §6.5): real mosquitto (MQTT v5 shared
subscription), real PostgreSQL, real `siaga dashboard` processes, real edge journals answering
replays, a real HTTP receiver for the alerts. One dashboard is killed mid-burst: every event is
stored once, every alert arrives once."""

from __future__ import annotations

import json
import re
import signal
import time
import urllib.request
from collections import Counter
from dataclasses import replace

import paho.mqtt.client as paho
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from dashboard.store.feed import Feed, subscriptions
from dashboard.store.store import Store
from edge.journal import Journal
from edge.replay import Replayer
from protocol.config import ConfigError, load_config
from protocol.messages import EdgeCommand, decode, to_json
from siaga.servers import free_port, stop_process
from tests.alert_receiver import Receiver
from tests.dashboard_support import snapshot, start_dashboard, wait_until, write_config
from dashboard.web.app import create_app, open_store


class Rooms:
    """Edges of ``sites``: each with its journal, publishing states and events, and replaying
    from its journal what a dashboard asks for."""

    def __init__(self, port: int, directory, sites: list[str]) -> None:
        self.sites = sites
        self.journals = {s: Journal(directory / f"{s}.sqlite3") for s in sites}
        self.replayers = {s: Replayer(self.journals[s], self._publish_event, lambda *a: None)
                          for s in sites}
        self.replays: list[tuple[str, int]] = []
        self.client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        self.client.on_message = self._command
        connected = []
        self.client.on_connect = lambda c, u, f, r, p: (c.subscribe("siaga/+/edge/command", qos=1),
                                                        connected.append(1))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        wait_until(lambda: connected, 5, what="the rooms' connection")

    def _publish_event(self, event) -> None:
        self.client.publish(f"siaga/{event.site}/edge/event", to_json(event), qos=1)

    def _command(self, client, userdata, message) -> None:
        command = decode(EdgeCommand, message.payload)
        site = message.topic.split("/")[1]
        if command.kind == "replay" and site in self.replayers:
            self.replays.append((site, command.from_seq))
            self.replayers[site].take(command)

    def state(self, site: str, room: str = "ready") -> None:
        state = replace(snapshot(site, room, name=site), seq=self.journals[site].last_seq())
        self.client.publish(f"siaga/{site}/edge/state", to_json(state), qos=1, retain=True)

    def outage(self, site: str) -> None:
        """The room loses power: power_lost, then notice_sent (which pages IT), then its state."""
        for kind in ("power_lost", "notice_sent"):
            self._publish_event(self.journals[site].append(site, time.time(), kind, {}))
        self.state(site, "on_battery")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
        for site in self.sites:
            self.replayers[site].stop()
            self.journals[site].close()


def stored_events(url: str) -> tuple[int, int]:
    """(rows, distinct (site, seq)) in the events table."""
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*), count(DISTINCT (site, seq)) FROM events").fetchone()


def api_sites(base: str) -> list[dict]:
    return json.load(urllib.request.urlopen(base + "/api/sites", timeout=10))["sites"]


def healthy(base: str) -> bool:
    try:
        return json.load(urllib.request.urlopen(base + "/healthz", timeout=2))["ok"]
    except OSError:
        return False


def test_on_postgresql_the_feed_shares_states_and_events_but_not_availability():
    assert subscriptions("siaga", shared=True) == (
        "$share/siaga-dashboard/siaga/+/edge/state", "$share/siaga-dashboard/siaga/+/edge/event",
        "siaga/+/edge/availability")
    assert subscriptions("siaga", shared=False) == (
        "siaga/+/edge/state", "siaga/+/edge/event", "siaga/+/edge/availability")


@pytest.mark.parametrize("url, says", [
    ("mysql://db/siaga", 'must be a file path or a URL such as "postgresql://'),
    ("postgresql://", "must be a file path or a URL"),
    ("postgresql://db:port/siaga", "must be a file path or a URL"),
    # urlsplit raises on a bracket not closed: it was a traceback from every command
    ("postgresql://[::1/siaga", "must be a file path or a URL"),
])
def test_a_bad_database_url_is_one_line_naming_the_key(tmp_path, url, says):
    with pytest.raises(ConfigError, match="dashboard.database") as caught:
        load_config(write_config(tmp_path, database=url))
    assert says in str(caught.value) and "\n" not in str(caught.value).strip()


def test_an_unreachable_postgresql_is_one_line_without_the_password(tmp_path):
    url = f"postgresql://siaga:secret@127.0.0.1:{free_port()}/siaga"
    config = load_config(write_config(tmp_path, database=url))
    with pytest.raises(ConfigError) as caught:
        open_store(config)
    message = str(caught.value)
    assert message.startswith("siaga.toml: dashboard.database: cannot open "
                              "postgresql://siaga:***@127.0.0.1:")
    assert "secret" not in message and "\n" not in message


@pytest.mark.parametrize("url", [
    "postgresql://siaga@127.0.0.1:{port}/siaga?password=Rahasia-24",      # libpq takes it there too
    "postgresql://siaga:Rahasia%!24@127.0.0.1:{port}/siaga",             # a % not encoded
    "postgresql://siaga:Rahasia-24@[::1/siaga",                           # a bracket not closed
])
@pytest.mark.parametrize("command", [[], ["--migrate-from", "region.sqlite3"], "report"])
def test_no_command_shows_the_database_password(tmp_path, capsys, url, command):
    """The password of dashboard.database reached the error lines (and the journal): a
    ``password=`` parameter as written, libpq's "invalid percent-encoded token" quoting it, the
    config's "got ..." quoting the URL."""
    from siaga.cli import main
    config = str(write_config(tmp_path, database=url.format(port=free_port())))
    argv = ["report", "-c", config] if command == "report" else ["dashboard", "-c", config, *command]
    assert main(argv) in (1, 2)
    said = capsys.readouterr()
    lines = (said.out + said.err).strip().splitlines()
    assert len(lines) == 1 and "***" in lines[0], lines
    assert "Rahasia" not in lines[0], lines


def test_a_page_polled_through_a_load_balancer_shows_every_change_and_never_reloads(pg_url):
    """A load balancer sends a page's polls of /api/changes to any dashboard. Each counted its
    changes on its own (dashboard A ran longer, each numbers the same burst in its own order):
    a version from A made B answer "reload" (the page reloaded every other second) or skip the
    rooms B had numbered below it (those cards kept "ready" while the rooms were on battery)."""
    rooms = [f"r{n:02d}" for n in range(20)]
    now = time.time()
    a = Store(pg_url)
    for step in range(3):     # A has been running: its rooms changed a few times
        for n, site in enumerate(rooms):
            a.put_state(snapshot(site, ("ready", "attention", "ready")[step], now=now + step + n / 100))
    a.flush()
    b = Store(pg_url)         # B started later (a deploy, a restart)
    try:
        page = {e.site: e.data["room"] for e in a.entries()}     # a page opened now, served by A
        since, reloads = a.version, 0

        def poll(dashboard: Store) -> None:
            nonlocal since, reloads
            version, changed, reload = dashboard.changes(since)
            if reload:
                reloads += 1
                page.clear()
                changed = [e.site for e in dashboard.entries()]
            for site in changed:
                entry = dashboard.entry(site)
                page[site] = entry.data["room"] if entry is not None else None
            since = version

        for turn in range(4):   # a blackout: each dashboard takes its share of the rooms' states
            for n, site in enumerate(rooms):
                room = "on_battery" if turn % 2 == 0 else "ready"
                (a if (n + turn) % 2 else b).put_state(snapshot(site, room, now=now + 10 + turn + n / 100))
            a.flush()
            b.flush()
            truth = "on_battery" if turn % 2 == 0 else "ready"
            wait_until(lambda: {e.data["room"] for d in (a, b) for e in d.entries()} == {truth}, 10,
                       what="both dashboards hold every room's state")
            for dashboard in (b, a, b):
                poll(dashboard)
                assert page == dict.fromkeys(rooms, truth), (turn, page)
        assert reloads == 0
    finally:
        a.close()
        b.close()


def test_two_dashboards_split_one_stream_and_each_shows_every_site(tmp_path, broker, pg_url):
    config = load_config(write_config(tmp_path, mqtt_port=broker.port, database=pg_url))
    stores = [Store(pg_url) for _ in range(2)]
    feeds = [Feed(config, store, client_id=f"dash-{n}") for n, store in enumerate(stores)]
    rooms = None
    try:
        for feed in feeds:
            feed.start()
            assert feed.link.listening.wait(5)
        rooms = Rooms(broker.port, tmp_path, [f"kantor-{n:02d}" for n in range(20)])
        for site in rooms.sites:
            rooms.state(site)
            rooms.outage(site)
        for store in stores:
            wait_until(lambda: len(store.entries()) == 20 and all(
                e.state.room == "on_battery" for e in store.entries()), 10, what="every site")
        wait_until(lambda: stored_events(pg_url) == (40, 40), 10, what="40 events stored")
        taken = [store.counters()["state"] for store in stores]
        assert sum(taken) == 40 and all(taken), taken     # the broker gave each a share
        assert rooms.replays == []                          # no gap: nothing asked again
    finally:
        for feed in feeds:
            feed.stop()
        for store in stores:
            store.close()
        if rooms is not None:
            rooms.close()


def test_a_rooms_older_state_taken_late_does_not_hide_the_newer_one_another_dashboard_took(
        tmp_path, pg_url):
    """The shared subscription hands a room's states to both dashboards: A takes the cut's state,
    B hears it from PostgreSQL and only then takes, from its own queue, the state the room sent
    just before (still "ready"). B keeps showing the cut, as the database does; a newer state
    still counts. (In a 30,000-room blackout one or two rooms a run showed "ready" on one
    dashboard until their next state, up to 100 s later.) On one dashboard's SQLite file a state
    with an older time is still shown: an edge whose clock went back must not freeze its card."""
    a, b = Store(pg_url), Store(pg_url)
    site = lambda store: {e.site: e for e in store.entries()}["rr1"].state.room  # noqa: E731
    try:
        now = time.time()
        a.put_state(snapshot("rr1", "on_battery", now=now))
        a.flush()
        wait_until(lambda: "rr1" in {e.site for e in b.entries()} and site(b) == "on_battery", 10,
                   what="B hears the cut from PostgreSQL")
        b.put_state(snapshot("rr1", "ready", now=now - 2))
        b.flush()
        assert (site(a), site(b)) == ("on_battery", "on_battery")
        assert b.counters().get("older") == 1
        with psycopg.connect(pg_url) as conn:
            stored = conn.execute("SELECT state FROM latest WHERE site = 'rr1'").fetchone()[0]
        assert json.loads(stored)["room"] == "on_battery"
        b.put_state(snapshot("rr1", "ready", now=now + 2))      # power back: newer, taken
        b.flush()
        wait_until(lambda: site(a) == "ready", 10, what="A hears the power back")
        assert site(b) == "ready"
    finally:
        a.close()
        b.close()
    alone = Store(str(tmp_path / "dashboard.sqlite3"))
    try:
        alone.put_state(snapshot("rr1", "on_battery", now=now))
        alone.put_state(snapshot("rr1", "ready", now=now - 60))
        assert site(alone) == "ready"
    finally:
        alone.close()


@pytest.mark.slow   # a 30-room burst on two dashboards
def test_one_of_two_dashboards_killed_mid_burst_loses_no_event_and_sends_no_alert_twice(
        tmp_path, broker, pg_url):
    receiver = Receiver(free_port()).start()
    procs: list = []
    rooms = None
    try:
        bases = []
        for name in ("a", "b"):
            directory = tmp_path / name
            directory.mkdir()
            (directory / "alerts.urls").write_text(receiver.url + "\n")
            port = free_port()
            config = write_config(directory, mqtt_port=broker.port, listen=f"127.0.0.1:{port}",
                                  database=pg_url, dashboard='stale_after_s = 600\n[alerts]\n'
                                  'urls_file = "alerts.urls"\nretry_max_s = 1')
            bases.append(f"http://127.0.0.1:{port}")
            procs.append(start_dashboard(config, bases[-1], directory / "dashboard.log"))
            wait_until(lambda: healthy(bases[-1]), 10, what=f"dashboard {name} connected")
        time.sleep(1.0)    # the first to start holds the alert rules' lock
        rooms = Rooms(broker.port, tmp_path, [f"kantor-{n:02d}" for n in range(30)])
        for site in rooms.sites:
            rooms.state(site)
        wait_until(lambda: all(len(api_sites(b)) == 30 for b in bases), 15, what="30 sites on both")
        for n, site in enumerate(rooms.sites):
            rooms.outage(site)
            if n == 14:
                procs[0].send_signal(signal.SIGKILL)    # the leader, mid-burst
        procs[0].wait(5)
        time.sleep(3)
        for site in rooms.sites:                        # the next round of states shows any gap
            rooms.state(site, "on_battery")
        survivor = bases[1]
        wait_until(lambda: stored_events(pg_url) == (60, 60), 40, what="all 60 events stored once")
        wait_until(lambda: all(s["room"] == "on_battery" for s in api_sites(survivor)), 10,
                   what="every room on battery on the surviving dashboard")
        wait_until(lambda: len(receiver.messages()) >= 30, 40, what="30 alerts")
        time.sleep(3)                                   # anything sent twice would arrive by now
        # Once each, but for at most one alert: the one the killed dashboard was handing to the
        # receiver when it died (the receiver may have it, the outbox had not recorded it). The
        # next dashboard sends it again rather than risk none, marked as a possible duplicate
        # (docs/alerts.md). Only an alert the killed one had queued can be it.
        mark = "[Mungkin ganda] "
        titles = [m["title"] for m in receiver.messages()]

        def room(title: str) -> str:
            return title.removeprefix(mark).split(": ")[0].removeprefix("Siaga ")
        pages = Counter(room(t) for t in titles if not t.startswith(mark))
        again = [room(t) for t in titles if t.startswith(mark)]
        assert set(pages) | set(again) == set(rooms.sites), pages    # every room paged: none lost
        killed_queued = set(re.findall(r"alert \d+ queued: \w+ for (\S+)",
                                       (tmp_path / "a" / "dashboard.log").read_text()))
        assert max(pages.values()) == 1, pages          # no duplicate that does not say so
        assert len(again) <= 1 and set(again) <= killed_queued, (again, killed_queued)
    finally:
        for proc in procs:
            stop_process(proc)
        if rooms is not None:
            rooms.close()
        receiver.stop()
        for name in ("a", "b"):     # pytest shows this only when the test failed
            path = tmp_path / name / "dashboard.log"
            print(f"----- dashboard {name} -----\n" + (path.read_text()[-4000:] if path.exists() else ""))


@pytest.mark.servers
def test_while_postgresql_restarts_the_room_list_answers_and_a_page_that_needs_it_says_503(
        tmp_path, caplog):
    """The rooms' states are in memory: /api/sites answers while PostgreSQL is away; a room's
    events are read from it: 503, one clear answer, no traceback in the log (was: 500 and a
    traceback per request)."""
    import logging
    from tests.postgres_support import start_postgres
    server = start_postgres()
    config = load_config(write_config(tmp_path, database=server.new_database()))
    store = Store(config.dashboard.database)
    try:
        store.put_state(snapshot("kantor-01", "on_battery", name="Kantor 1"))
        store.db.flush()
        client = create_app(config, store).test_client()
        caplog.set_level(logging.INFO)
        server.pg_ctl("stop", "-m", "fast")
        rooms = client.get("/api/sites")
        events = client.get("/api/sites/kantor-01/events")
        assert rooms.status_code == 200 and [s["site"] for s in rooms.json["sites"]] == ["kantor-01"]
        assert events.status_code == 503 and events.json["error"]
        assert not any(r.exc_info for r in caplog.records)
        server.pg_ctl("start")
        wait_until(lambda: client.get("/api/sites/kantor-01/events").status_code == 200, 30,
                   what="the events again once PostgreSQL is back")
    finally:
        store.close()
        server.stop()
