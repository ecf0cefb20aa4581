"""The dashboard through Flask's test client: every endpoint, hostile input, escaping, auth, CSRF."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
import time
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
from werkzeug.security import generate_password_hash

from dashboard.store.store import Store
from dashboard.texts import events as events_mod
from dashboard.web.app import create_app
from protocol.config import ConfigError, load_config
from protocol.messages import EventKind, IndicatorView, JournalEvent, OutageView
from tests.dashboard_support import (every_kind, outage_events, outage_snapshot, snapshot,
                                     write_config)
from tests.dashboard_support import PASSWORD, TOKEN, csrf_of, login

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def config(tmp_path):
    (tmp_path / "token").write_text(TOKEN + "\n")
    pwhash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    return load_config(write_config(tmp_path, dashboard=f'admin_password_hash = "{pwhash}"\n'
                                                        'api_token_file = "token"'))


@pytest.fixture
def store(config):
    s = Store(config.dashboard.database)
    now = time.time()
    s.put_state(outage_snapshot("bappeda-rr1", now))
    s.put_state(snapshot("kominfo-utama", name="Dinas Kominfo - Ruang Rapat Utama", now=now))
    for event in outage_events("bappeda-rr1", now):
        s.put_event(event)
    yield s
    s.close()


@pytest.fixture
def client(config, store):
    return create_app(config, store).test_client()


def test_overview_shows_problems_first_in_indonesian(client):
    html = client.get("/").get_data(as_text=True)
    assert html.index("Bappeda - Ruang Rapat 1") < html.index("Dinas Kominfo - Ruang Rapat Utama")
    assert "Listrik padam: pakai baterai" in html and "2 ruangan" in html
    assert 'class="led led-amber pat-blink"' in html       # the card shows the room's LED
    assert "78 %" in html and "21 mnt" in html               # charge and runtime in minutes


def card_of(html: str, site: str) -> str:
    start = html.rindex("<article", 0, html.index(f'id="card-{site}"'))
    return html[start:].split("</article>")[0]


def test_the_overview_follows_changes_after_it_was_rendered(client, store):
    assert "Siap" in card_of(client.get("/").get_data(as_text=True), "kominfo-utama")
    store.put_state(snapshot("kominfo-utama", "fault", name="Dinas Kominfo - Ruang Rapat Utama"))
    assert "UPS tidak terbaca" in card_of(client.get("/").get_data(as_text=True), "kominfo-utama")
    assert "UPS cannot be read" in card_of(client.get("/?lang=en").get_data(as_text=True), "kominfo-utama")
    store.put_availability("kominfo-utama", "offline")
    card = card_of(client.get("/?lang=id").get_data(as_text=True), "kominfo-utama")
    assert "Tidak ada kabar" in card and "perangkat edge terputus" in card and "room-stale" in card


def test_english_with_lang_and_it_sticks(client):
    html = client.get("/?lang=en").get_data(as_text=True)
    assert "Power cut: on battery" in html and '<html lang="en">' in html
    assert "Power cut: on battery" in client.get("/").get_data(as_text=True)   # the cookie
    assert "Listrik padam" in client.get("/?lang=id").get_data(as_text=True)


def test_site_page_shows_ups_pcs_outage_indicator_chart_and_events(client):
    html = client.get("/sites/bappeda-rr1").get_data(as_text=True)
    for text in ("memakai baterai, baterai terpakai", "78 %", "21 mnt", "38 %", "118,4 GB", "meeting-pc",
                 "Pemberitahuan dikirim ke PC", "meeting-pc: banner tampil di layar",
                 "Listrik PLN padam", "Listrik PLN kembali",
                 "20 mnt 10 dtk", "events.csv", "Muatan baterai (%)"):
        assert text in html, text
    assert 'class="led led-amber pat-blink big"' in html and "buzz-outage" in html
    assert html.count("<svg") == 4
    assert "7 hari" in client.get("/sites/bappeda-rr1?range=7d").get_data(as_text=True)


def test_times_are_in_the_site_time_zone(client, store):
    store.put_event(JournalEvent(site="bappeda-rr1", seq=100, ts=1764270000.0, kind="power_lost"))
    rows = list(csv.reader(io.StringIO(client.get("/api/sites/bappeda-rr1/events.csv").get_data(as_text=True))))
    assert rows[0] == ["seq", "ts", "iso_time", "kind", "detail"]
    assert ["100", "1764270000.0", "2025-11-28T02:00:00+07:00", "power_lost", "{}"] in rows


def hostile_state(where: str):
    """A state with a script tag in one text field the edge controls."""
    state = snapshot("evil-site", "attention", name="Ruang Rapat")
    if where == "name":
        return replace(state, name=HOSTILE)
    if where == "reason":
        return replace(state, reasons=[f"pc_offline:{HOSTILE}", HOSTILE])
    if where == "ups":
        return replace(state, ups=[replace(state.ups[0], name=HOSTILE, status=HOSTILE)])
    return replace(state, pcs=[replace(state.pcs[0], id=HOSTILE)])


@pytest.mark.parametrize("where", ["name", "reason", "ups", "pc"])
def test_hostile_text_from_the_broker_renders_as_text(client, store, where):
    store.put_state(hostile_state(where))
    store.put_event(JournalEvent(site="evil-site", seq=1, ts=time.time(), kind=HOSTILE,
                                 detail={HOSTILE: HOSTILE}))
    for url in ("/", "/sites/evil-site", "/partials/overview", "/partials/sites/evil-site"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/sites/evil-site").get_data(as_text=True)
    assert client.get("/api/sites/evil-site").get_json()["events"][0]["kind"] == HOSTILE


def test_api_sites_and_site(client):
    sites = client.get("/api/sites").get_json()["sites"]
    assert [s["site"] for s in sites] == ["bappeda-rr1", "kominfo-utama"]
    assert sites[0]["room"] == "on_battery" and sites[0]["stale"] is False and sites[0]["v"] == 1
    one = client.get("/api/sites/bappeda-rr1").get_json()
    assert one["state"]["outage"]["notice_sent"] is not None
    assert [e["seq"] for e in one["events"]] == [8, 7, 6, 5, 4, 3, 2, 1]


def test_events_paging(client):
    page = client.get("/api/sites/bappeda-rr1/events?limit=3").get_json()["events"]
    assert [e["seq"] for e in page] == [8, 7, 6]
    older = client.get("/api/sites/bappeda-rr1/events?limit=3&before=6").get_json()["events"]
    assert [e["seq"] for e in older] == [5, 4, 3]


@pytest.mark.parametrize("url, status", [
    ("/sites/nowhere", 404), ("/api/sites/nowhere", 404), ("/api/sites/nowhere/events", 404),
    ("/api/sites/nowhere/events.csv", 404), ("/partials/sites/nowhere", 404), ("/no/such/page", 404),
    ("/sites/%3Cscript%3Ealert(1)%3C%2Fscript%3E", 404), ("/sites/..%2F..%2Fetc%2Fpasswd", 404),
    ("/api/sites/a%00b", 404), ("/static/..%2F..%2Fedge%2Fconfig.py", 404),
    ("/sites/" + "a" * 5000, 404), ("/api/sites/BAPPEDA-RR1", 404),
    ("/api/sites/bappeda-rr1/events?limit=0", 400), ("/api/sites/bappeda-rr1/events?limit=-1", 400),
    ("/api/sites/bappeda-rr1/events?limit=abc", 400), ("/api/sites/bappeda-rr1/events?limit=501", 400),
    ("/api/sites/bappeda-rr1/events?limit=%EF%BC%91", 400), ("/api/sites/bappeda-rr1/events?before=1e5", 400),
    ("/api/sites/bappeda-rr1/events?before=99999999999999999999999", 400),
    ("/api/changes?since=-1", 400), ("/api/changes?since=x", 400), ("/api/changes?since=--1", 400),
    ("/api/sites/bappeda-rr1/events?limit=--5", 400), ("/api/changes?since=" + "9" * 5000, 400),
    ("/?lang=%3Cscript%3E", 200), ("/sites/bappeda-rr1?range=%3Cscript%3E", 200),
    ("/partials/overview?ids=" + ",".join(["x"] * 5000), 200),
    ("/?_method=POST", 200), ("/sites/bappeda-rr1?_external=&_scheme=https", 200),
    ("/login?_method=DELETE", 200),
])
def test_hostile_paths_and_query_values(client, url, status):
    answer = client.get(url)
    assert answer.status_code == status
    assert b"<script>alert" not in answer.data and b"Traceback" not in answer.data
    if url.startswith("/api/") and status >= 400:
        assert "error" in answer.get_json()


def test_not_found_page_is_in_the_readers_language(client):
    assert "Tidak ditemukan" in client.get("/sites/nowhere").get_data(as_text=True)
    assert "Not found" in client.get("/sites/nowhere?lang=en").get_data(as_text=True)


def page_words(answer) -> str:
    """The visible words of an HTML answer."""
    body = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", answer.get_data(as_text=True), flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


# Error pages said werkzeug's English name under a translated heading ("405 · Galat / Method
# Not Allowed", "400 · Permintaan tidak valid / Bad Request"): one language now, each code its own.
@pytest.mark.parametrize("code, heading, sentence", [
    (400, ("Permintaan tidak valid", "Bad request"), ("Muat ulang halaman", "Reload the page")),
    (404, ("Tidak ditemukan", "Not found"), ("ruangan ini tidak ada", "no such page or room")),
    (405, ("Cara permintaan tidak diizinkan", "Method not allowed"), ("tidak menerima", "does not take")),
    (413, ("Permintaan terlalu besar", "Request too large"), ("64 KB", "64 KB")),
    (429, ("Terlalu banyak permintaan", "Too many requests"), ("Tunggu sebentar", "Wait a while")),
    (500, ("Galat di dasbor", "Dashboard error"), ("rinciannya ada di log", "its log has the details")),
    (503, ("Sementara tidak tersedia", "Temporarily unavailable"), ("basis datanya", "its database")),
])
def test_every_error_page_is_in_one_language(config, store, code, heading, sentence):
    from flask import abort
    from werkzeug.http import HTTP_STATUS_CODES
    app = create_app(config, store)
    app.view_functions["pages.overview"] = lambda: abort(code)
    client = app.test_client()
    for lang, (title, text) in zip(("id", "en"), zip(heading, sentence)):
        words = page_words(client.get(f"/?lang={lang}"))
        assert f"{code} · {title}" in words and text in words
        assert HTTP_STATUS_CODES[code] not in words


def test_the_errors_people_meet_are_in_the_pages_language(config, store):
    """PUT /, a logout without its form's token, 70 KB to the login, PostgreSQL restarting, a bug."""
    from dashboard.store.engine import DatabaseUnavailable
    app = create_app(config, store)
    app.config["PROPAGATE_EXCEPTIONS"] = False     # as served: a bug is a 500 page
    client = app.test_client()
    assert "405 · Cara permintaan tidak diizinkan" in page_words(client.put("/?lang=id"))
    assert "400 · Permintaan tidak valid" in page_words(client.post("/logout"))
    assert "413 · Request too large" in page_words(
        client.post("/login?lang=en", data={"password": "x" * 70000}))

    def away():
        raise DatabaseUnavailable("PostgreSQL restarting")

    def bug():
        raise RuntimeError("a bug")
    app.view_functions["pages.overview"] = away
    answer = client.get("/?lang=id")
    assert answer.status_code == 503 and "503 · Sementara tidak tersedia" in page_words(answer)
    app.view_functions["pages.overview"] = bug
    answer = client.get("/?lang=id")
    assert answer.status_code == 500 and "500 · Galat di dasbor" in page_words(answer)
    assert "Internal Server Error" not in page_words(answer)


