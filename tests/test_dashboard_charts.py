"""Pure parts of the status page: chart geometry, numbers and times, the order of the cards."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from dashboard import charts, i18n, present
from dashboard.database import HistoryBucket
from dashboard.store import SiteEntry
from edge.messages import to_dict
from tests.dashboard_support import snapshot

JAKARTA = ZoneInfo("Asia/Jakarta")
MIDNIGHT = 1764262800.0          # 2025-11-28 00:00 in Jakarta (UTC+7)


def bucket(i: int, charge: float | None = 100.0, outage: bool = False) -> HistoryBucket:
    return HistoryBucket(i, charge, 1800.0, 35.0, 220.0, outage)


def test_a_gap_in_the_data_breaks_the_line():
    chart = charts.build("charge", [bucket(0), bucket(1), bucket(2), bucket(5), bucket(6)],
                         MIDNIGHT, 300, 288, JAKARTA, "id")
    assert len(chart.lines) == 2 and not chart.empty
    assert [len(line.split()) for line in chart.lines] == [3, 2]


def test_values_land_on_the_y_axis():
    chart = charts.build("charge", [bucket(0, 100.0), bucket(1, 0.0)], MIDNIGHT, 300, 288, JAKARTA, "id")
    (line,) = chart.lines
    (_, y_full), (_, y_empty) = [tuple(map(float, p.split(","))) for p in line.split()]
    assert (y_full, y_empty) == (chart.top, chart.bottom)
    assert [label for _, label in chart.y_ticks] == ["0", "20", "40", "60", "80", "100"]


def test_outage_buckets_become_shaded_bands():
    buckets = [bucket(i, outage=i in (10, 11, 12, 40)) for i in range(50)]
    chart = charts.build("charge", buckets, MIDNIGHT, 300, 288, JAKARTA, "id")
    assert len(chart.bands) == 2
    (x1, w1), (x2, w2) = chart.bands
    assert w1 == pytest.approx(3 * w2, abs=0.2) and x2 > x1


def test_runtime_is_shown_in_minutes():
    chart = charts.build("runtime", [bucket(0)], MIDNIGHT, 300, 288, JAKARTA, "en")
    assert chart.y_ticks[-1][1] == "30"


def test_an_empty_chart_says_so():
    assert charts.build("voltage", [], MIDNIGHT, 300, 288, JAKARTA, "id").empty


@pytest.mark.parametrize("range_name, labels", [
    ("24h", ["06:00", "12:00", "18:00", "00:00"]),
    ("7d", ["22/11", "23/11", "24/11", "25/11", "26/11", "27/11"]),   # 28/11 is at the very edge
])
def test_time_labels_are_local(range_name, labels):
    start, _, bucket_s, count = charts.window(range_name, MIDNIGHT + 3600)
    chart = charts.build("charge", [], start, bucket_s, count, JAKARTA, "id")
    assert [label for _, label in chart.x_ticks] == labels


def test_an_unknown_range_is_a_day():
    assert charts.window("<script>", 1000.0) == charts.window("24h", 1000.0)


@pytest.mark.parametrize("value, lang, digits, text", [
    (1234.5, "id", 1, "1.234,5"), (1234.5, "en", 1, "1,234.5"), (None, "id", 0, "–"), (78.0, "id", 0, "78"),
])
def test_numbers(value, lang, digits, text):
    assert i18n.number(value, lang, digits) == text


@pytest.mark.parametrize("ts, text", [
    (MIDNIGHT + 10 * 3600 + 32 * 60 + 5, "10:32:05"),      # today: the time
    (MIDNIGHT - 3600, "27/11 23:00"),                       # another day: the date too
    (MIDNIGHT - 400 * 86400, "24/10/2024 00:00"),           # another year
    (1e300, "–"),                                           # nonsense from a broken edge
])
def test_times(ts, text):
    assert i18n.when(ts, JAKARTA, MIDNIGHT + 12 * 3600) == text


def test_durations_and_minutes():
    assert i18n.duration(1210, "id") == "20 mnt 10 dtk" and i18n.duration(5.2, "en") == "5 s"
    assert i18n.minutes(1260, "id") == "21 mnt" and i18n.minutes(None, "en") == "–"


@pytest.mark.parametrize("requested, cookie, default, lang", [
    ("en", None, "id", "en"), (None, "en", "id", "en"), ("fr", "xx", "id", "id"),
    (None, None, "en", "en"), ("<b>", None, "id", "id"),
])
def test_language_choice(requested, cookie, default, lang):
    assert i18n.pick_language(requested, cookie, default) == lang


def entry(site: str, room: str, stale: bool = False, name: str = "") -> SiteEntry:
    state = snapshot(site, room, name=name or site)
    return SiteEntry(state, to_dict(state), stale=stale)


def test_problems_come_first_on_the_overview():
    entries = [entry("a", "ready"), entry("b", "attention"), entry("c", "ready", stale=True),
               entry("d", "shutdown"), entry("e", "on_battery"), entry("f", "fault"), entry("g", "wrapup")]
    assert [e.site for e in present.sort_for_overview(entries)] == ["d", "g", "e", "f", "c", "b", "a"]


def test_sentences_for_reasons_and_events():
    assert present.reason_text("pc_offline:meeting-pc", "id") == "PC meeting-pc tidak terhubung"
    assert present.reason_text("something_new:x", "en") == "something_new:x"
    assert present.event_text("power_restored", "en") == "Mains power back"
    assert present.event_text("future_kind", "id") == "future_kind"


def test_event_details_read_well():
    detail = {"duration_s": 1210.0, "pcs": ["meeting-pc", "pc-2"], "ok": True, "runtime_s": None,
              "why": "x" * 500}
    assert present.detail_items(detail, "id") == [
        ("duration_s", "20 mnt 10 dtk"), ("pcs", "meeting-pc, pc-2"), ("ok", "ya"),
        ("runtime_s", "–"), ("why", "x" * 199 + "…")]


def test_every_text_exists_in_both_languages():
    assert set(i18n.EN) == set(i18n.ID)
