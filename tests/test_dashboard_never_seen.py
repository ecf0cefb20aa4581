"""A room the dashboard's config names (an explicit ``dashboard.sites`` list, or a plain id in
``dashboard.groups``) that has never reported: the overview shows it, ranks it among the
problems, counts it in its group, and IT is paged once if it stays unheard ten minutes after the
dashboard started. Before, it was simply absent: a group naming three rooms said "(2)" and IT
believed the office was covered while one room's Pi was never installed."""

from __future__ import annotations

import re
import time

import pytest

from dashboard.alerts.outbox import Alerter
from dashboard.alerts import rules
from dashboard.alerts.rules import Alert, AlertKind, Rules, Tick, react
from dashboard.alerts.texts import render
from dashboard.store.engine import open_engine
from dashboard.store.store import Store
from dashboard.web.app import create_app
from protocol.config import load_config
from tests.dashboard_support import snapshot, write_config

GROUPS = 'groups = {"bappeda" = ["bappeda-rr1", "bappeda-aula", "bappeda-rr2"], "kominfo" = ["kominfo-*"]}'


def rooms(html: str) -> list[str]:
    """The site ids of the cards or table rows, in page order."""
    return re.findall(r'id="card-([a-z0-9-]+)"', html)


def item(html: str, site: str) -> str:
    """One card's (or row's) HTML."""
    found = re.search(rf'<(article|tr) [^>]*id="card-{site}".*?</(article|tr)>', html, re.S)
    assert found, site
    return found.group(0)


def counts_row(html: str, label: str) -> str:
    """The counts' line of a group (or of every room), as text."""
    for li in re.findall(r"<li>(.*?)</li>", html, re.S):
        text = " ".join(re.sub(r"<[^>]+>", " ", li).split())
        if text.startswith(label + " ("):
            return text
    raise AssertionError(f"no counts for {label}")


def make(tmp_path, dashboard: str, reported: list) -> tuple:
    config = load_config(write_config(tmp_path, dashboard=dashboard))
    store = Store(config.dashboard.database, sites=config.dashboard.sites)
    for state in reported:
        store.put_state(state)
    return config, store, create_app(config, store).test_client()


@pytest.fixture
def office(tmp_path):
    """Bappeda names three rooms; bappeda-rr2's Pi never reported. Kominfo has a UPS fault."""
    now = time.time()
    config, store, client = make(tmp_path, GROUPS, [
        snapshot("bappeda-rr1", name="Bappeda - Ruang Rapat 1", now=now),
        snapshot("bappeda-aula", name="Bappeda - Aula", now=now),
        snapshot("kominfo-utama", "fault", name="Kominfo - Utama", now=now),
        snapshot("kominfo-rr2", "attention", name="Kominfo - RR 2", now=now,
                 reasons=["pc_offline:meeting-pc"]),
        snapshot("setda-bupati", name="Setda", now=now - 3600)])       # silent for an hour
    yield store, client
    store.close()


@pytest.mark.parametrize("lang, words", [
    ("id", ["Belum pernah melapor", "Hubungi bagian TI", "site.id", "bridge MQTT"]),
    ("en", ["Never reported", "Call IT", "site.id", "MQTT bridge"])])
def test_a_room_named_in_a_group_that_never_reported_has_a_card_ranked_with_the_problems(office, lang, words):
    _, client = office
    html = client.get(f"/?lang={lang}").get_data(as_text=True)
    # After the UPS fault, before the silent room, the room to check and the ready ones.
    assert rooms(html) == ["kominfo-utama", "bappeda-rr2", "setda-bupati", "kominfo-rr2",
                           "bappeda-aula", "bappeda-rr1"]
    card = item(html, "bappeda-rr2")
    assert all(w in card for w in words), card
    assert 'href="/sites/bappeda-rr2"' not in card       # the dashboard has no page for it
    assert ("6 ruangan" if lang == "id" else "6 rooms") in html
    assert ("4 perlu perhatian" if lang == "id" else "4 need attention") in html
    assert counts_row(html, "bappeda").startswith("bappeda (3)")
    short = "belum pernah melapor 1" if lang == "id" else "never reported 1"
    assert short in counts_row(html, "bappeda")


