"""A real browser (Debian's Chromium via Playwright) on the real `siaga dashboard` and mosquitto.

It opens the overview, sees a state change arrive without a reload, opens a site page with its
charts and LED, checks every room page on a phone (nothing wider than the screen, the state,
what to do and the silence button in the first screen), logs in and silences the buzzer and sees
the room's answer, and runs axe-core (WCAG 2 AA). Screenshots go to the test's temp dir, and to
docs/ with SIAGA_DOCS_SCREENSHOTS=1 (the README shows them).
"""

from __future__ import annotations

import time

import pytest
from werkzeug.security import generate_password_hash

from protocol.messages import EdgeCommand, JournalEvent, OutageView, decode
from siaga.servers import free_port, stop_process
from tests.dashboard_support import (Client, demo_fleet, outage_events, seed_history, snapshot,
                                     start_dashboard, wait_until, write_config)
from tests.browser_support import DOCS, PASSWORD, PHONE, _screenshot, axe_violations

LONG_NAME = "Badan Perencanaan Pembangunan Daerah - Ruang Rapat Besar Lantai Tiga Gedung Utama"


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
    battery = page.locator("svg[data-metric=charge] rect.battery")
    assert battery.count() >= 2                                       # yesterday's and now
    assert page.locator("svg[data-metric=charge] polygon.band").count() >= 1
    assert "meeting-pc: banner tampil di layar" in page.locator(".stages").inner_text()
    assert "Yang perlu dilakukan" in page.locator(".what-to-do").inner_text()
    _screenshot(page, tmp_path / "site.png", DOCS / "dashboard-site.png", full_page=True)
    page.goto(site_url + "/sites/bappeda-rr1?lang=en")
    _screenshot(page, tmp_path / "site-en.png", DOCS / "dashboard-site-en.png", full_page=True)


def phone_fleet(now: float) -> list:
    """One room in every state the page can show, with a long name and a long PC id."""
    started = now - 400
    rooms = [snapshot(f"room-{room.replace('_', '-')}", room, now=now, name=f"{LONG_NAME} ({room})",
                      reasons=["pc_offline:meeting-pc-with-a-very-long-identifier-0123456789"]
                      if room == "attention" else [],
                      outage=OutageView(started, started + 5, started + 200, started + 300)
                      if room in ("on_battery", "wrapup", "shutdown") else None)
             for room in ("ready", "attention", "on_battery", "wrapup", "shutdown", "fault")]
    rooms.append(snapshot("room-pc-off", "shutdown", now=now, name=LONG_NAME,
                          outage=OutageView(started, started + 5, started + 200, started + 300,
                                            pc_off=started + 340)))
    rooms.append(snapshot("room-stale", "ready", now=now - 3600, name=LONG_NAME))
    return rooms


def test_every_room_page_fits_a_phone(chromium, site_url, broker, tmp_path):
    edge = Client(broker.port)
    try:
        rooms = phone_fleet(time.time())
        for state in rooms:
            edge.publish(f"siaga/{state.site}/edge/state", state, retain=True)
        edge.publish("siaga/room-attention/edge/event", JournalEvent(
            site="room-attention", seq=1, ts=time.time(), kind="pc_ack",
            detail={"pc": "meeting-pc", "kind": "wrapup", "ok": True,
                    "detail": "saved D:/Rekaman/Rapat-Koordinasi-Anggaran-2026-11-30-10-00-00-final.mkv, 1.2 GB"}))
    finally:
        edge.close()
    page = chromium.new_context(viewport=PHONE).new_page()
    page.goto(site_url + "/")
    page.locator("#card-room-stale").wait_for()
    widths = {}
    for lang in ("id", "en"):
        for state in rooms:
            page.goto(f"{site_url}/sites/{state.site}?lang={lang}")
            widths[(state.site, lang)] = page.evaluate("document.documentElement.scrollWidth")
            above = page.locator(".what-to-do").bounding_box()
            assert above["y"] + above["height"] <= PHONE["height"], (state.site, lang)
        page.goto(f"{site_url}/?lang={lang}")
        widths[("overview", lang)] = page.evaluate("document.documentElement.scrollWidth")
    assert {k: w for k, w in widths.items() if w > PHONE["width"]} == {}
    page.goto(site_url + "/sites/room-pc-off?lang=en")
    assert "the PC is off" in page.locator(".room-big").inner_text()
    assert "PC off" in page.locator(".stages").inner_text()
    assert page.locator("#header-led").get_attribute("class") == "led led-red pat-fast_blink"
    page.goto(site_url + "/sites/room-attention?lang=id")
    _screenshot(page, tmp_path / "phone-attention.png", full_page=True)


