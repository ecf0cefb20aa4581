"""The overview at fleet size in a real browser: 2,000 rooms through mosquitto into the real
`siaga dashboard`, with groups. Filtered to one state and one group it shows exactly those rooms
(from the address, and from the form at once with JavaScript); the table view fits 1280 and
390 px in both languages; a live update still arrives with a filter on; axe-core finds nothing.
Screenshots of the table view go to docs/ with SIAGA_DOCS_SCREENSHOTS=1.
"""

from __future__ import annotations

import json
import time
import urllib.request

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from protocol.messages import to_json
from siaga.servers import Mosquitto, ServerMissing, free_port, stop_process
from tests.dashboard_support import Client, snapshot, start_dashboard, wait_until, write_config
from tests.browser_support import DOCS, PHONE, _screenshot, axe_violations

AGENCIES = ("bappeda", "kominfo", "setda", "bpkad", "disdik", "dinkes", "dishub", "bapenda")
GROUPS = "groups = {" + ", ".join(f'"{a}" = ["{a}-*"]' for a in AGENCIES) + "}"
ROOMS = 2000
DESKTOP = {"width": 1280, "height": 820}


def room_of(i: int) -> str:
    """The state of room ``i``: mostly ready, a few of every problem."""
    return {0: "on_battery", 1: "fault", 2: "attention"}.get(i % 17, "ready") if i % 5 else \
        ("on_battery" if i % 3 == 0 else "ready")


def fleet() -> dict[str, str]:
    """site id -> room state, 250 rooms per agency."""
    return {f"{AGENCIES[i % len(AGENCIES)]}-r{i:04d}": room_of(i) for i in range(ROOMS)}


@pytest.fixture(scope="module")
def broker_module(tmp_path_factory):
    """A real mosquitto for the whole module (the 2,000 rooms are published once)."""
    try:
        # siaga.conf's queue: mosquitto's default of 1,000 per client drops part of 2,000 states
        broker = Mosquitto(tmp_path_factory.mktemp("mosquitto"), extra="max_queued_messages 10000").start()
    except ServerMissing as exc:
        pytest.fail(f"{exc} (make test installs it)")
    yield broker
    broker.stop()


@pytest.fixture(scope="module")
def fleet_url(tmp_path_factory, broker_module):
    """A running `siaga dashboard` holding 2,000 rooms in eight groups."""
    tmp = tmp_path_factory.mktemp("fleet")
    port = free_port()
    config = write_config(tmp, mqtt_port=broker_module.port, listen=f"127.0.0.1:{port}",
                          dashboard=GROUPS)
    url = f"http://127.0.0.1:{port}"
    proc = start_dashboard(config, url, tmp / "dashboard.log")
    try:
        publish_fleet(broker_module.port)
        # A second or two on a quiet machine; CI runs eight workers on two cores (once over 20 s).
        shown = lambda: len(json.load(urllib.request.urlopen(url + "/api/sites", timeout=10))["sites"])  # noqa: E731
        wait_until(lambda: shown() == ROOMS, timeout=60, step=0.5, what=f"all {ROOMS} rooms on the dashboard",
                   context=lambda: f"{shown()} shown; dashboard log: {(tmp / 'dashboard.log').read_text()[-1500:]}")
        yield url
    finally:
        stop_process(proc)


