"""The dashboard's store and its MQTT decoding: staleness, de-duplication, history, bad payloads.

The store's tests run on both engines (dashboard/store/engine.py): the SQLite file and a real
PostgreSQL (tests/postgres_support.py)."""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import replace

import pytest

from dashboard.store.feed import Feed
from dashboard.store.store import Store
from protocol.config import load_config
from protocol.messages import JournalEvent, OutageView, to_json
from tests.dashboard_support import V01_HISTORY, snapshot, wait_until, write_config

T0 = 1764270000.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.servers)])
def location(request, tmp_path):
    """Where the store keeps its data: an SQLite file, or a fresh PostgreSQL database."""
    if request.param == "postgres":
        return request.getfixturevalue("pg_url")
    return str(tmp_path / "dash.sqlite3")


@pytest.fixture
def store(location, clock):
    s = Store(location, clock=clock)
    yield s
    s.close()


@pytest.fixture
def feed(tmp_path, store):
    """The feed's decoding, driven with raw payloads (no connection is made: start() is not called)."""
    config = load_config(write_config(tmp_path))
    return Feed(config, store)


def test_a_state_older_than_90_s_is_stale(store, clock):
    store.put_state(snapshot("rr1", now=T0))
    clock.now = T0 + 89
    assert store.entry("rr1").stale is False
    clock.now = T0 + 91
    assert store.entry("rr1").stale is True
    store.put_state(snapshot("rr1", now=clock.now))
    assert store.entry("rr1").stale is False


def test_an_offline_edge_is_stale_at_once(store):
    store.put_state(snapshot("rr1", now=T0))
    store.put_availability("rr1", "offline")
    assert store.entry("rr1").stale and store.entry("rr1").api()["availability"] == "offline"
    store.put_availability("rr1", "online")
    assert not store.entry("rr1").stale


def test_events_are_deduplicated_by_site_and_seq(store):
    event = JournalEvent(site="rr1", seq=7, ts=T0, kind="power_lost")
    answers = [store.put_event(event), store.put_event(event),
               store.put_event(JournalEvent(site="rr2", seq=7, ts=T0, kind="power_lost"))]
    # PostgreSQL takes the event with the burst's transaction: the duplicate is counted then
    assert answers == ([True, True, True] if store.shared else [True, False, True])
    store.flush()
    assert [e.seq for e in store.events("rr1")] == [7]
    assert store.counters()["duplicate"] == 1


@pytest.mark.servers
def test_on_postgresql_events_committed_before_a_lost_answer_still_reach_the_alert_rules(
        pg_url, clock, monkeypatch):
    """PostgreSQL commits a burst and the connection dies before its answer arrives: the writer
    sends the burst again on a new connection, where its events are already stored. They must
    still reach the listeners (the alert rules) once, or the room's "power lost" is never paged;
    an event another dashboard stored first is still a duplicate."""
    import psycopg

    from dashboard.store.postgres import PostgresDatabase
    real = PostgresDatabase._commit
    lost: list[int] = []

    def commit_then_lose_the_answer(self, conn, batch):
        new = real(self, conn, batch)
        if batch.events and not lost:
            lost.append(len(new))
            conn.close()    # what the writer meets when the server's answer to COMMIT is lost
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return new
    other = Store(pg_url, clock=clock)         # another dashboard, which stored rr2's event first
    try:
        other.put_event(JournalEvent(site="rr2", seq=1, ts=T0, kind="power_lost"))
        other.flush()
        monkeypatch.setattr(PostgresDatabase, "_commit", commit_then_lose_the_answer)
        store = Store(pg_url, clock=clock)
        heard: list[JournalEvent] = []
        store.listeners.append(lambda item: isinstance(item, JournalEvent) and heard.append(item))
        try:
            for event in (JournalEvent(site="rr1", seq=1, ts=T0, kind="power_lost"),
                          JournalEvent(site="rr1", seq=2, ts=T0 + 1, kind="notice_sent"),
                          JournalEvent(site="rr2", seq=1, ts=T0, kind="power_lost")):
                store.put_event(event)
            store.flush()
            assert lost == [2]    # the first commit stored rr1's two events, then its answer was lost
            assert sorted((e.site, e.seq) for e in heard) == [("rr1", 1), ("rr1", 2)]
            assert store.counters()["duplicate"] == 1
            assert sorted(e.seq for e in store.events("rr1")) == [1, 2]    # stored once each
        finally:
            store.close()
    finally:
        other.close()