def test_the_group_page_the_table_the_search_and_the_state_filter_show_it(office):
    _, client = office
    html = client.get("/groups/bappeda?lang=en").get_data(as_text=True)
    assert rooms(html) == ["bappeda-rr2", "bappeda-aula", "bappeda-rr1"]
    assert "3 rooms" in html and "1 needs attention" in html
    assert counts_row(html, "bappeda").startswith("bappeda (3)")
    row = item(client.get("/?view=table&lang=en").get_data(as_text=True), "bappeda-rr2")
    assert row.startswith("<tr") and "Never reported" in row and "Call IT" in row
    assert rooms(client.get("/?q=rr2").get_data(as_text=True)) == ["bappeda-rr2", "kominfo-rr2"]
    assert rooms(client.get("/?state=never_seen").get_data(as_text=True)) == ["bappeda-rr2"]
    assert "bappeda-rr2" in rooms(client.get("/?state=problems").get_data(as_text=True))
    assert rooms(client.get("/groups/kominfo").get_data(as_text=True)) == ["kominfo-utama", "kominfo-rr2"]


def test_once_the_room_reports_its_own_card_takes_the_place_of_never_reported(office):
    store, client = office
    stand_in = client.get("/partials/overview?ids=bappeda-rr2&lang=en").get_data(as_text=True)
    assert "Never reported" in item(stand_in, "bappeda-rr2")
    store.put_state(snapshot("bappeda-rr2", name="Bappeda - Ruang Rapat 2"))
    html = client.get("/groups/bappeda?lang=en").get_data(as_text=True)
    assert rooms(html) == ["bappeda-aula", "bappeda-rr1", "bappeda-rr2"]
    assert "3 rooms" in html and "everything is fine" in html
    card = item(html, "bappeda-rr2")
    assert "Bappeda - Ruang Rapat 2" in card and 'href="/sites/bappeda-rr2"' in card
    live = client.get("/partials/overview?ids=bappeda-rr2&lang=en").get_data(as_text=True)
    assert "Never reported" not in live and "Bappeda - Ruang Rapat 2" in live


def test_an_explicit_sites_list_expects_each_of_its_rooms(tmp_path):
    config, store, client = make(tmp_path, 'sites = ["rr-a", "rr-b"]\ngroups = {"g" = ["rr-b", "rr-x"]}',
                                 [snapshot("rr-a", name="Ruang A")])
    html = client.get("/?lang=en").get_data(as_text=True)
    # rr-x is in a group but not in dashboard.sites: the dashboard drops its states, so it is
    # not expected (it would say "never reported" of a room that may well report).
    assert rooms(html) == ["rr-b", "rr-a"] and "Never reported" in item(html, "rr-b")
    assert "2 rooms" in html
    store.close()


def test_with_sites_plus_and_no_plain_ids_nothing_is_expected(tmp_path):
    """The default (``sites = "+"``) and groups of prefixes only: the page is as before."""
    config, store, client = make(tmp_path, 'groups = {"kominfo" = ["kominfo-*"]}',
                                 [snapshot("kominfo-utama", name="Kominfo")])
    html = client.get("/?lang=en").get_data(as_text=True)
    assert rooms(html) == ["kominfo-utama"] and "Never reported" not in html   # nor in the filter
    assert 'class="led led-green pat-solid" id="header-led"' in html
    store.close()


def test_the_header_dot_and_the_api(office):
    store, client = office
    for site in ("kominfo-utama", "kominfo-rr2", "setda-bupati"):
        store.put_state(snapshot(site, name=site))
    html = client.get("/").get_data(as_text=True)
    # Every room that reports is ready; one named room was never heard: not a green dot.
    assert 'class="led led-off pat-off" id="header-led"' in html
    # /api/sites lists state snapshots (CONTRACT §4): a room without one is not among them.
    sites = client.get("/api/sites").get_json()["sites"]
    assert [s["site"] for s in sites] == ["bappeda-aula", "bappeda-rr1", "kominfo-rr2",
                                          "kominfo-utama", "setda-bupati"]
    assert client.get("/sites/bappeda-rr2").status_code == 404
    store.put_state(snapshot("bappeda-rr2", name="Bappeda - Ruang Rapat 2"))
    html = client.get("/").get_data(as_text=True)
    assert 'class="led led-green pat-solid" id="header-led"' in html


