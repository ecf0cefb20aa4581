"""The dashboard on a real mosquitto: publish as the edge does; the API and the pages follow."""

from __future__ import annotations

import time

import pytest

from dashboard.store.feed import Feed
from dashboard.store.store import Store
from dashboard.web.app import create_app
from protocol.config import load_config
from protocol.messages import EdgeCommand, JournalEvent, decode
from tests.dashboard_support import Client, outage_snapshot, snapshot, wait_until, write_config

TOKEN = "a-token-for-scripts-42"


@pytest.fixture
def running(tmp_path, broker):
    """(test client, edge-like MQTT client, feed) of a dashboard connected to the broker."""
    (tmp_path / "token").write_text(TOKEN)
    config = load_config(write_config(tmp_path, mqtt_port=broker.port,
                                      dashboard='api_token_file = "token"'))
    store = Store(config.dashboard.database)
    feed = Feed(config, store)
    app = create_app(config, store, feed)
    feed.start()
    edge = Client(broker.port, subscribe=("siaga/+/edge/command",))
    assert feed.link.listening.wait(5)
    yield app.test_client(), edge, feed
    edge.close()
    feed.stop()
    store.close()


def test_states_and_events_reach_the_api_and_the_pages(running):
    client, edge, _ = running
    now = time.time()
    edge.publish("siaga/rr1/edge/availability", "online", retain=True)
    edge.publish("siaga/rr1/edge/state", snapshot("rr1", name="Ruang Rapat 1", now=now), retain=True)
    wait_until(lambda: client.get("/api/sites").get_json()["sites"])
    assert "Siap" in client.get("/").get_data(as_text=True)

    edge.publish("siaga/rr1/edge/state", outage_snapshot("rr1", time.time(), name="Ruang Rapat 1"), retain=True)
    edge.publish("siaga/rr1/edge/event", JournalEvent(site="rr1", seq=1, ts=now, kind="power_lost"))
    edge.publish("siaga/rr1/edge/event", JournalEvent(site="rr1", seq=1, ts=now, kind="power_lost"))
    edge.publish("siaga/rr1/edge/event", JournalEvent(site="rr1", seq=2, ts=now + 5, kind="notice_sent",
                                                      detail={"pcs": ["meeting-pc"], "runtime_s": 1260}))
    wait_until(lambda: len(client.get("/api/sites/rr1").get_json()["events"]) == 2)
    one = client.get("/api/sites/rr1").get_json()
    assert one["state"]["room"] == "on_battery" and one["state"]["stale"] is False
    assert [e["kind"] for e in one["events"]] == ["notice_sent", "power_lost"]
    html = client.get("/sites/rr1").get_data(as_text=True)
    assert "Listrik padam: pakai baterai" in html and "Pemberitahuan dikirim ke meeting-pc. Sisa daya UPS 21 mnt." in html
    assert 'siaga_on_battery{site="rr1"} 1.0' in client.get("/metrics").get_data(as_text=True)


def test_an_edge_that_dies_goes_stale(running):
    client, edge, _ = running
    edge.publish("siaga/rr1/edge/state", snapshot("rr1"), retain=True)
    wait_until(lambda: client.get("/api/sites").get_json()["sites"])
    edge.publish("siaga/rr1/edge/availability", "offline", retain=True)   # its last will
    wait_until(lambda: client.get("/api/sites/rr1").get_json()["state"]["stale"])
    assert "Tidak ada kabar" in client.get("/").get_data(as_text=True)


def test_bad_payloads_do_not_stop_the_feed(running):
    client, edge, _ = running
    edge.publish("siaga/rr1/edge/state", b"{broken")
    edge.publish("siaga/rr1/edge/event", b'{"v":1}')
    edge.publish("siaga/rr1/edge/availability", b"\xff")
    edge.publish("siaga/rr1/edge/state", snapshot("rr1", name="still here"), retain=True)
    wait_until(lambda: client.get("/api/sites").get_json()["sites"])
    assert client.get("/api/sites").get_json()["sites"][0]["name"] == "still here"
    assert 'siaga_dashboard_messages_total{kind="bad"} 3.0' in client.get("/metrics").get_data(as_text=True)


def test_a_command_with_the_token_reaches_the_edge(running):
    client, edge, _ = running
    edge.publish("siaga/rr1/edge/state", snapshot("rr1"), retain=True)
    wait_until(lambda: client.get("/api/sites").get_json()["sites"])
    answer = client.post("/api/sites/rr1/commands/test_indicator",
                         headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 202
    topic, payload = wait_until(lambda: edge.received and edge.received[0])
    command = decode(EdgeCommand, payload)
    assert topic == "siaga/rr1/edge/command"
    assert (command.kind, command.by, command.id) == ("test_indicator", "api", answer.get_json()["id"])


def test_healthz_follows_the_broker(running, broker):
    client, _, feed = running
    assert client.get("/healthz").get_json() == {"ok": True, "mqtt": "connected"}
    broker.stop()
    wait_until(lambda: client.get("/healthz").status_code == 503)
    assert client.get("/api/changes").get_json()["mqtt"] == "disconnected"
