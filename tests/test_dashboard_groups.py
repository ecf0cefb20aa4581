"""Groups of sites (CONTRACT §5.6) and the overview at fleet size, through Flask's test client:
config errors, the group page, 404, search, filters, counts, the table view, the page limit."""

from __future__ import annotations

import random
import re
import time
from dataclasses import replace

import pytest

from dashboard.report.data import choose_sites
from dashboard.store.postgres import Heard
from dashboard.store.store import Store
from dashboard.web.app import create_app
from dashboard.web import present
from dashboard.web.overview import PAGE_ROOMS, Groups
from protocol.config import ConfigError, load_config
from protocol.looks import look
from protocol.messages import OutageView, to_json
from tests.dashboard_support import outage_snapshot, snapshot, write_config

GROUPS = 'groups = {"bappeda" = ["bappeda-rr1", "bappeda-aula"], "kominfo" = ["kominfo-*"]}'


@pytest.fixture
def config(tmp_path):
    return load_config(write_config(tmp_path, dashboard=GROUPS))


@pytest.fixture
def store(config):
    s = Store(config.dashboard.database)
    now = time.time()
    s.put_state(outage_snapshot("bappeda-rr1", now))
    s.put_state(snapshot("bappeda-aula", name="Bappeda - Aula", now=now))
    s.put_state(snapshot("kominfo-utama", name="Dinas Kominfo - Ruang Rapat Utama", now=now))
    s.put_state(snapshot("kominfo-rr2", "fault", name="Dinas Kominfo - Ruang Rapat 2", now=now))
    s.put_state(snapshot("setda-bupati", name="Setda - Ruang Rapat Bupati", now=now))
    yield s
    s.close()


@pytest.fixture
def client(config, store):
    return create_app(config, store).test_client()


def rooms(html: str) -> list[str]:
    """The site ids of the cards or table rows, in page order."""
    return re.findall(r'id="card-([a-z0-9-]+)"', html)


def get(client, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, url
    return answer.get_data(as_text=True)


@pytest.mark.parametrize("groups, problem", [
    ('groups = {"Bappeda" = ["bappeda-rr1"]}', "dashboard.groups.Bappeda: a group name must match"),
    ('groups = {"bappeda" = []}', "dashboard.groups.bappeda: must be a non-empty list"),
    ('groups = {"bappeda" = ["Bappeda RR1"]}', 'dashboard.groups.bappeda: "Bappeda RR1" is neither'),
    ('groups = {"kominfo" = ["kominfo*-x"]}', 'dashboard.groups.kominfo: "kominfo*-x" is neither'),
    ('groups = {"kominfo" = ["*"]}', 'dashboard.groups.kominfo: "*" is neither'),
    ('groups = {"kominfo" = "kominfo-*"}', "dashboard.groups.kominfo: must be a non-empty list"),
    ('groups = ["kominfo-*"]', "dashboard.groups: must be a table"),
])
def test_a_bad_group_is_a_one_line_error_naming_the_key(tmp_path, groups, problem):
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, dashboard=groups))
    message = str(caught.value)
    assert message.startswith(f"siaga.toml: {problem}") and "\n" not in message


@pytest.mark.parametrize("site, groups", [
    ("bappeda-rr1", {"bappeda", "rr1"}), ("bappeda-aula", {"bappeda"}), ("kominfo-x", {"kominfo"}),
    ("kominfo", set()), ("bappeda-rr10", {"rr1"}), ("setda", set())])
def test_a_site_is_in_the_groups_that_name_it_or_its_prefix(site, groups):
    table = Groups({"bappeda": ("bappeda-rr1", "bappeda-aula"), "kominfo": ("kominfo-*",),
                    "rr1": ("bappeda-rr1*",)}, max_sites=10)
    assert table.of(site) == groups