# --- the alert -----------------------------------------------------------------------------

T0 = 1_764_270_000.0


def test_the_rule_pages_once_ten_minutes_after_the_start_for_each_room_still_unheard():
    memory, out = {}, []
    for now, unseen in ((T0, {"a", "b"}), (T0 + rules.NEVER_SEEN_ALERT_AFTER_S - 1, {"a", "b"}),
                        (T0 + rules.NEVER_SEEN_ALERT_AFTER_S, {"a", "b"}), (T0 + 700, {"a", "b"}),
                        (T0 + 800, {"a", "b", "c"}), (T0 + 9000, {"a", "b", "c"})):
        memory, alerts = react(memory, Tick(frozenset(unseen), T0), now, Rules())
        out += [(a.site, a.kind.value, a.at) for a in alerts]
    assert out == [("a", "site_never_seen", T0 + 600), ("b", "site_never_seen", T0 + 600),
                   ("c", "site_never_seen", T0 + 800)]
    assert react({}, Tick(), T0 + 9000, Rules()) == ({}, [])


@pytest.mark.parametrize("lang, title, lines", [
    ("id", "Siaga bappeda-rr2: Ruangan ini belum pernah melapor ke dasbor",
     ["bappeda-rr2: Ruangan ini belum pernah melapor ke dasbor.",
      'Yang perlu dilakukan TI: Periksa Pi ruangan bappeda-rr2: site.id di siaga.toml-nya harus '
      '"bappeda-rr2", Siaga harus berjalan (systemctl status siaga-edge), dan bridge MQTT-nya '
      "harus terhubung ke broker dasbor.",
      "Di halaman status: http://pi.local:8080/?q=bappeda-rr2"]),
    ("en", "Siaga bappeda-rr2: This room has never reported to the dashboard",
     ["bappeda-rr2: This room has never reported to the dashboard.",
      'What IT should do: Check the Pi of room bappeda-rr2: the site.id in its siaga.toml must be '
      '"bappeda-rr2", Siaga must run (systemctl status siaga-edge), and its MQTT bridge must '
      "reach the dashboard's broker.",
      "On the status page: http://pi.local:8080/?q=bappeda-rr2"])])
def test_the_never_reported_alert_says_what_to_check_in_both_languages(lang, title, lines):
    alert = Alert("bappeda-rr2", AlertKind.SITE_NEVER_SEEN, "bappeda-rr2", None, {}, at=T0)
    got_title, body = render(alert, lang, public_url="http://pi.local:8080", now=T0)
    assert got_title == title
    assert all(line in body.splitlines() for line in lines), body
    assert "UPS" not in body.replace("systemctl", "")     # no runtime line: nothing is known


def test_the_dashboard_pages_it_after_ten_minutes_and_not_a_room_that_reported(tmp_path):
    config = load_config(write_config(tmp_path, dashboard=(
        f'{GROUPS}\n[alerts]\nurls_file = "alerts.urls"\n')))
    (tmp_path / "alerts.urls").write_text("\n")
    db = open_engine(config.dashboard.database)
    now = [time.time()]
    store = Store(db, stale_after_s=90, clock=lambda: now[0])
    alerter = Alerter(config, db, [], entries=store.entries, clock=lambda: now[0])
    store.put_state(snapshot("bappeda-rr1", now=now[0]))
    late = int(rules.NEVER_SEEN_ALERT_AFTER_S) - 60

    def minutes(n: int) -> None:    # the watcher ticks each second; rooms report every 30 s
        for _ in range(n * 60):
            now[0] += 1
            if int(now[0]) % 30 == 0:
                store.put_state(snapshot("bappeda-rr1", now=now[0]))
                if now[0] - alerter.started >= late:      # the aula's Pi is set up in time
                    store.put_state(snapshot("bappeda-aula", now=now[0]))
            alerter.tick()
    minutes(9)
    assert db.alert_list(10) == []
    minutes(2)
    rows = db.alert_list(10)
    assert [(row[1], row[2]) for row in rows] == [("bappeda-rr2", "site_never_seen")]
    assert rows[0][4] == "Siaga bappeda-rr2: Ruangan ini belum pernah melapor ke dasbor"
    minutes(120)
    assert len(db.alert_list(10)) == 1
    store.close()