@pytest.mark.servers
def test_on_postgresql_a_notice_whose_read_fails_is_read_again_on_the_next_connection(pg_url):
    """Another dashboard's notice arrives and the server goes away before this one has read
    what it names: the listener keeps the notice and reads it on its next connection, and
    lives on. It used to read through the pool, whose failure (after 5 s) killed the thread,
    seen in a postgres_restarted cell: the dashboard never again heard what the others stored."""
    import threading

    import psycopg

    from dashboard.store.postgres import Heard, PostgresDatabase
    mine, other = PostgresDatabase(pg_url), PostgresDatabase(pg_url)
    heard: list[Heard] = []
    failing = [1]
    real = PostgresDatabase._gather

    def server_gone_once(self, conn, payloads):
        if failing:
            failing.pop()
            conn.close()
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return real(self, conn, payloads)
    try:
        mine._gather = server_gone_once.__get__(mine)
        mine.on_heard = heard.append
        mine.want_events = lambda: True
        other.add_event(JournalEvent(site="rr1", seq=1, ts=T0, kind="power_lost"))
        wait_until(lambda: any(h.full for h in heard), 15, what="the event heard after the failure")
        assert not failing                                  # the read did fail once
        assert [(e.site, e.seq) for h in heard for e in h.full] == [("rr1", 1)]
        other.add_event(JournalEvent(site="rr1", seq=2, ts=T0 + 1, kind="power_restored"))
        wait_until(lambda: [e.seq for h in heard for e in h.full] == [1, 2], 15,
                   what="what the other dashboard stores later")
        assert any(t.name == "siaga-pg-listen" for t in threading.enumerate())
    finally:
        mine.close()
        other.close()


@pytest.mark.servers
def test_on_postgresql_a_notice_that_is_not_ours_is_ignored_and_the_next_is_heard(pg_url, caplog):
    """Anything NOTIFYing on the channel (another program, an older dashboard): one line, and the
    listener goes on to hear the real dashboards."""
    import psycopg

    from dashboard.store.postgres import CHANNEL, Heard, PostgresDatabase
    mine, other = PostgresDatabase(pg_url), PostgresDatabase(pg_url)
    heard: list[Heard] = []
    try:
        mine.on_heard = heard.append
        mine.want_events = lambda: True
        with psycopg.connect(pg_url, autocommit=True) as conn:
            for junk in ('[1, 2]', '{"e": [["rr9", "x"]]}', '{"e": 5}', 'not json'):
                conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, junk))
        other.add_event(JournalEvent(site="rr1", seq=1, ts=T0, kind="power_lost"))
        wait_until(lambda: any(h.full for h in heard), 15, what="the real notice heard")
        assert [(e.site, e.seq) for h in heard for e in h.full] == [("rr1", 1)]
    finally:
        mine.close()
        other.close()


def test_a_repeated_state_is_not_a_change_but_a_new_room_is(store, clock):
    first = snapshot("rr1", now=T0, since=T0 - 60)
    store.put_state(first)
    version = store.version
    clock.now = T0 + 30
    store.put_state(replace(first, ts=T0 + 30))   # the edge repeats its state every 30 s
    assert store.changes(version) == (version, [], False)
    store.put_state(snapshot("rr1", "on_battery", now=T0 + 31, since=T0 + 31))
    assert store.changes(version)[1] == ["rr1"]


