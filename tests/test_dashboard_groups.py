"""Groups of sites (CONTRACT §5.6) and the overview at fleet size, through Flask's test client:
config errors, the group page, 404, search, filters, counts, the table view, the page limit."""

from __future__ import annotations

import re
import time
from dataclasses import replace

import pytest

from dashboard.report.data import choose_sites
from dashboard.store.store import Store
from dashboard.web.app import create_app
from dashboard.web.overview import PAGE_ROOMS, Groups
from protocol.config import ConfigError, load_config
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
                    "rr1": ("bappeda-rr1*",)})
    assert table.of(site) == groups


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