# --- in a real browser ---------------------------------------------------------------------

@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 820}],
                         ids=["phone", "desktop"])
def test_in_chromium_the_room_never_reported_passes_axe_and_turns_into_its_card_live(
        chromium, broker, tmp_path, viewport):
    """The real `siaga dashboard` on mosquitto: the cards, the table and the group page in both
    languages pass axe-core (WCAG 2 AA) and fit the screen; once the room's Pi reports, its own
    card takes the place of "never reported" without a reload."""
    from siaga.servers import free_port, stop_process
    from tests.browser_support import _screenshot, axe_violations
    from tests.dashboard_support import Client, start_dashboard
    port = free_port()
    config = write_config(tmp_path, mqtt_port=broker.port, listen=f"127.0.0.1:{port}", dashboard=GROUPS)
    url = f"http://127.0.0.1:{port}"
    proc = start_dashboard(config, url, tmp_path / "dashboard.log")
    edge = Client(broker.port)
    try:
        now = time.time()
        for state in (snapshot("bappeda-rr1", name="Bappeda - Ruang Rapat 1", now=now),
                      snapshot("bappeda-aula", name="Bappeda - Aula", now=now),
                      snapshot("kominfo-utama", "fault", name="Dinas Kominfo - Ruang Rapat Utama", now=now),
                      snapshot("setda-bupati", name="Setda - Ruang Rapat Bupati", now=now - 3600)):
            edge.publish(f"siaga/{state.site}/edge/state", state, retain=True)
        page = chromium.new_context(viewport=viewport, bypass_csp=True).new_page()
        page.goto(url + "/")
        page.locator("#card-setda-bupati.room-stale").wait_for()
        found = {}
        for n, path in enumerate(("/?lang=id", "/?lang=en", "/?lang=id&view=table",
                                  "/?lang=en&view=table", "/groups/bappeda?lang=id",
                                  "/groups/bappeda?lang=en")):
            page.goto(url + path)
            page.locator("#card-bappeda-rr2").wait_for()
            name = "".join(c if c.isalnum() else "-" for c in path)
            _screenshot(page, tmp_path / f"{n:02d}{name}.png", full_page=True)
            found.update({f"{path}: {rule}": where for rule, where in axe_violations(page).items()})
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], path
            label = "Belum pernah melapor" if "lang=id" in path else "Never reported"
            assert label in page.locator("#card-bappeda-rr2").inner_text()
            assert "harus bappeda-rr2" in page.locator("#card-bappeda-rr2").inner_text() or \
                "must be bappeda-rr2" in page.locator("#card-bappeda-rr2").inner_text()
        assert found == {}
        page.goto(url + "/groups/bappeda?lang=en")
        assert page.locator("[data-items] > [data-site]").evaluate_all(
            "items => items.map(i => i.dataset.site)") == ["bappeda-rr2", "bappeda-aula", "bappeda-rr1"]
        assert "(3)" in page.locator(".counts li").first.inner_text()
        page.evaluate("window.notReloaded = true")
        edge.publish("siaga/bappeda-rr2/edge/state",
                     snapshot("bappeda-rr2", name="Bappeda - Ruang Rapat 2"), retain=True)
        page.locator("#card-bappeda-rr2.room-ready").wait_for(timeout=5000)
        assert page.evaluate("window.notReloaded") is True
        assert "Bappeda - Ruang Rapat 2" in page.locator("#card-bappeda-rr2").inner_text()
        assert page.locator(".room-never_seen, .chip-never_seen").count() == 0
        _screenshot(page, tmp_path / "after-report.png", full_page=True)
    finally:
        edge.close()
        stop_process(proc)