def test_each_room_falls_silent_when_its_own_time_comes(store, clock):
    """A sweep looks only at the rooms whose state has come due: a room renewed meanwhile stays
    fresh, one that went offline and back is watched again, a forgotten one is gone, and a
    clock set back makes the stale fresh again."""
    for n, site in enumerate(("rr1", "rr2", "rr3", "rr4", "rr5")):
        store.put_state(snapshot(site, now=T0 + n))
    stale = lambda: [e.site for e in store.entries() if e.stale]  # noqa: E731
    clock.now = T0 + 60
    store.put_state(snapshot("rr2", now=clock.now))          # renewed before its time
    store.put_availability("rr3", "offline")
    assert stale() == ["rr3"]
    store.put_availability("rr3", "online")
    store.forget("rr5")
    clock.now = T0 + 92.5                                   # rr1 (T0) and rr3 (T0 + 2) are due
    assert stale() == ["rr1", "rr3"]
    clock.now = T0 + 93.5
    assert stale() == ["rr1", "rr3", "rr4"]
    clock.now = T0 + 149
    assert stale() == ["rr1", "rr3", "rr4"]
    clock.now = T0 + 151
    assert stale() == ["rr1", "rr2", "rr3", "rr4"]
    clock.now = T0 + 30                                    # the clock was set back
    assert stale() == []
    clock.now = T0 + 151.5
    assert stale() == ["rr1", "rr2", "rr3", "rr4"]


def test_going_stale_is_a_change_the_pages_see(store, clock):
    store.put_state(snapshot("rr1", now=T0))
    version = store.version
    clock.now = T0 + 120
    assert store.changes(version)[1] == ["rr1"]


def bucket_at(history: dict, ts: float) -> dict:
    return next(b for b in history["buckets"] if b["start"] <= ts < b["start"] + history["bucket_s"])


def test_a_bucket_keeps_the_lowest_highest_and_last_value(store, clock):
    """A cut from 220 V to 0 V inside one bucket: min 0, max 220, not an average of 110."""
    for i, room in enumerate(["ready", "ready", "on_battery", "on_battery"]):
        clock.now = T0 + 10 * i
        store.put_state(snapshot("rr1", room, now=clock.now, volts=220.0, charge=100.0 - i,
                                 runtime_s=1800 - 300 * i))
    store.flush()
    bucket = bucket_at(store.history("rr1", "24h"), T0)
    assert bucket["input_voltage"] == {"min": 0.0, "max": 220.0, "last": 0.0}
    assert bucket["runtime_s"] == {"min": 900.0, "max": 1800.0, "last": 900.0}
    assert bucket["on_battery"] is True and bucket["load_pct"]["last"] == 35.0


def test_minutes_are_written_when_they_end_and_read_back_after_a_restart(location, clock):
    path = location
    first = Store(path, clock=clock)
    for i in range(12):                                     # two minutes of states every 10 s
        clock.now = T0 - T0 % 60 + 10 * i
        first.put_state(snapshot("rr1", now=clock.now, charge=90.0 + i))
    first.close()
    again = Store(path, clock=clock)
    try:
        answer = again.history("rr1", "6h")
        assert answer["bucket_s"] == 60                    # young data: minute buckets
        charges = [b["charge_pct"] for b in answer["buckets"] if b["charge_pct"]]
        assert charges == [{"min": 90.0, "max": 95.0, "last": 95.0},
                           {"min": 96.0, "max": 101.0, "last": 101.0}]
    finally:
        again.close()


def test_on_battery_spans_start_when_the_outage_started(store, clock):
    store.put_state(snapshot("rr1", now=T0))
    clock.now = T0 + 40
    started = T0 + 33.5
    store.put_state(snapshot("rr1", "on_battery", now=clock.now, since=started,
                             outage=OutageView(started=started)))
    clock.now = T0 + 400
    store.put_state(snapshot("rr1", "on_battery", now=clock.now, outage=OutageView(started=started)))
    clock.now = T0 + 700.25
    store.put_state(snapshot("rr1", now=clock.now))
    store.flush()
    answer = store.history("rr1", "24h")
    assert answer["battery"] == [[started, T0 + 700.25]]
    on = [b["start"] for b in answer["buckets"] if b["on_battery"]]
    assert on == [T0 + 60 * i for i in range(12)]        # the minutes from 00:33.5 to 11:40.25


def test_on_battery_without_an_outage_object_is_one_span(store, clock):
    for i in range(5):                                    # on battery, flicker guard not over yet
        clock.now = T0 + 2 * i
        store.put_state(snapshot("rr1", "on_battery", now=clock.now))
    clock.now = T0 + 20
    store.put_state(snapshot("rr1", now=clock.now))
    store.flush()
    assert store.history("rr1", "6h")["battery"] == [[T0, T0 + 20]]