def test_the_groups_of_30000_rooms_are_found_once_not_on_every_page(monkeypatch):
    """The national view: each room's groups are worked out once. A bound of 20,000 remembered
    rooms made a 30,000-room overview work out 10,000-30,000 rooms' groups again on every page
    (100 groups each: seconds of CPU)."""
    from dashboard.web import overview
    looked = []
    real = overview.member
    monkeypatch.setattr(overview, "member", lambda p, site: looked.append(site) or real(p, site))
    table = Groups({f"g{g:03d}": (f"kantor-{g:03d}-*",) for g in range(100)}, max_sites=50000)
    sites = [f"kantor-{i // 300:03d}-{i % 300:03d}" for i in range(30000)]
    assert [len(table.of(s)) for s in sites] == [1] * 30000
    looked.clear()
    for _ in range(2):                          # two more pages over every room
        assert all(table.of(s) for s in sites)
    assert looked == []


def test_groups_load_as_a_table_too(tmp_path):
    config = load_config(write_config(tmp_path, dashboard='[dashboard.groups]\nkominfo = ["kominfo-*"]'))
    assert dict(config.dashboard.groups) == {"kominfo": ("kominfo-*",)}
    assert dict(load_config(write_config(tmp_path)).dashboard.groups) == {}


def test_the_report_reads_the_groups_of_the_config(config):
    known = ["bappeda-aula", "bappeda-rr1", "kominfo-rr2", "kominfo-utama", "setda-bupati"]
    assert choose_sites(known, "kominfo", config.dashboard.groups) == ["kominfo-rr2", "kominfo-utama"]
    assert choose_sites(known, "bappeda,setda-bupati", config.dashboard.groups) == \
        ["bappeda-rr1", "bappeda-aula", "setda-bupati"]


def test_a_group_page_shows_only_its_rooms_problems_first(client):
    html = get(client, "/groups/kominfo")
    assert rooms(html) == ["kominfo-rr2", "kominfo-utama"]
    assert "Grup: kominfo" in html and "2 ruangan" in html


@pytest.mark.parametrize("url, text", [("/groups/nowhere", "Tidak ditemukan"),
                                       ("/groups/nowhere?lang=en", "Not found"),
                                       ("/?group=nowhere", "Tidak ditemukan"),
                                       ("/groups/Bad%20Name", "Tidak ditemukan")])
def test_an_unknown_group_is_404_in_the_pages_language(client, url, text):
    answer = client.get(url)
    assert answer.status_code == 404 and text in answer.get_data(as_text=True)


def test_the_overview_counts_rooms_per_state_per_group_with_links(client):
    html = get(client, "/?lang=en")
    counts = html[html.index('<ul class="counts">'):html.index("</ul>")]
    lines = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", li)).strip()
             for li in counts.split("<li>")[1:]]
    assert lines == ["All rooms (5) on battery 1 UPS unreadable 1 ready 3",
                     "bappeda (2) on battery 1 ready 1",
                     "kominfo (2) UPS unreadable 1 ready 1"]
    assert 'href="/groups/kominfo?state=fault"' in counts and 'href="/groups/bappeda"' in counts


@pytest.mark.parametrize("url, shown", [
    ("/?state=ready", ["bappeda-aula", "kominfo-utama", "setda-bupati"]),
    ("/?state=problems", ["bappeda-rr1", "kominfo-rr2"]),
    ("/?state=fault&group=kominfo", ["kominfo-rr2"]),
    ("/groups/bappeda?state=ready", ["bappeda-aula"]),
    ("/?q=kominfo", ["kominfo-rr2", "kominfo-utama"]),            # by id
    ("/?q=RUANG+RAPAT+bupati", ["setda-bupati"]),                  # by name, any case
    ("/?q=aula&view=table", ["bappeda-aula"]),
    ("/?q=nothing-like-this", []),
    ("/?state=bogus&view=bogus", ["bappeda-rr1", "kominfo-rr2", "bappeda-aula", "kominfo-utama",
                                  "setda-bupati"]),               # unknown values: no filter
])
def test_search_and_filters_without_javascript(client, url, shown):
    html = get(client, url)
    assert rooms(html) == shown
    if not shown:
        assert "Tidak ada ruangan yang cocok" in html


