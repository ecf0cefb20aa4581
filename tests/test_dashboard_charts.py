"""Pure parts of the status page: chart geometry, numbers and times, the order of the cards."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

from dashboard.store.entry import SiteEntry
from dashboard.store.history import RANGES, cut_spans, window
from dashboard.store.store import Store
from dashboard.texts import i18n
from dashboard.web import charts, present
from dashboard.web.app import create_app
from protocol.config import load_config
from protocol.messages import JournalEvent, OutageView, to_dict
from tests.dashboard_support import snapshot, write_config

JAKARTA = ZoneInfo("Asia/Jakarta")
MIDNIGHT = 1764262800.0          # 2025-11-28 00:00 in Jakarta (UTC+7)


def stat(v: float | None, low: float | None = None, high: float | None = None):
    return None if v is None else {"min": v if low is None else low, "max": v if high is None else high,
                                   "last": v}


def history(values: dict[int, float | None], bucket_s: int = 300, count: int = 288,
            battery: list | None = None, volts: dict[int, tuple[float, float, float]] | None = None):
    """The JSON of /api/sites/<site>/history with the given charge per bucket number."""
    buckets = []
    for i in range(count):
        v = values.get(i)
        lo_hi_last = (volts or {}).get(i)
        buckets.append({"start": MIDNIGHT + i * bucket_s, "on_battery": False,
                        "charge_pct": stat(v), "runtime_s": stat(None if v is None else 1800.0),
                        "load_pct": stat(None if v is None else 35.0),
                        "input_voltage": None if lo_hi_last is None else
                        {"min": lo_hi_last[0], "max": lo_hi_last[1], "last": lo_hi_last[2]}})
    return {"range": "24h", "bucket_s": bucket_s, "start": MIDNIGHT,
            "end": MIDNIGHT + count * bucket_s, "buckets": buckets, "battery": battery or []}


def test_a_gap_in_the_data_breaks_the_band_and_the_line():
    chart = charts.build("charge", history({0: 100, 1: 100, 2: 100, 5: 100, 6: 100}), JAKARTA, "id")
    assert len(chart.lines) == 2 and len(chart.bands) == 2 and not chart.empty
    assert [len(line.split()) for line in chart.lines] == [6, 4]          # two points per bucket


def test_values_land_on_the_y_axis():
    chart = charts.build("charge", history({0: 100.0, 1: 0.0}), JAKARTA, "id")
    (line,) = chart.lines
    ys = [float(p.split(",")[1]) for p in line.split()]
    assert ys == [chart.top, chart.top, chart.bottom, chart.bottom]
    assert [label for _, label in chart.y_ticks] == ["0", "20", "40", "60", "80", "100"]


def test_a_cut_inside_one_bucket_shows_its_lowest_and_highest_value():
    """220 V and 0 V in one bucket: the band reaches both, the line ends at the last value."""
    chart = charts.build("voltage", history({}, volts={3: (0.0, 220.0, 0.0), 4: (0.0, 0.0, 0.0)}),
                         JAKARTA, "en")
    (band,) = chart.bands
    ys = {float(p.split(",")[1]) for p in band.split()}
    top_volts = float(chart.y_ticks[-1][1])                      # the axis: 0 at the bottom
    assert chart.y_ticks[-1][0] == chart.top and chart.y_ticks[0] == (chart.bottom, "0")
    y_220 = round(chart.bottom - 220 / top_volts * (chart.bottom - chart.top), 1)
    assert chart.bottom in ys and y_220 in ys                    # reaches 0 V and 220 V
    assert (chart.low, chart.high, chart.last) == (0.0, 220.0, 0.0)


def test_battery_time_is_shaded_from_its_exact_start_to_its_exact_end():
    span = 288 * 300
    data = history({i: 100 for i in range(288)}, battery=[[MIDNIGHT + span / 4, MIDNIGHT + span / 2],
                                                          [MIDNIGHT + span * 0.9, None]])
    chart = charts.build("charge", data, JAKARTA, "id")
    (x1, w1), (x2, w2) = chart.battery
    plot = chart.right - chart.left
    assert x1 == pytest.approx(chart.left + plot / 4, abs=0.1) and w1 == pytest.approx(plot / 4, abs=0.2)
    assert x2 + w2 == pytest.approx(chart.right, abs=0.1)        # still on battery: up to now


def test_runtime_is_shown_in_minutes():
    chart = charts.build("runtime", history({0: 100}), JAKARTA, "en")
    assert chart.y_ticks[-1][1] == "30"


def test_an_empty_chart_says_so():
    assert charts.build("voltage", history({}), JAKARTA, "id").empty


@pytest.mark.parametrize("range_name, labels", [
    ("6h", ["20:00", "21:00", "22:00", "23:00", "00:00"]),
    ("24h", ["06:00", "12:00", "18:00", "00:00"]),
    ("7d", ["22/11", "23/11", "24/11", "25/11", "26/11", "27/11"]),   # 28/11 is at the very edge
])
def test_time_labels_are_local(range_name, labels):
    start, bucket_s, count = window(range_name, MIDNIGHT + 3600, None)
    data = {"start": start, "end": MIDNIGHT + 3600, "bucket_s": bucket_s, "buckets": [], "battery": []}
    chart = charts.build("charge", data, JAKARTA, "id")
    assert [label for _, label in chart.x_ticks] == labels


@pytest.mark.parametrize("range_name, age_s, bucket_s", [
    ("24h", None, 300), ("24h", 600, 60), ("24h", 3 * 3600, 60), ("7d", 86400, 600), ("7d", None, 3600),
    ("30d", 20 * 86400, 7200), ("30d", 40 * 86400, 7200), ("6h", 30, 60),
])
def test_a_young_site_fills_the_chart_from_its_first_data(range_name, age_s, bucket_s):
    now = MIDNIGHT + 12345.0
    first = None if age_s is None else now - age_s
    start, size, count = window(range_name, now, first)
    assert size == bucket_s and start % size == 0 and start + size * count >= now
    if age_s is not None and age_s < RANGES[range_name][0]:
        assert first - size < start <= first
    else:
        assert start <= now - RANGES[range_name][0]


@pytest.mark.parametrize("value, lang, digits, text", [
    (1234.5, "id", 1, "1.234,5"), (1234.5, "en", 1, "1,234.5"), (None, "id", 0, "–"), (78.0, "id", 0, "78"),
    (float("nan"), "id", 0, "–"), (float("inf"), "en", 1, "–"), (1e308, "id", 0, "–"),
])
def test_numbers(value, lang, digits, text):
    assert i18n.number(value, lang, digits) == text


@pytest.mark.parametrize("value, text", [(78.0, "78 %"), (0, "0 %"), (250.0, "250 %"), (None, "–"),
                                         (float("nan"), "–"), (-5.0, "–"), (1e12, "–")])
def test_a_percentage_no_ups_reports_is_unknown(value, text):
    assert i18n.percent(value, "id") == text


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


def test_sentences_for_reasons():
    assert present.reason_text("pc_offline:meeting-pc", "id") == "PC meeting-pc tidak terhubung"
    assert present.reason_text("something_new:x", "en") == "something_new:x"


def test_every_text_exists_in_both_languages():
    assert set(i18n.EN) == set(i18n.ID)


T = MIDNIGHT + 10 * 3600          # 10:00 in Jakarta


@pytest.mark.parametrize("events, start, end, cuts", [
    # a closed cut inside the range, to the second
    ([(T, "power_lost", None), (T + 32, "power_restored", 32.0)], T - 600, T + 600, [(T, T + 32)]),
    # still on battery at the right edge: open
    ([(T, "power_lost", None)], T - 600, T + 600, [(T, None)]),
    # started before the range: kept whole (the chart clips it), a cut over before it dropped
    ([(T - 900, "power_lost", None), (T - 800, "power_restored", 100.0),
      (T - 700, "power_lost", None), (T + 10, "power_restored", 710.0)], T - 600, T + 600,
     [(T - 700, T + 10)]),
    # replayed duplicates: the same power_lost and power_restored twice are one cut
    ([(T, "power_lost", None), (T, "power_lost", None), (T + 32, "power_restored", 32.0),
      (T + 32, "power_restored", 32.0)], T - 600, T + 600, [(T, T + 32)]),
    # a restore whose power_lost never arrived: its duration says when the cut began
    ([(T + 45, "power_restored", 45.0)], T - 600, T + 600, [(T, T + 45)]),
    ([(T + 45, "power_restored", None)], T - 600, T + 600, []),
    # two cuts; one after the range's end is not drawn
    ([(T, "power_lost", None), (T + 5, "power_restored", 5.0), (T + 60, "power_lost", None),
      (T + 92, "power_restored", 32.0), (T + 700, "power_lost", None)], T - 600, T + 600,
     [(T, T + 5), (T + 60, T + 92)]),
])
def test_cut_spans_from_the_journal(events, start, end, cuts):
    assert cut_spans(events, start, end) == cuts


@pytest.mark.parametrize("events, seen, cuts", [
    # the restore never arrived: the cut ends where the states stopped saying on battery
    ([(T, "power_lost", None)], [(T + 2, T + 40)], [(T, T + 40)]),
    ([(T, "power_lost", None)], [(T + 2, None)], [(T, None)]),                # still on battery
    # a second cut began before the first's restore came: the first ends as the states saw it,
    # or, unseen, is a mark at its start
    ([(T, "power_lost", None), (T + 300, "power_lost", None), (T + 332, "power_restored", 32.0)],
     [(T, T + 50)], [(T, T + 50), (T + 300, T + 332)]),
    ([(T, "power_lost", None), (T + 300, "power_lost", None), (T + 332, "power_restored", 32.0)],
     [], [(T, T), (T + 300, T + 332)]),
])
def test_a_cut_without_its_restore(events, seen, cuts):
    assert cut_spans(events, T - 600, T + 600, seen) == cuts


def test_a_32_second_cut_is_drawn_where_it_happened(tmp_path):
    """A real 32-second cut in the dashboard's store (its power_lost and power_restored events),
    states every 30 s (one of them on battery): on the 6-hour chart of the room page, a mark over
    the band starts at the cut's second and is 32 seconds wide (the line shows whole minutes)."""
    now = T + 3 * 3600
    store = Store(str(tmp_path / "dashboard.sqlite3"), clock=lambda: now)
    cut, restored = T + 3600 + 17.4, T + 3600 + 49.4                 # 11:00:17.4 to 11:00:49.4
    for ts in range(int(now - 6 * 3600), int(now), 30):                # states every 30 s, on the minute
        on_battery = cut <= ts < restored
        store.put_state(snapshot("rr1", "on_battery" if on_battery else "ready", now=ts, since=cut,
                                 outage=OutageView(started=cut) if on_battery else None))
    store.put_event(JournalEvent(site="rr1", seq=1, ts=cut, kind="power_lost", detail={"load_pct": 30}))
    store.put_event(JournalEvent(site="rr1", seq=2, ts=restored, kind="power_restored",
                                 detail={"duration_s": 32.0}))
    store.put_event(JournalEvent(site="rr1", seq=3, ts=restored, kind="power_restored",   # replayed
                                 detail={"duration_s": 32.0}))
    data = store.history("rr1", "6h")
    app = create_app(load_config(write_config(tmp_path)), store)
    page = app.test_client().get("/sites/rr1?range=6h").get_data(as_text=True)
    store.close()
    svg = re.search(r'<svg[^>]*data-metric="voltage".*?</svg>', page, re.S).group(0)
    marks = re.findall(r'<rect class="cut" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
    plot_w, span = charts.WIDTH - charts.LEFT - charts.RIGHT, data["end"] - data["start"]
    assert len(marks) == 1, svg
    x, width = map(float, marks[0])
    assert x == pytest.approx(charts.LEFT + (cut - data["start"]) / span * plot_w, abs=0.01)
    assert width == pytest.approx(32 / span * plot_w, abs=0.02)           # 0.69 px of 468


def test_the_voltage_is_written_one_way_in_the_table_and_the_chart(tmp_path):
    """219.6 V read the same in the room's UPS table and under its voltage chart: the table said
    "219,6 V" and the chart "terakhir 220 V"."""
    now = T + 3600
    store = Store(str(tmp_path / "dashboard.sqlite3"), clock=lambda: now)
    for ts in range(int(now - 600), int(now), 30):
        store.put_state(snapshot("rr1", now=ts, volts=219.6))
    app = create_app(load_config(write_config(tmp_path)), store)
    page = app.test_client().get("/sites/rr1?range=6h").get_data(as_text=True)
    store.close()
    summary = re.search(r'data-metric="voltage"[^>]*>\s*<desc>([^<]*)</desc>', page).group(1)
    assert 'data-label="Tegangan masuk">219,6 V</td>' in page
    assert summary.endswith("terakhir 219,6 V"), summary
