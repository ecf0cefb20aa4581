"""`GET /openapi.json`: it describes every API route of the real app (so it cannot rot), and
Schemathesis fuzzes the real app (in process, over WSGI, with its MQTT feed on a real broker)
against it: never a 500, never a command sent without a login or token."""

from __future__ import annotations

import re
import threading
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from dashboard.store.feed import Feed
from dashboard.store.store import Store
from dashboard.web.app import create_app
from dashboard.web.openapi import SPEC
from protocol.config import load_config, MqttConfig
from protocol.mqtt import MqttLink
from tests import hypothesis_profiles  # noqa: F401 - bounded examples here, more in make reliability
from tests.dashboard_support import outage_events, outage_snapshot, write_config

TOKEN = "token-for-scripts-0123456789"
SITE = "bappeda-rr1"
# CONTRACT §4, §5.5 and §5.6: what other programs may call.
CONTRACT = {("GET", "/healthz"), ("GET", "/"), ("GET", "/sites/{site}"), ("GET", "/api/sites"),
            ("GET", "/api/sites/{site}"), ("GET", "/api/sites/{site}/events"),
            ("GET", "/api/sites/{site}/events.csv"), ("GET", "/metrics"),
            ("POST", "/api/sites/{site}/commands/{kind}"), ("GET", "/api/alerts"),
            ("GET", "/api/sites/{site}/history"), ("GET", "/report"), ("GET", "/api/report"),
            ("GET", "/groups/{group}"), ("GET", "/openapi.json")}
NOT_API = ("/static/", "/partials/", "/login", "/logout")


@pytest.fixture
def app(tmp_path, broker):
    (tmp_path / "token").write_text(TOKEN + "\n")
    config = load_config(write_config(tmp_path, mqtt_port=broker.port,
                                      dashboard='api_token_file = "token"'))
    store = Store(config.dashboard.database)
    now = time.time()
    store.put_state(outage_snapshot(SITE, now))
    for event in outage_events(SITE, now):
        store.put_event(event)
    feed = Feed(config, store, client_id="test-dashboard")
    feed.start()
    assert feed.link.listening.wait(5)
    yield create_app(config, store, feed)
    feed.stop()
    store.close()


@pytest.fixture
def commands_seen(broker):
    """Every edge command that reaches the broker, from any site."""
    seen: list[bytes] = []
    ready = threading.Event()
    link = MqttLink(MqttConfig(port=broker.port), "test-command-watch",
                    subscriptions=("siaga/+/edge/command",),
                    on_message=lambda t, p, r: seen.append(p), on_connected=ready.set)
    link.start()
    assert ready.wait(5)
    time.sleep(0.1)   # the SUBACK: on_connected fires when CONNACK arrives
    yield seen
    link.stop()


def operations() -> list[tuple[str, str]]:
    return sorted((method.upper(), path) for path, item in SPEC["paths"].items() for method in item)


def flask_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_openapi_json_is_served_and_is_valid_openapi_3(app):
    answer = app.test_client().get("/openapi.json")
    assert answer.status_code == 200 and answer.json["openapi"].startswith("3.")
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    fuzzed = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
    assert fuzzed == set(operations()) - {("GET", "/openapi.json")}   # Schemathesis skips itself


def test_every_api_route_of_the_app_is_described(app):
    described = set(operations())
    for rule in app.url_map.iter_rules():
        path = flask_path(rule.rule)
        if path.startswith(NOT_API):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            assert (method, path) in described, f"{method} {path} is not in dashboard/web/openapi.py"


def test_every_endpoint_of_the_contract_is_described():
    assert CONTRACT <= set(operations())


def test_a_command_with_the_token_is_sent(app, commands_seen):
    answer = app.test_client().post(f"/api/sites/{SITE}/commands/silence",
                                    headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 202
    deadline = time.monotonic() + 5
    while not commands_seen and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(commands_seen) == 1   # the watcher sees what the fuzzing below must never cause


@pytest.mark.parametrize("method, path", [op for op in operations() if op[1] != "/openapi.json"])
def test_fuzzing_gives_no_server_error_and_no_command_without_auth(app, commands_seen, method, path):
    operation = schemathesis.openapi.from_wsgi("/openapi.json", app)[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(suppress_health_check=list(HealthCheck), database=None)
    @given(case=cases, known_site=st.booleans())
    def fuzz(case, known_site):
        if known_site and "site" in (case.path_parameters or {}):
            case.path_parameters["site"] = SITE   # most random ids are unknown: 404 at once
        response = case.call()
        case.validate_response(response, checks=[not_a_server_error, content_type_conformance,
                                                 response_schema_conformance])
        if method == "POST" or path == "/api/alerts":
            assert response.status_code in (401, 403, 404, 405, 429), f"{response.status_code} without auth"

    fuzz()
    time.sleep(0.1)
    assert commands_seen == [], "a command reached the broker without a login or token"