def publish_fleet(port: int) -> None:
    """Every room's state, retained, as 2,000 edges would publish it."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="fleet-rooms")
    client.max_inflight_messages_set(200)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    now = time.time()
    infos = [client.publish(f"siaga/{site}/edge/state", to_json(snapshot(
        site, room, now=now, name=f"{site.split('-')[0].upper()} Ruang Rapat {site[-4:]}")), qos=1, retain=True)
        for site, room in fleet().items()]
    for info in infos:
        info.wait_for_publish(10)
    client.loop_stop()
    client.disconnect()


def shown(page) -> set[str]:
    return set(page.eval_on_selector_all("[data-items] > [data-site]", "els => els.map(e => e.dataset.site)"))


def test_filtered_overview_shows_exactly_one_state_of_one_group(chromium, fleet_url):
    rooms = fleet()
    want = {s for s, r in rooms.items() if r == "on_battery" and s.startswith("kominfo-")}
    assert 0 < len(want) < 250
    page = chromium.new_context(viewport=DESKTOP).new_page()
    page.goto(fleet_url + "/?state=on_battery&group=kominfo")
    assert shown(page) == want
    page.goto(fleet_url + "/groups/kominfo?state=on_battery&view=table")
    assert shown(page) == want and page.locator("table.rooms tbody tr").count() == len(want)
    # The form answers at once with JavaScript, and the address follows.
    page.goto(fleet_url + "/?view=table")
    assert page.locator("table.rooms tbody tr").count() == len(rooms) == 2000   # every room (§4)
    assert page.locator("table.rooms tbody tr").first.get_attribute("class") == "room-on_battery"
    page.select_option("#group", "setda")
    page.select_option("#state", "fault")
    fault = {s for s, r in rooms.items() if r == "fault" and s.startswith("setda-")}
    wait_until(lambda: shown(page) == fault, timeout=5)
    assert "state=fault" in page.url and "group=setda" in page.url
    page.fill("#q", sorted(fault)[0])
    wait_until(lambda: shown(page) == {sorted(fault)[0]}, timeout=5)


def test_a_live_update_arrives_with_a_filter_on(chromium, fleet_url, broker_module):
    rooms = fleet()
    page = chromium.new_context(viewport=DESKTOP).new_page()
    page.goto(fleet_url + "/groups/bpkad?state=on_battery&view=table")
    before = shown(page)
    page.evaluate("window.notReloaded = true")
    calm = next(s for s, r in rooms.items() if r == "ready" and s.startswith("bpkad-"))
    gone = sorted(before)[0]
    edge = Client(broker_module.port)
    try:
        edge.publish(f"siaga/{calm}/edge/state", snapshot(calm, "on_battery", name="BPKAD baru padam"),
                     retain=True)
        edge.publish(f"siaga/{gone}/edge/state", snapshot(gone, "ready", name="BPKAD pulih"), retain=True)
        page.locator(f"#card-{calm}").wait_for(timeout=5000)
        page.locator(f"#card-{gone}").wait_for(state="detached", timeout=5000)
    finally:
        edge.publish(f"siaga/{calm}/edge/state", snapshot(calm, rooms[calm]), retain=True)
        edge.publish(f"siaga/{gone}/edge/state", snapshot(gone, rooms[gone]), retain=True)
        edge.close()
    assert shown(page) <= before | {calm} and calm in shown(page)
    assert page.evaluate("window.notReloaded") is True


# Six pages of 2,000 rooms and two axe scans: ~55 s alone, up to 120 s beside another test on a
# busy 2-core machine (make test runs two processes), so its hang guard is longer than the rest's.
@pytest.mark.timeout(300)
@pytest.mark.parametrize("viewport, name", [(DESKTOP, "dashboard-fleet-table.png"),
                                            (PHONE, "dashboard-fleet-phone.png")], ids=["desktop", "phone"])
def test_table_view_fits_the_screen_and_passes_axe(chromium, fleet_url, tmp_path, viewport, name):
    page = chromium.new_context(viewport=viewport, bypass_csp=True).new_page()
    widths, found = {}, {}
    for lang in ("id", "en"):
        for path in (f"/?view=table&lang={lang}", f"/?lang={lang}", f"/groups/dinkes?view=table&lang={lang}"):
            page.goto(fleet_url + path)
            widths[path] = page.evaluate("document.documentElement.scrollWidth")
    assert {p: w for p, w in widths.items() if w > viewport["width"]} == {}
    for path in ("/groups/dinkes?view=table&state=problems", "/groups/dinkes?state=problems&lang=en"):
        page.goto(fleet_url + path)
        found.update({f"{path}: {rule}": where for rule, where in axe_violations(page).items()})
    assert found == {}
    page.goto(fleet_url + "/?view=table&lang=id")
    if viewport is PHONE:   # on a phone the counts fill the first screen: show the rows too
        page.evaluate("document.querySelector('.counts li:nth-child(7)').scrollIntoView()")
    _screenshot(page, tmp_path / name, DOCS / name)
