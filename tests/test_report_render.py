"""What the needs report says: the buy list in plain words, "no data" sections, the chart, CSV."""

from __future__ import annotations

from dashboard.report import render
from protocol.messages import EventKind
from tests.report_support import at, ev, make, office_events


def page(report, lang="id", **kw) -> str:
    return render.html(report, lang, zone="Asia/Jakarta", wrapup_s=300, **kw)


def test_buy_list_in_plain_words_with_reasons():
    state = {"power": {"runtime_s": 1500}, "ups": [{"name": "meeting", "realpower_nominal": 600}]}
    report = make({"rr1": office_events()["rr1"]}, rr1=state)
    lines = render.buy_lines(report, "id", 300)
    assert lines[0] == ("rr1: UPS yang bertahan setidaknya 45 mnt pada 180 W. Alasan: 9 dari 10 "
                        "pemadaman selesai dalam 40 mnt, ditambah 5 mnt untuk menyimpan rekaman; "
                        "UPS sekarang hanya 25 mnt.")
    assert "A faster meeting PC" in render.buy_lines(report, "en", 300)[1]
    enough = make({"rr1": office_events()["rr1"]}, rr1={"power": {"runtime_s": 3000}})
    assert render.buy_lines(enough, "id", 300)[0] == (
        "rr1: tidak perlu UPS baru. Alasan: UPS sekarang bertahan 50 mnt, yang dibutuhkan 45 mnt.")


def test_an_old_journal_without_meeting_events_says_no_data_for_meetings():
    power_only = [e for e in office_events()["rr1"] if "meeting" not in e.kind and "conversion" not in e.kind]
    text = page(make({"rr1": power_only}))
    assert "Rapat <span class=\"nodata\">(tidak ada data)</span>" in text
    assert "Kualitas listrik PLN <span class=\"nodata\">(tidak ada data)</span>" in text
    assert "konversi rekaman." not in text                     # no conversion rows to mislead
    assert "<td class=\"num\">40 mnt</td><td>9 dari 10 pemadaman" in text   # outages still counted


def test_an_empty_range_says_so():
    text = page(make({"rr1": []}), "en")
    assert "No events in this period" in text
    assert "no new UPS yet. Reason: no outage in this period." in text


def test_chart_has_a_bar_per_hour_with_outages():
    chart = render.hour_chart([0] * 10 + [2] + [0] * 12 + [1])
    bars = {b["hour"]: b for b in chart["bars"] if b["count"]}
    assert sorted(bars) == [10, 23]
    assert bars[10]["h"] == 2 * bars[23]["h"] and bars[10]["y"] < bars[23]["y"]


def test_csv_never_starts_a_cell_with_a_formula():
    report = make({"rr1": [ev(at(1, 10), EventKind.POWER_LOST.value)]})
    report["sites"]["rr1"]["name"] = "=HYPERLINK(\"x\")"
    assert "'=HYPERLINK" in render.csv_text(report)


def test_room_names_are_escaped():
    report = make({"rr1": []})
    report["sites"]["rr1"]["name"] = "<script>alert(1)</script>"
    text = page(report, per_room=True)
    assert "<script>alert" not in text and "&lt;script&gt;" in text


def test_runtime_by_month_at_comparable_load_is_a_table_per_room():
    events = [ev(at(1, 10), "power_lost", load_pct=40.0, runtime_s=1860),
              ev(at(1, 10, 10), "power_restored", duration_s=600),
              ev(at(2, 10), "power_lost", load_pct=42.0, runtime_s=1860),
              ev(at(2, 10, 10), "power_restored", duration_s=600),
              ev(at(3, 10), "power_lost", load_pct=90.0, runtime_s=300),   # usual load is 42 %: ignored
              ev(at(3, 10, 10), "power_restored", duration_s=600)]
    report = make({"rr1": events})
    assert report["sites"]["rr1"]["ups"]["runtime_by_month"] == [
        {"month": "2026-11", "runtime_s": 1860.0, "n": 2}]
    text = page(report, per_room=True)
    assert "<td>Nov 2026</td><td class=\"num\">31 mnt</td>" in text


def test_english_counts_agree_with_their_nouns():
    one = {"item": "licences", "peak": 1}
    two = {"item": "licences", "peak": 2}
    report = {"buy": [one, two, {"item": "battery", "site": "rr1", "flags": 1}], "sites": {}}
    lines = render.buy_lines(report, "en", 300)
    assert lines[0].startswith("1 meeting host licence.") and "1 meetings" not in lines[0]
    assert lines[1].startswith("2 meeting host licences.")
    assert "(1 times)" not in lines[2] and "once" in lines[2]