def test_csv_cannot_smuggle_a_spreadsheet_formula(client, store):
    store.put_event(JournalEvent(site="bappeda-rr1", seq=99, ts=time.time(), kind="=HYPERLINK(1)"))
    text = client.get("/api/sites/bappeda-rr1/events.csv").get_data(as_text=True)
    assert ",'=HYPERLINK(1)," in text and ",=HYPERLINK" not in text


def test_metrics(client):
    text = client.get("/metrics").get_data(as_text=True)
    assert 'siaga_ups_battery_charge_ratio{site="bappeda-rr1",ups="meeting"} 0.78' in text
    assert 'siaga_room_state{site="bappeda-rr1",state="on_battery"} 1.0' in text
    assert 'siaga_room_state{site="bappeda-rr1",state="ready"} 0.0' in text
    assert 'siaga_on_battery{site="bappeda-rr1"} 1.0' in text
    assert 'siaga_on_battery{site="kominfo-utama"} 0.0' in text
    assert 'siaga_site_stale{site="kominfo-utama"} 0.0' in text
    assert "siaga_dashboard_mqtt_connected 0.0" in text


def test_healthz_without_a_broker_is_503(client):
    answer = client.get("/healthz")
    assert answer.status_code == 503 and answer.get_json() == {"ok": False, "mqtt": "disconnected"}


