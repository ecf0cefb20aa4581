"""A real browser (Debian's Chromium via Playwright) on the real `siaga dashboard` and mosquitto.

It opens the overview, sees a state change arrive without a reload, opens a site page with its
charts and LED, logs in and silences the buzzer. Screenshots go to the test's temp dir and to
docs/ (the README shows them).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from edge.messages import EdgeCommand, decode
from edge.servers import free_port, stop_process
from tests.dashboard_support import (Client, demo_fleet, outage_events, seed_history, snapshot,
                                     start_dashboard, wait_until, write_config)

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
DOCS = Path(__file__).resolve().parent.parent / "docs"
PASSWORD = "rahasia-rapat-1"


@pytest.fixture(scope="module")
def chromium():
    """A Chromium browser; a missing /usr/bin/chromium fails the test (make test installs it)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: install the Debian package chromium (make test does)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site_url(tmp_path, broker):
    """The URL of a running `siaga dashboard` fed by an office of five rooms, one in a power cut."""
    port = free_port()
    pwhash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    config = write_config(tmp_path, mqtt_port=broker.port, listen=f"127.0.0.1:{port}",
                          dashboard=f'admin_password_hash = "{pwhash}"')
    now = time.time()
    fleet = demo_fleet(now)
    seed_history(str(tmp_path / "dashboard.sqlite3"), fleet[0], now)
    url = f"http://127.0.0.1:{port}"
    proc = start_dashboard(config, url, tmp_path / "dashboard.log")
    edge = Client(broker.port)
    for state in fleet:
        edge.publish(f"siaga/{state.site}/edge/state", state, retain=True)
    for event in outage_events("bappeda-rr1", now):
        edge.publish("siaga/bappeda-rr1/edge/event", event)
    yield url
    edge.close()
    stop_process(proc)


def test_overview_updates_live_and_site_page_shows_led_and_charts(chromium, site_url, broker, tmp_path):
    import urllib.request
    wait_until(lambda: urllib.request.urlopen(site_url + "/healthz", timeout=2).status == 200, timeout=10)
    page = chromium.new_context(viewport={"width": 1280, "height": 820}).new_page()
    page.goto(site_url + "/")
    page.locator(".card").nth(4).wait_for()       # all five rooms have arrived
    assert page.locator(".card").first.get_attribute("id") == "card-bappeda-rr1"   # problems first
    _screenshot(page, tmp_path / "overview.png", DOCS / "dashboard-overview.png")

    page.evaluate("window.notReloaded = true")
    card = page.locator("#card-kominfo-utama")
    assert card.locator(".room-label").inner_text() == "Siap"
    edge = Client(broker.port)
    try:
        started = time.monotonic()
        edge.publish("siaga/kominfo-utama/edge/state",
                     snapshot("kominfo-utama", "on_battery", name="Dinas Kominfo - Ruang Rapat Utama",
                              charge=97.0, runtime_s=1700), retain=True)
        # The page polls once a second; a locator wait, as the page's CSP forbids eval'd scripts.
        card.locator(".room-label", has_text="padam").wait_for(timeout=4000)
        print(f"state change on the page {time.monotonic() - started:.2f} s after publishing")
    finally:
        edge.close()
    assert page.evaluate("window.notReloaded") is True
    assert "led-amber pat-blink" in page.locator("#card-kominfo-utama .led").get_attribute("class")
    assert page.locator(".card").nth(1).get_attribute("id") == "card-kominfo-utama"   # moved up
    _screenshot(page, tmp_path / "overview-after-change.png")

    page.click("#card-bappeda-rr1 a")
    page.wait_for_selector("svg[data-metric=charge] polyline")
    led = page.locator(".device-led .led").get_attribute("class")
    assert "led-amber" in led and "pat-blink" in led and "big" in led
    assert page.locator(".buzzer").get_attribute("class").startswith("buzzer buzz-outage")
    assert page.locator("svg[data-metric=charge] rect.band").count() == 2     # yesterday's and now
    assert "Pemimpin rapat diberi tahu" in page.locator(".stages").inner_text()
    _screenshot(page, tmp_path / "site.png", DOCS / "dashboard-site.png", full_page=True)


def test_admin_logs_in_and_silences_the_buzzer(chromium, site_url, broker, tmp_path):
    listener = Client(broker.port, subscribe=("siaga/+/edge/command",))
    try:
        page = chromium.new_context(viewport={"width": 390, "height": 844}).new_page()   # a phone
        page.goto(site_url + "/sites/bappeda-rr1")
        page.click("text=Masuk untuk memakai tindakan.")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/sites/bappeda-rr1")
        page.click("form[data-command=silence] button")
        page.locator("#action-result", has_text="Perintah").wait_for()
        assert page.locator("#action-result").inner_text() == "Perintah terkirim."
        topic, payload = wait_until(lambda: listener.received and listener.received[0])
        assert topic == "siaga/bappeda-rr1/edge/command"
        assert (decode(EdgeCommand, payload).kind, decode(EdgeCommand, payload).by) == ("silence", "admin")
        _screenshot(page, tmp_path / "phone-site.png", full_page=True)
    finally:
        listener.close()


def _screenshot(page, path: Path, copy_to: Path | None = None, full_page: bool = False) -> None:
    """A still picture (blinking stopped on "on"), kept with the test and optionally in docs/."""
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    # Refresh the README's pictures only when asked: a test run must not dirty the checkout.
    if copy_to is not None and os.environ.get("SIAGA_DOCS_SCREENSHOTS") == "1":
        copy_to.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, copy_to)