def test_history_with_no_data_has_empty_buckets(store):
    store.put_state(snapshot("rr1", now=T0 - 40 * 86400))   # a state, but far outside the range
    store.flush()
    answer = store.history("rr1", "7d")
    assert answer["range"] == "7d" and answer["bucket_s"] == 3600
    assert all(b["charge_pct"] is None for b in answer["buckets"]) and len(answer["buckets"]) >= 168


def test_a_v01_database_is_migrated_without_losing_its_data(tmp_path, clock):
    """The v0.1 schema kept one averaged sample a minute; its samples become minutes and hours,
    its outage rooms become on-battery spans, and events, states and the secret key stay."""
    path = tmp_path / "dash.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(V01_SCHEMA)
        conn.execute("INSERT INTO latest VALUES ('rr1', ?)", (json.dumps(STATE),))
        conn.execute("INSERT INTO meta VALUES ('secret_key', 'kept')")
        conn.execute("INSERT INTO events VALUES ('rr1', 1, ?, 'power_lost', '{}')", (T0 - 3000,))
        rows = [("rr1", T0 - 3600 + 60 * i, "on_battery" if 10 <= i < 20 else "ready",
                 100.0 - i, 1800.0, 35.0, 0.0 if 10 <= i < 20 else 221.0) for i in range(60)]
        conn.executemany("INSERT INTO history VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    conn.close()
    store = Store(str(path), clock=clock)
    try:
        assert store.secret_key() == "kept" and store.entry("rr1") is not None
        assert [e.kind for e in store.events("rr1")] == ["power_lost"]
        answer = store.history("rr1", "24h")
        filled = [b for b in answer["buckets"] if b["charge_pct"]]
        assert sum(1 for _ in filled) >= 12 and answer["battery"] == [[T0 - 3000, T0 - 2400]]
        assert min(b["input_voltage"]["min"] for b in filled) == 0.0
        assert max(b["input_voltage"]["max"] for b in filled) == 221.0
        tables = {r[0] for r in store.db._reader().execute("SELECT name FROM sqlite_master")}
        assert "history" not in tables and {"minutes", "hours", "battery"} <= tables
    finally:
        store.close()
    assert Store(str(path), clock=clock).history("rr1", "24h") == answer     # migrated once


def test_a_restart_keeps_sites_events_and_history(location, clock):
    path = location
    first = Store(path, clock=clock)
    first.put_state(snapshot("rr1", "attention", now=T0, name="Ruang Rapat 1"))
    first.put_event(JournalEvent(site="rr1", seq=1, ts=T0, kind="edge_started"))
    first.close()
    clock.now = T0 + 3600
    again = Store(path, clock=clock)
    try:
        entry = again.entry("rr1")
        assert entry.state.name == "Ruang Rapat 1" and entry.state.room == "attention"
        assert entry.stale    # an hour without news
        assert [e.kind for e in again.events("rr1")] == ["edge_started"]
        assert again.history("rr1", "6h")["buckets"][0]["charge_pct"]["last"] == 100.0
        other = Store(path)
        assert again.secret_key() == other.secret_key()
        other.close()
    finally:
        again.close()


def test_a_site_filter_ignores_other_sites(tmp_path):
    config = load_config(write_config(tmp_path, dashboard='sites = ["rr1"]'))
    store = Store(config.dashboard.database, sites=config.dashboard.sites)
    try:
        feed = Feed(config, store)
        feed.on_message("siaga/rr1/edge/state", to_json(snapshot("rr1")), True)
        feed.on_message("siaga/rr2/edge/state", to_json(snapshot("rr2")), True)
        assert [e.site for e in store.entries()] == ["rr1"] and store.counters()["ignored"] == 1
    finally:
        store.close()


def test_the_feed_routes_state_event_and_availability(feed, store):
    feed.on_message("siaga/rr1/edge/state", to_json(snapshot("rr1", now=T0)), True)
    feed.on_message("siaga/rr1/edge/event", to_json(JournalEvent(site="rr1", seq=1, ts=T0, kind="power_lost")), False)
    feed.on_message("siaga/rr1/edge/availability", b"offline", True)
    feed.on_message("siaga/rr1/pc/meeting-pc/status", b"{}", True)        # not for the dashboard
    store.flush()
    entry = store.entry("rr1")
    assert entry.state.room == "ready" and entry.availability == "offline"
    assert [e.kind for e in store.events("rr1")] == ["power_lost"]


def test_a_cleared_retained_state_removes_the_site(feed, store):
    feed.on_message("siaga/rr1/edge/state", to_json(snapshot("rr1", now=T0)), True)
    version = store.version
    feed.on_message("siaga/rr1/edge/state", b"", True)
    assert store.entry("rr1") is None and store.changes(version)[1] == ["rr1"]


STATE = json.loads(to_json(snapshot("rr1", now=T0)))
V01_SCHEMA = V01_HISTORY + """
CREATE TABLE events (site TEXT NOT NULL, seq INTEGER NOT NULL, ts REAL NOT NULL, kind TEXT NOT NULL,
    detail TEXT NOT NULL, PRIMARY KEY (site, seq)) WITHOUT ROWID;
CREATE TABLE latest (site TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@pytest.mark.parametrize("topic, payload, reason", [
    ("siaga/rr1/edge/state", b"not json", "not JSON"),
    ("siaga/rr1/edge/state", b"\xff\xfe\x00", "not JSON"),
    ("siaga/rr1/edge/state", json.dumps({**STATE, "room": "on_fire"}).encode(), "unknown"),
    ("siaga/rr1/edge/state", json.dumps({**STATE, "v": 2}).encode(), "version"),
    ("siaga/rr1/edge/state", json.dumps({**STATE, "ts": "now"}).encode(), "ts: expected float"),
    ("siaga/rr1/edge/state", json.dumps({**STATE, "site": "rr2"}).encode(), "differs from the topic"),
    ("siaga/rr1/edge/state", b" " * 70000, "bytes is over"),
    ("siaga/RR1/edge/state", to_json(snapshot("RR1")), "not a valid id"),
    ("siaga/rr1/edge/event", b'{"v":1,"site":"rr1","seq":"x","ts":1,"kind":"k"}', "seq: expected int"),
    ("siaga/rr1/edge/event", b'{"v":1,"site":"rr1","seq":-4,"ts":1,"kind":"k"}', "seq: must be >= 0"),
    ("siaga/rr1/edge/event", b'{"v":1,"site":"rr1","seq":9223372036854775808,"ts":1,"kind":"k"}',
     "seq: expected int"),
    ("siaga/rr1/edge/availability", b"maybe", "expected online or offline"),
    ("siaga/rr1/edge/event", b'{"v":1,"site":"rr1","seq":1,"ts":1,"kind":"power_lost",'
     b'"detail":{"charge_pct":NaN}}', "not JSON: NaN is not a JSON number"),
])
def test_bad_payloads_are_logged_and_dropped(feed, store, caplog, topic, payload, reason):
    feed.on_message("siaga/rr1/edge/state", to_json(snapshot("rr1", now=T0, name="good")), True)
    with caplog.at_level(logging.WARNING, logger="dashboard.store.feed"):
        feed.on_message(topic, payload, False)
    assert reason in caplog.text
    assert store.entry("rr1").state.name == "good" and store.entry("rr1").availability is None
    assert store.counters()["bad"] == 1


def test_a_noisy_sender_is_logged_once_a_minute(feed, caplog):
    with caplog.at_level(logging.WARNING, logger="dashboard.store.feed"):
        for _ in range(100):
            feed.on_message("siaga/rr1/edge/state", b"junk", False)
    assert len(caplog.records) == 1 and feed.store.counters()["bad"] == 100


def test_each_sites_highest_seq_is_known(store):
    for site, seq in (("rr1", 3), ("rr1", 9), ("rr2", 4)):
        store.put_event(JournalEvent(site=site, seq=seq, ts=T0, kind="pc_online"))
    store.flush()
    assert store.db.last_seqs() == {"rr1": 9, "rr2": 4}