def test_changes_tell_the_page_what_to_redraw(client, store):
    version = client.get("/api/changes").get_json()["version"]
    assert client.get(f"/api/changes?since={version}").get_json()["sites"] == []
    store.put_state(snapshot("kominfo-utama", "attention", name="Dinas Kominfo - Ruang Rapat Utama"))
    answer = client.get(f"/api/changes?since={version}").get_json()
    assert answer["sites"] == ["kominfo-utama"] and answer["version"] > version
    assert client.get(f"/api/changes?since={version}&site=bappeda-rr1").get_json()["sites"] == []
    assert client.get(f"/api/changes?since={version + 1000}").get_json()["reload"] is True
    card = client.get("/partials/overview?ids=kominfo-utama").get_data(as_text=True)
    assert 'id="card-kominfo-utama"' in card and "Perlu dicek" in card and "card-bappeda-rr1" not in card


def test_security_headers(client):
    headers = client.get("/").headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"


# --- actions: auth, CSRF, rate limit ----------------------------------------------------------

def test_command_without_login_or_token_is_401(client):
    answer = client.post("/api/sites/bappeda-rr1/commands/silence")
    assert answer.status_code == 401 and "Bearer" in answer.headers["WWW-Authenticate"]


def test_site_page_shows_buttons_only_after_login(client):
    assert "data-command" not in client.get("/sites/bappeda-rr1").get_data(as_text=True)
    login(client)
    html = client.get("/sites/bappeda-rr1").get_data(as_text=True)
    assert html.count("data-command=") == 4 and "Bisukan buzzer" in html