def test_admin_silences_the_buzzer_from_a_phone_and_sees_the_answer(chromium, site_url, broker, tmp_path):
    listener = Client(broker.port, subscribe=("siaga/+/edge/command",))
    try:
        page = chromium.new_context(viewport=PHONE).new_page()
        page.goto(site_url + "/sites/bappeda-rr1")
        page.click("text=Masuk untuk memakai tindakan.")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/sites/bappeda-rr1")
        button = page.locator("form[data-command=silence] button")
        for element in (page.locator(".room-big"), page.locator(".what-to-do"), button):
            box = element.bounding_box()
            assert box["y"] + box["height"] <= PHONE["height"]          # the first screen
        _screenshot(page, tmp_path / "phone-site.png", DOCS / "dashboard-phone.png")
        button.click()
        result = page.locator(".action-result[data-kind=silence]")
        result.filter(has_text="Terkirim").wait_for()
        topic, payload = wait_until(lambda: listener.received and listener.received[0])
        command = decode(EdgeCommand, payload)
        assert topic == "siaga/bappeda-rr1/edge/command" and (command.kind, command.by) == ("silence", "admin")
        now = time.time()     # the edge journals the command and the silencing it caused
        for seq, kind, detail in ((20, "command", {"kind": "silence", "id": command.id, "by": "admin"}),
                                  (21, "silenced", {"by": "admin", "room": "on_battery"})):
            listener.publish("siaga/bappeda-rr1/edge/event",
                             JournalEvent(site="bappeda-rr1", seq=seq, ts=now, kind=kind, detail=detail))
        result.filter(has_text="Buzzer dibisukan dari halaman status.").wait_for(timeout=5000)
        assert "done" in result.get_attribute("class")
        _screenshot(page, tmp_path / "phone-after.png", full_page=True)
    finally:
        listener.close()


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 820}], ids=["phone", "desktop"])
def test_pages_pass_axe_wcag_2_aa(chromium, site_url, viewport, tmp_path):
    """axe-core (npm, `make axe`) in Chromium; the page's CSP would block the injected script.
    Each page is also kept as a screenshot in the test's directory, to look at."""
    page = chromium.new_context(viewport=viewport, bypass_csp=True).new_page()
    found = {}
    for n, path in enumerate(("/", "/?lang=en", "/sites/bappeda-rr1", "/sites/bappeda-rr1?lang=en&range=7d",
                              "/sites/bpkad-rr2", "/login", "/sites/nowhere", "LOGIN",
                              "/sites/bappeda-rr1?lang=en")):
        if path == "LOGIN":                 # then the room page with its buttons
            page.goto(site_url + "/login")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(site_url + "/")
            continue
        page.goto(site_url + path)
        page.locator("main").wait_for()
        name = "".join(c if c.isalnum() else "-" for c in path.strip("/")) or "overview"
        _screenshot(page, tmp_path / f"{n:02d}-{name}.png", full_page=True)
        found.update({f"{path}: {rule}": where for rule, where in axe_violations(page).items()})
    assert page.locator("form[data-command=silence]").count() == 1      # the last page: logged in
    assert found == {}


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 820}], ids=["phone", "desktop"])
def test_rooms_in_a_cut_or_silent_pass_axe_and_a_red_room_looks_red(chromium, site_url, broker,
                                                                     viewport, tmp_path):
    """The states the other axe test does not render: wrap-up and shutdown (pink), the PC off,
    a fault, a room gone silent; the overview (cards and table) in both languages."""
    edge = Client(broker.port)
    try:
        rooms = phone_fleet(time.time())
        for state in rooms:
            edge.publish(f"siaga/{state.site}/edge/state", state, retain=True)
    finally:
        edge.close()
    page = chromium.new_context(viewport=viewport, bypass_csp=True).new_page()
    page.goto(site_url + "/")
    page.locator("#card-room-stale.room-stale").wait_for()
    found = {}
    paths = ["/?lang=id", "/?lang=en&view=table"] + [
        f"/sites/{room}?lang={lang}" for room in ("room-wrapup", "room-shutdown", "room-pc-off",
                                                  "room-fault", "room-stale") for lang in ("id", "en")]
    for n, path in enumerate(paths):
        page.goto(site_url + path)
        page.locator("main").wait_for()
        _screenshot(page, tmp_path / f"{n:02d}-{''.join(c if c.isalnum() else '-' for c in path)}.png",
                    full_page=True)
        found.update({f"{path}: {rule}": where for rule, where in axe_violations(page).items()})
    assert found == {}
    # The PC off, the power still out: its LED is red, so is the edge of its card and row.
    red = "rgb(220, 38, 38)"
    for path, selector in (("/", "#card-room-pc-off"), ("/?view=table", "#card-room-pc-off"),
                           ("/sites/room-pc-off", ".headline")):
        page.goto(site_url + path)
        edge_colour = page.locator(selector).evaluate("e => getComputedStyle(e).borderLeftColor")
        assert edge_colour == red, path


def test_a_live_update_keeps_the_rooms_in_the_order_the_server_gives(chromium, site_url, broker):
    """Two rooms whose names begin alike: after a live update the page sorted "Aula Besar" before
    "Aula" (its key "rank|name|site" compared as one string), the server the other way round."""
    edge = Client(broker.port)
    try:
        for site, name in (("setda-aula", "Setda - Aula"), ("setda-aula-besar", "Setda - Aula Besar")):
            edge.publish(f"siaga/{site}/edge/state", snapshot(site, name=name), retain=True)
        page = chromium.new_context(viewport={"width": 1280, "height": 820}).new_page()
        page.goto(site_url + "/?q=setda")
        page.locator("#card-setda-aula-besar").wait_for()
        order = "Array.from(document.querySelectorAll('[data-items] > [data-site]')).map(e => e.id)"
        served = page.evaluate(order)
        assert served.index("card-setda-aula") < served.index("card-setda-aula-besar")
        edge.publish("siaga/setda-aula-besar/edge/state",
                     snapshot("setda-aula-besar", name="Setda - Aula Besar", charge=97.0), retain=True)
        page.locator("#card-setda-aula-besar", has_text="97 %").wait_for(timeout=5000)
        assert page.evaluate(order) == served
    finally:
        edge.close()