def test_the_table_view_has_one_row_per_room(client):
    html = get(client, "/?view=table&lang=en")
    body = html[html.index('<tbody id="cards"'):html.index("</tbody>")]
    assert body.count("<tr ") == 5 and rooms(body)[0] == "bappeda-rr1"
    row = body[body.index('id="card-kominfo-rr2"'):].split("</tr>")[0]
    assert "UPS cannot be read" in row and 'href="/sites/kominfo-rr2"' in row
    assert '<option value="table" selected>' in html


def test_the_live_partial_keeps_the_filters(client, store):
    store.put_state(snapshot("kominfo-utama", "on_battery", name="Dinas Kominfo - Ruang Rapat Utama"))
    html = get(client, "/partials/overview?group=kominfo&state=on_battery&ids=kominfo-utama,bappeda-rr1")
    assert rooms(html) == ["kominfo-utama"]          # bappeda-rr1 is on battery, but not kominfo
    page = get(client, "/groups/kominfo?state=on_battery&view=table")
    assert 'data-partial="/partials/overview?state=on_battery&amp;group=kominfo&amp;view=table"' in page


def test_a_fleet_shows_its_first_rooms_problems_first_and_all_on_request(config, store):
    now = time.time()
    for i in range(PAGE_ROOMS + 20):
        store.put_state(snapshot(f"kantor-{i:04d}", name=f"Kantor {i:04d}", now=now))
    client = create_app(config, store).test_client()
    html = get(client, "/")
    assert len(rooms(html)) == PAGE_ROOMS and rooms(html)[:2] == ["bappeda-rr1", "kominfo-rr2"]
    assert f"menampilkan {PAGE_ROOMS:,} dari {PAGE_ROOMS + 25:,}".replace(",", ".") in html
    assert 'href="/?all=1"' in html
    assert len(rooms(get(client, "/?all=1"))) == PAGE_ROOMS + 25
    last = f"kantor-{PAGE_ROOMS + 19:04d}"
    assert rooms(get(client, f"/?q={last}")) == [last]      # search reaches any room


def test_api_sites_shows_a_repeated_state_with_its_new_time(client, store):
    first = client.get("/api/sites").json["sites"]
    state = store.entry("setda-bupati").state
    store.put_state(replace(state, ts=state.ts + 30))         # the edge's 30 s repeat: same values
    again = {s["site"]: s for s in client.get("/api/sites").json["sites"]}
    assert len(first) == 5 and again["setda-bupati"]["ts"] == state.ts + 30


def test_the_needs_report_takes_a_group_name(client):
    report = client.get("/api/report?sites=kominfo").json
    assert sorted(report["sites"]) == ["kominfo-rr2", "kominfo-utama"]


def test_api_sites_of_one_group(client):
    def ids(url: str) -> list[str]:
        answer = client.get(url)
        assert answer.status_code == 200, url
        return [s["site"] for s in answer.get_json()["sites"]]
    assert ids("/api/sites?group=kominfo") == ["kominfo-rr2", "kominfo-utama"]
    assert ids("/api/sites?group=bappeda") == ["bappeda-aula", "bappeda-rr1"]
    assert len(ids("/api/sites")) == 5 and ids("/api/sites?group=") == ids("/api/sites")
    assert ids("/api/sites?group=kominfo") == ["kominfo-rr2", "kominfo-utama"]   # not the cached body of another
    answer = client.get("/api/sites?group=dinkes")
    assert answer.status_code == 404 and answer.get_json() == {"error": "unknown group"}


def dots(html: str) -> set[str]:
    """The header's dot and the live part's copy of it ("led-red pat-blink"), as the page has them."""
    found = re.findall(r'class="led (led-\S+ pat-\S+)" id="header-led"', html)
    found += re.findall(r'id="worst-led" hidden data-class="led (led-\S+ pat-[^"\s]+)"', html)
    return set(found)


def dot_of(room: str) -> str:
    shown = look(room)
    return f"led-{shown.led.value} pat-{shown.pattern.value}"