def test_login_session_needs_the_csrf_token(client):
    token = login(client)
    assert client.post("/api/sites/bappeda-rr1/commands/silence").status_code == 403
    wrong = client.post("/api/sites/bappeda-rr1/commands/silence", headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    # Auth passes; no broker in this test, so the command cannot be sent: 503, never 202.
    ok = client.post("/api/sites/bappeda-rr1/commands/silence", headers={"X-CSRF-Token": token})
    assert ok.status_code == 503 and "broker" in ok.get_json()["error"]


def test_form_post_without_javascript_goes_back_to_the_page(client):
    token = login(client)
    answer = client.post("/api/sites/bappeda-rr1/commands/silence",
                         data={"csrf_token": token, "from_page": "1"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/sites/bappeda-rr1")
    assert "Perintah tidak dapat dikirim" in client.get("/sites/bappeda-rr1").get_data(as_text=True)


def test_bearer_token(client):
    good = {"Authorization": f"Bearer {TOKEN}"}
    assert client.post("/api/sites/bappeda-rr1/commands/silence", headers=good).status_code == 503
    assert client.post("/api/sites/bappeda-rr1/commands/format_disk", headers=good).status_code == 404
    # replay is the dashboard's own (with from_seq, when it misses events), not a button's
    assert client.post("/api/sites/bappeda-rr1/commands/replay", headers=good).status_code == 404
    assert client.post("/api/sites/nowhere/commands/silence", headers=good).status_code == 404
    bad = client.post("/api/sites/bappeda-rr1/commands/silence", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_wrong_tokens_are_rate_limited(client):
    for _ in range(5):
        client.post("/api/sites/bappeda-rr1/commands/silence", headers={"Authorization": "Bearer nope"})
    answer = client.post("/api/sites/bappeda-rr1/commands/silence",
                         headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 429


def test_login_checks_csrf_password_and_rate_limit(client):
    token = csrf_of(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"password": PASSWORD}).status_code == 400
    for _ in range(5):
        answer = client.post("/login", data={"csrf_token": token, "password": "tebakan"})
        assert answer.status_code == 401 and "Kata sandi salah" in answer.get_data(as_text=True)
    blocked = client.post("/login", data={"csrf_token": token, "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert "Terlalu banyak percobaan" in blocked.get_data(as_text=True)


@pytest.mark.parametrize("target, expected", [
    ("/sites/bappeda-rr1", "/sites/bappeda-rr1"), ("//evil.example/", "/"),
    ("https://evil.example/", "/"), ("/\\evil.example", "/"),
])
def test_login_redirects_only_inside_the_site(client, target, expected):
    token = csrf_of(client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"csrf_token": token, "password": PASSWORD, "next": target})
    assert answer.status_code == 303 and answer.headers["Location"] == expected


def test_logout_needs_csrf_and_ends_the_session(client):
    token = login(client)
    assert client.post("/logout").status_code == 400
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.post("/api/sites/bappeda-rr1/commands/silence",
                       headers={"X-CSRF-Token": token}).status_code == 401


def test_no_login_form_without_a_password_hash(tmp_path):
    config = load_config(write_config(tmp_path))
    store = Store(config.dashboard.database)
    try:
        client = create_app(config, store).test_client()
        answer = client.get("/login")
        assert answer.status_code == 404 and "admin_password_hash" in answer.get_data(as_text=True)
    finally:
        store.close()


def test_a_password_that_is_not_a_hash_names_the_key(tmp_path):
    config = load_config(write_config(tmp_path, dashboard='admin_password_hash = "hunter2"'))
    with pytest.raises(ConfigError, match="siaga.toml: dashboard.admin_password_hash: not a hash"):
        create_app(config)


def test_unknown_time_zone_names_the_key(tmp_path):
    path = write_config(tmp_path)
    path.write_text(path.read_text().replace('language = "id"', 'language = "id"\ntimezone = "Mars/Base"'))
    with pytest.raises(ConfigError, match='siaga.toml: site.timezone: must be a time zone name '
                                          'such as "Asia/Jakarta", got "Mars/Base"'):
        load_config(path)     # the edge, the dashboard and the report all stop here


# --- history (CONTRACT §5.6) -------------------------------------------------------------------

def test_history_api_gives_min_max_last_per_bucket(client, store):
    now = time.time()
    store.put_state(snapshot("cut-room", now=now - 20, volts=220.0))
    store.put_state(snapshot("cut-room", "on_battery", now=now - 10))          # 0 V
    answer = client.get("/api/sites/cut-room/history?range=6h").get_json()
    assert set(answer) >= {"range", "bucket_s", "buckets"} and answer["range"] == "6h"
    filled = [b for b in answer["buckets"] if b["input_voltage"] is not None]
    assert set(filled[-1]) == {"start", "on_battery", "charge_pct", "runtime_s", "load_pct",
                               "input_voltage"}
    volts = {"min": min(b["input_voltage"]["min"] for b in filled),
             "max": max(b["input_voltage"]["max"] for b in filled)}
    assert volts == {"min": 0.0, "max": 220.0} and filled[-1]["on_battery"] is True
    assert filled[-1]["input_voltage"]["last"] == 0.0
    html = client.get("/sites/cut-room?range=6h").get_data(as_text=True)
    svg = html[html.index('data-metric="voltage"'):].split("</svg>")[0]
    assert "<desc>terendah 0,0, tertinggi 220,0, terakhir 0,0 V</desc>" in svg and "<polygon" in svg


@pytest.mark.parametrize("range_name", ["6h", "24h", "7d", "30d"])
def test_every_range_has_a_chart_and_a_tab(client, range_name):
    answer = client.get(f"/api/sites/bappeda-rr1/history?range={range_name}")
    assert answer.status_code == 200 and answer.get_json()["range"] == range_name
    html = client.get(f"/sites/bappeda-rr1?range={range_name}").get_data(as_text=True)
    assert html.count("<svg") == 4 and f'range={range_name}" aria-current="page"' in html


@pytest.mark.parametrize("query", ["?range=1y", "?range=", "?range=%3Cscript%3E", "?range=24H"])
def test_a_bad_history_range_is_400(client, query):
    answer = client.get("/api/sites/bappeda-rr1/history" + query)
    assert answer.status_code == 400 and "6h, 24h, 7d, 30d" in answer.get_json()["error"]


def test_history_of_an_unknown_site_is_404(client):
    assert client.get("/api/sites/nowhere/history").status_code == 404


# --- events as sentences -----------------------------------------------------------------------

def events_text(client, lang: str) -> tuple[str, str]:
    html = client.get(f"/sites/bappeda-rr1?lang={lang}").get_data(as_text=True)
    table = html[html.index('<ol class="events">'):].split("</ol>")[0]
    return table, re.sub(r"<[^>]+>", " ", table)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_events_table_shows_sentences_not_key_names(client, store, lang):
    journal = every_kind("bappeda-rr1", time.time(), first_seq=100)
    fields = {f for kind in EventKind for f in kind.fields}
    for part in (journal[:15], journal[15:]):           # the page shows the 20 newest
        for event in part:
            store.put_event(event)
        table, text = events_text(client, lang)
        # every event a person can act on; the system's own bookkeeping (replayed) is not theirs
        assert all((f'data-seq="{e.seq}"' in table) != events_mod.bookkeeping(e) for e in part)
        for field in fields:   # "UPS meeting:" names the sample UPS, not the key "meeting"
            assert not re.search(rf"(?<![\w-])(?<!UPS ){field}\s*[:=]", text), field
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", text)                 # no kind or key names
    assert ("Sisa daya UPS 9 mnt" if lang == "id" else "UPS runtime 9 min") in text


def test_a_failed_self_test_is_marked(client, store):
    store.put_event(JournalEvent(site="bappeda-rr1", seq=200, ts=time.time(), kind="ups_selftest",
                                 detail={"ups": "meeting", "ok": False, "detail": "ERR CMD-NOT-SUPPORTED"}))
    table, text = events_text(client, "id")
    assert table.count('class="failed"') == 1 and "gagal" in text
    assert "UPS meeting menolak uji mandiri" in text


# --- cards that say why and what to do; the PC really off --------------------------------------

def header_dot(html: str) -> str:
    return re.search(r'<span class="([^"]+)" id="header-led"', html).group(1)


def test_cards_say_why_and_what_to_do_and_the_header_shows_the_worst_room(client, store):
    html = client.get("/?lang=en").get_data(as_text=True)
    card = card_of(html, "bappeda-rr1")
    assert "UPS runtime 21 min" in card and "The meeting may go on" in card
    assert "Nothing to do." in card_of(html, "kominfo-utama")
    assert header_dot(html) == "led led-amber pat-blink"                  # bappeda is on battery
    store.put_state(snapshot("kominfo-utama", "attention", name="Dinas Kominfo",
                             reasons=["replace_battery:meeting"]))
    store.put_state(snapshot("bappeda-rr1", name="Bappeda - Ruang Rapat 1"))
    html = client.get("/?lang=id").get_data(as_text=True)
    card = card_of(html, "kominfo-utama")
    assert "UPS meeting: baterai perlu diganti" in card and "beri tahu bagian TI" in card
    assert header_dot(html) == "led led-amber pat-solid"
    assert header_dot(client.get("/sites/bappeda-rr1").get_data(as_text=True)) == "led led-amber pat-solid"


def test_once_the_pc_is_off_the_room_no_longer_says_it_is_shutting_it_down(client, store):
    now = time.time()
    outage = OutageView(started=now - 600, notice_sent=now - 595, wrapup_sent=now - 300,
                        shutdown_sent=now - 120)
    store.put_state(snapshot("rr9", "shutdown", now=now, outage=outage))
    html = client.get("/sites/rr9?lang=en").get_data(as_text=True)
    assert "Shutting the PC down" in html and "PC off</span>" in html and "not yet" in html
    store.put_state(snapshot("rr9", "shutdown", now=now + 1, outage=replace(outage, pc_off=now - 80)))
    html = client.get("/sites/rr9?lang=en").get_data(as_text=True)
    assert "Shutting the PC down" not in html and "Power cut: the PC is off" in html
    stages = html[html.index('<ol class="stages">'):].split("</ol>")[0]
    assert "PC off" in stages and "not yet" not in stages and "(+8 min 40 s)" in stages
    assert "The meeting PC is off safely" in card_of(client.get("/?lang=en").get_data(as_text=True), "rr9")


def lost_ups_in_wrapup(site: str, now: float):
    """What the real edge publishes when its only UPS stops answering mid-outage (measured with
    upsd and dummy-ups, the driver stopped while on battery: tests/test_edge_outage.py): the
    outage stays open in wrap-up, ``power`` says nothing and not on battery."""
    from protocol.messages import Power, UpsView
    state = snapshot(site, "wrapup", now=now, name="Setda - Ruang Rapat 3", since=now - 400,
                     reasons=["ups_unreachable:meeting"],
                     outage=OutageView(now - 400, now - 395, now - 200))
    return replace(state, power=Power(), ups=[UpsView(name="meeting", reachable=False, selftest=False)])


def power_fact(card: str) -> str:
    """What a card (or a table row) says under "Power"."""
    found = re.search(r"<dt>(?:Listrik|Power)</dt><dd>([^<]*)</dd>", card)
    return found.group(1) if found else re.findall(r'<td class="opt">([^<]*)</td>', card)[0]


@pytest.mark.parametrize("lang, unknown, mains", [("id", "tidak terbaca", "PLN"),
                                                  ("en", "cannot be read", "mains")])
def test_a_room_whose_ups_cannot_be_read_is_not_said_to_be_on_mains(client, store, lang, unknown, mains):
    now = time.time()
    store.put_state(lost_ups_in_wrapup("setda-rr3", now))
    store.put_state(snapshot("kominfo-rr2", "fault", name="Dinas Kominfo - Ruang Rapat 2", now=now,
                             reasons=["ups_unreachable:meeting"]))      # its UPS unreachable
    for view in ("", "&view=table"):
        html = client.get(f"/?lang={lang}{view}").get_data(as_text=True)
        row = (lambda site: html[html.index(f'id="card-{site}"'):].split("</tr>")[0]) if view else \
            (lambda site: card_of(html, site))
        assert power_fact(row("setda-rr3")) == unknown, view       # wrap-up, the UPS lost: not mains
        assert power_fact(row("kominfo-rr2")) == unknown, view     # no UPS answers
        assert power_fact(row("kominfo-utama")) == mains, view     # read, on mains
        assert power_fact(row("bappeda-rr1")) == ("baterai" if lang == "id" else "battery"), view


def test_a_card_says_meeting_now_once_the_booked_meeting_has_begun(client, store):
    """The cards are kept between requests until their room changes; a room whose state does
    not change (its PC off, say) still has its meeting begin."""
    from protocol.messages import NextMeeting
    start = time.time() + 1.0
    store.put_state(replace(snapshot("setda-rr4", name="Setda - Ruang Rapat 4", pcs_online=False),
                            next_meeting=NextMeeting("Rapat anggaran", start, start + 3600, False,
                                                     ["pc_offline:meeting-pc"])))
    before = {lang: card_of(client.get(f"/?lang={lang}").get_data(as_text=True), "setda-rr4")
              for lang in ("id", "en")}
    assert "Rapat berikutnya:" in before["id"] and "Next meeting:" in before["en"]
    while time.time() <= start:
        time.sleep(0.05)
    after = {lang: card_of(client.get(f"/?lang={lang}").get_data(as_text=True), "setda-rr4")
             for lang in ("id", "en")}
    assert "Rapat berlangsung:" in after["id"] and "Meeting now:" in after["en"]
    assert "Meeting now" in client.get("/sites/setda-rr4?lang=en").get_data(as_text=True)  # as the room page


@pytest.mark.parametrize("lang, runtime, note", [
    ("id", "Sisa daya UPS 21 mnt", "Laporan terakhir ruangan, "),
    ("en", "UPS runtime 21 min", "Last report from the room, ")])
def test_a_silent_rooms_page_does_not_show_its_last_report_as_now(client, store, lang, runtime, note):
    """A Pi silent for ten minutes mid-outage: its runtime then is no runtime now (its card
    already leaves it out), and its LED, UPS and PCs are what it last said, at that time."""
    def panels(html: str) -> dict[str, str]:
        return {title: html[html.index(f'id="{title}-title"'):].split("</section>")[0]
                for title in ("indicator", "outage", "ups", "pcs")}
    fresh = client.get(f"/sites/bappeda-rr1?lang={lang}").get_data(as_text=True)
    assert runtime in fresh and note not in fresh
    silent_at = time.time() - 600
    store.put_state(outage_snapshot("bappeda-rr1", silent_at))
    html = client.get(f"/sites/bappeda-rr1?lang={lang}").get_data(as_text=True)
    headline = html[html.index('class="panel headline'):].split("</section>")[0]
    assert "room-stale" in headline and runtime not in headline
    said = dt.datetime.fromtimestamp(silent_at, ZoneInfo("Asia/Jakarta")).strftime("%H:%M")
    for title, panel in panels(html).items():
        assert note in panel and said in panel.split(note)[1].split("<")[0], title


def test_the_outcome_of_a_command_follows_the_rooms_journal(client, store):
    url = "/api/sites/bappeda-rr1/commands/ups_selftest/c0ffee"
    assert client.get(url).get_json() == {"id": "c0ffee", "state": "sent",
                                           "text": "Terkirim; menunggu jawaban ruangan\u2026"}
    now = time.time()
    store.put_event(JournalEvent(site="bappeda-rr1", seq=50, ts=now, kind="command",
                                 detail={"kind": "ups_selftest", "id": "c0ffee", "by": "admin"}))
    assert client.get(url + "?lang=en").get_json()["state"] == "received"
    store.put_event(JournalEvent(site="bappeda-rr1", seq=51, ts=now, kind="ups_selftest",
                                 detail={"ups": "meeting", "ok": True, "detail": "OK"}))
    assert client.get(url + "?lang=en").get_json()["text"] == "UPS meeting accepted the self-test."
    for bad in ("/api/sites/bappeda-rr1/commands/format_disk/c0ffee",
                "/api/sites/bappeda-rr1/commands/silence/NOT-HEX", "/api/sites/nowhere/commands/silence/ab"):
        assert client.get(bad).status_code == 404


# --- issue 16: the page says what happened, in words people read --------------------------------

def _stages(client, lang: str) -> str:
    html = client.get(f"/sites/bappeda-rr1?lang={lang}").get_data(as_text=True)
    return html[html.index('<ol class="stages">'):].split("</ol>")[0]


@pytest.mark.parametrize("lang, said, hoped", [
    ("id", "meeting-pc: banner dimatikan di PC itu; hanya dicatat di log", "Pemimpin rapat diberi tahu"),
    ("en", "meeting-pc: the banner is turned off on that PC; noted in its log", "Host notified"),
])
def test_the_outage_says_what_the_pc_answered_not_that_the_host_was_told(client, store, lang, said,
                                                                          hoped):
    now = time.time()
    store.put_event(JournalEvent(site="bappeda-rr1", seq=50, ts=now - 230, kind="pc_ack",
                                 detail={"pc": "meeting-pc", "id": "6f1d", "kind": "notice", "ok": True,
                                         "detail": "banner off: logged only"}))
    stages = _stages(client, lang)
    assert said in stages and "answer-unseen" in stages and hoped not in stages


def test_silence_is_offered_only_while_the_buzzer_sounds(client, store):
    login(client)
    page = lambda: client.get("/sites/bappeda-rr1").get_data(as_text=True)  # noqa: E731
    assert 'data-command="silence"' in page()                         # the outage alarm sounds
    now = time.time()
    store.put_state(dataclasses.replace(outage_snapshot("bappeda-rr1", now), ts=now + 1,
                                        indicator=IndicatorView("amber", "blink", "off", True)))
    assert "Bisukan buzzer" not in page()                              # already silenced
    ready = client.get("/sites/kominfo-utama").get_data(as_text=True)
    assert "Bisukan buzzer" not in ready and "Uji lampu dan buzzer" in ready   # nothing sounds


@pytest.mark.parametrize("lang, words", [("id", "memakai baterai, baterai terpakai"),
                                         ("en", "on battery, discharging")])
def test_ups_status_is_in_words_and_bookkeeping_is_not_on_the_timeline(client, store, lang, words):
    now = time.time()
    store.put_event(JournalEvent(site="bappeda-rr1", seq=60, ts=now - 1, kind="command",
                                 detail={"kind": "replay", "id": "r1", "by": "dashboard"}))
    store.put_event(JournalEvent(site="bappeda-rr1", seq=61, ts=now, kind="replayed",
                                 detail={"from_seq": 1, "to_seq": 2, "by": "dashboard"}))
    html = client.get(f"/sites/bappeda-rr1?lang={lang}").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", html)
    assert words in text and "OB DISCHRG" not in text
    _, timeline = events_text(client, lang)
    assert not re.search(r"dikirim ulang|sent again|kirim ulang|send events again", timeline)


def strict_json(body: bytes):
    """JSON as a browser reads it: NaN and Infinity are errors."""
    import json

    def refuse(name: str):
        raise ValueError(f"{name} in the answer")
    return json.loads(body, parse_constant=refuse)


def test_absurd_numbers_in_an_event_read_as_unknown_and_the_api_stays_json(client, store):
    """A NaN stored before decoding refused it (the page said "muatan nan %", the API answered
    bare NaN) and a valid but absurd 1e308 (hundreds of digits): a dash, and JSON a browser reads."""
    now = time.time()
    store.put_event(JournalEvent(site="bappeda-rr1", seq=100, ts=now, kind="power_lost",
                                 detail={"ups": "meeting", "charge_pct": float("nan"), "runtime_s": 600}))
    store.put_event(JournalEvent(site="bappeda-rr1", seq=101, ts=now + 1, kind="notice_sent",
                                 detail={"pcs": ["meeting-pc"], "charge_pct": 1e308, "runtime_s": 1e300}))
    for url in ("/api/sites/bappeda-rr1", "/api/sites/bappeda-rr1/events"):
        answer = client.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200
        events = strict_json(answer.get_data())["events"]
        assert {e["seq"]: e["detail"].get("charge_pct") for e in events if e["seq"] >= 100} == \
            {100: None, 101: 1e308}
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get("/sites/bappeda-rr1?lang=id")
                                      .get_data(as_text=True)))
    assert "Listrik PLN padam. Sisa daya UPS 10 mnt." in text
    assert "Pemberitahuan dikirim ke meeting-pc. Sisa daya UPS –, muatan –." in text
    assert "nan %" not in text and "000.000.000" not in text
