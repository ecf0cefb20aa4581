"""The dashboard's store and its MQTT decoding: staleness, de-duplication, history, bad payloads."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import pytest

from dashboard.feed import Feed
from dashboard.store import SAMPLE_EVERY_S, Store
from edge.config import load_config
from edge.messages import JournalEvent, to_json
from tests.dashboard_support import snapshot, write_config

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


@pytest.fixture
def store(tmp_path, clock):
    s = Store(str(tmp_path / "dash.sqlite3"), clock=clock)
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
    assert store.put_event(event) is True
    assert store.put_event(event) is False
    assert store.put_event(JournalEvent(site="rr2", seq=7, ts=T0, kind="power_lost")) is True
    assert [e.seq for e in store.events("rr1")] == [7]
    assert store.counters()["duplicate"] == 1


def test_a_repeated_state_is_not_a_change_but_a_new_room_is(store, clock):
    first = snapshot("rr1", now=T0, since=T0 - 60)
    store.put_state(first)
    version = store.version
    clock.now = T0 + 30
    store.put_state(replace(first, ts=T0 + 30))   # the edge repeats its state every 30 s
    assert store.changes(version) == (version, [], False)
    store.put_state(snapshot("rr1", "on_battery", now=T0 + 31, since=T0 + 31))
    assert store.changes(version)[1] == ["rr1"]


def test_going_stale_is_a_change_the_pages_see(store, clock):
    store.put_state(snapshot("rr1", now=T0))
    version = store.version
    clock.now = T0 + 120
    assert store.changes(version)[1] == ["rr1"]


def test_history_is_one_point_a_minute_and_one_at_every_room_change(store, clock):
    for i in range(31):                       # five minutes of states every 10 s
        clock.now = T0 + 10 * i
        store.put_state(snapshot("rr1", now=clock.now))
    clock.now = T0 + 305
    store.put_state(snapshot("rr1", "on_battery", now=clock.now, charge=90.0))
    buckets = store.history("rr1", T0, T0 + 400, 1.0)
    assert [b.index for b in buckets] == [0, 60, 120, 180, 240, 300, 305]
    assert buckets[-1].outage and buckets[-1].charge == 90.0 and not buckets[0].outage
    assert SAMPLE_EVERY_S == 60


def test_a_restart_keeps_sites_events_and_history(tmp_path, clock):
    path = str(tmp_path / "dash.sqlite3")
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
        assert again.history("rr1", T0 - 1, T0 + 1, 60)[0].index == 0
        assert again.secret_key() == Store(path).secret_key()
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
    entry = store.entry("rr1")
    assert entry.state.room == "ready" and entry.availability == "offline"
    assert [e.kind for e in store.events("rr1")] == ["power_lost"]


def test_a_cleared_retained_state_removes_the_site(feed, store):
    feed.on_message("siaga/rr1/edge/state", to_json(snapshot("rr1", now=T0)), True)
    version = store.version
    feed.on_message("siaga/rr1/edge/state", b"", True)
    assert store.entry("rr1") is None and store.changes(version)[1] == ["rr1"]


STATE = json.loads(to_json(snapshot("rr1", now=T0)))


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
])
def test_bad_payloads_are_logged_and_dropped(feed, store, caplog, topic, payload, reason):
    feed.on_message("siaga/rr1/edge/state", to_json(snapshot("rr1", now=T0, name="good")), True)
    with caplog.at_level(logging.WARNING, logger="dashboard.feed"):
        feed.on_message(topic, payload, False)
    assert reason in caplog.text
    assert store.entry("rr1").state.name == "good" and store.entry("rr1").availability is None
    assert store.counters()["bad"] == 1


def test_a_noisy_sender_is_logged_once_a_minute(feed, caplog):
    with caplog.at_level(logging.WARNING, logger="dashboard.feed"):
        for _ in range(100):
            feed.on_message("siaga/rr1/edge/state", b"junk", False)
    assert len(caplog.records) == 1 and feed.store.counters()["bad"] == 100