def test_every_page_of_a_group_shows_the_worst_room_of_every_group_in_its_header(client, store):
    pages = ("/groups/kominfo", "/partials/overview?group=kominfo", "/sites/kominfo-utama",
             "/partials/sites/kominfo-utama", "/")
    # bappeda-rr1 (not in kominfo) is on battery: the worst of the office
    for url in pages:
        assert dots(get(client, url)) == {dot_of("on_battery")}, url
    now = time.time()
    store.put_state(snapshot("bappeda-rr1", name="Bappeda - Ruang Rapat 1", now=now))   # power back
    for url in pages:
        assert dots(get(client, url)) == {dot_of("fault")}, url      # kominfo-rr2's UPS
    store.put_state(snapshot("kominfo-rr2", name="Dinas Kominfo - Ruang Rapat 2", now=now))
    store.put_state(snapshot("setda-bupati", "shutdown", name="Setda - Ruang Rapat Bupati", now=now,
                             outage=OutageView(started=now - 900, shutdown_sent=now - 60, pc_off=now - 5)))
    assert dots(get(client, "/groups/kominfo")) == {dot_of("pc_off")}
    store.forget("setda-bupati")                        # its retained state was cleared
    assert dots(get(client, "/groups/bappeda")) == {dot_of("ready")}


def test_the_header_follows_every_change_of_a_fleet_as_if_it_looked_at_every_room(tmp_path):
    """Rooms come, change, fall silent, go offline and go; after each step the header of a group's
    page is the worst room of all, as present.worst over every room says."""
    clock = [time.time()]
    config = load_config(write_config(tmp_path, dashboard='groups = {"a" = ["a-*"], "b" = ["b-*"]}'))
    store = Store(config.dashboard.database, stale_after_s=90, clock=lambda: clock[0])
    client = create_app(config, store).test_client()
    sites = [f"{g}-{n}" for g in "ab" for n in range(6)]
    rooms_ = ("ready", "attention", "on_battery", "wrapup", "shutdown", "fault")
    chance = random.Random(23)
    seen = set()
    try:
        for step in range(150):
            site, now = chance.choice(sites), clock[0]
            action = chance.random()
            if action < 0.6:
                room = chance.choice(rooms_)
                outage = OutageView(started=now - 60, pc_off=now - 1) if room == "shutdown" and chance.random() < 0.5 else None
                store.put_state(snapshot(site, room, now=now, outage=outage))
            elif action < 0.7:
                store.put_availability(site, chance.choice(("online", "offline", None)))
            elif action < 0.8:
                store.forget(site)
            else:
                clock[0] += chance.choice((5, 30, 120))     # some rooms fall silent (stale)
            expected = "led-{} pat-{}".format(*present.worst(store.entries()))
            seen.add(expected)
            assert dots(get(client, "/groups/a")) == {expected}, step
        assert len(seen) >= 5      # the walk went through many different worst states
    finally:
        store.close()


def test_a_group_page_reads_only_its_own_rooms_states(config, store):
    """On a shared database the other dashboards' states come as JSON and a snapshot is built
    only when a page needs it (0.3 ms each; 30,000 rooms): a group's page and a room's page need
    only their own rooms, whatever the header shows of the others."""
    now = time.time()
    store._heard(Heard(states=[(s, to_json(snapshot(s, "fault" if s == "setda-bupati" else "ready",
                                                    now=now + 1)).decode())
                                for s in ("bappeda-aula", "setda-bupati", "kominfo-utama")]))
    client = create_app(config, store).test_client()
    html = get(client, "/groups/kominfo")
    assert rooms(html) == ["kominfo-rr2", "kominfo-utama"] and dots(html) == {dot_of("on_battery")}
    get(client, "/sites/kominfo-rr2")
    get(client, "/partials/overview?group=kominfo")
    built = {e.site for e in store.entries() if e.__dict__.get("state") is not None}
    assert "bappeda-aula" not in built and "setda-bupati" not in built
    assert rooms(get(client, "/?state=fault")) == ["kominfo-rr2", "setda-bupati"]
