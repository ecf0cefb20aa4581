"""The needs report's numbers (CONTRACT §5.8): hand-computed answers for synthetic journals.

The office: three rooms, 1-3 Nov 2026 (Asia/Jakarta, UTC+7). Every expected number below was
worked out by hand from the timeline in ``office_events``; the comments show the arithmetic.
"""

from __future__ import annotations


import pytest

from dashboard.report.build import Policy, SiteInput, build
from dashboard.report.facts import peak_concurrent, p90, median, window
from dashboard.report.needs import Sample, power_quality
from tests.report_support import FIRST, LAST, ZONE, at, contract, ev, make, office_events


def test_office_totals_equal_the_hand_computed_numbers():
    report = make(office_events())
    assert (report["v"], report["from"], report["to"]) == (1, "2026-11-01", "2026-11-03")
    assert list(report["sites"]) == ["rr1", "rr2", "aula"]
    assert contract(report) == {
        # lengths 600, 2400, 1200, 300, 3600: total 8100; p90 = rank ceil(0.9*5)=5 -> 3600
        "outages": {"count": 5, "during_meetings": 2, "total_s": 8100.0, "longest_s": 3600.0,
                    "p90_s": 3600.0, "shutdowns": 1, "bridged": 4},
        "ups": {"runtime_needed_s": 3900.0},                      # 3600 + 300
        # A 2 h, B 1 h, C 1 h, D 35 min, E 2 h (cut) = 6.583 h; A, C, D at 10:45 -> 3
        "meetings": {"count": 5, "hours": 6.58, "peak_concurrent": 3},
        "conversion": {"count": 1, "median_s": 1800.0, "delayed_meetings": 1},
    }
    assert report["outages"]["unended"] == 1
    hours = report["outages"]["by_hour"]
    assert (hours[10], hours[15], hours[16], hours[23], sum(hours)) == (1, 1, 1, 2, 5)


def test_each_room_has_the_same_keys_with_its_own_numbers():
    sites = make(office_events())["sites"]
    assert contract(sites["rr1"]) == {
        "outages": {"count": 2, "during_meetings": 1, "total_s": 3000.0, "longest_s": 2400.0,
                    "p90_s": 2400.0, "shutdowns": 1, "bridged": 1},
        "ups": {"runtime_needed_s": 2700.0},
        "meetings": {"count": 2, "hours": 3.0, "peak_concurrent": 1},   # A and B never overlap
        "conversion": {"count": 1, "median_s": 1800.0, "delayed_meetings": 1},
    }
    assert contract(sites["rr2"]) == {
        "outages": {"count": 2, "during_meetings": 0, "total_s": 1500.0, "longest_s": 1200.0,
                    "p90_s": 1200.0, "shutdowns": 0, "bridged": 2},
        "ups": {"runtime_needed_s": 1500.0},
        "meetings": {"count": 1, "hours": 1.0, "peak_concurrent": 1},
        "conversion": {"count": 0, "median_s": None, "delayed_meetings": 0},
    }
    assert contract(sites["aula"]) == {
        "outages": {"count": 1, "during_meetings": 1, "total_s": 3600.0, "longest_s": 3600.0,
                    "p90_s": 3600.0, "shutdowns": 0, "bridged": 1},
        "ups": {"runtime_needed_s": 3900.0},
        "meetings": {"count": 2, "hours": 2.58, "peak_concurrent": 1},
        "conversion": {"count": 0, "median_s": None, "delayed_meetings": 0},
    }


def test_a_range_without_events_says_zero_and_no_data():
    report = make({"rr1": []})
    assert report["events"] == 0
    assert report["outages"]["count"] == 0 and report["outages"]["p90_s"] is None
    assert report["ups"]["runtime_needed_s"] is None
    assert report["meetings"] == {"count": 0, "hours": 0.0, "peak_concurrent": 0, "known": False,
                                  "by_app": {}, "peak_from": None}
    assert [i["item"] for i in report["buy"]] == ["ups_no_data"]


def test_the_window_never_reaches_past_now():
    win = window(FIRST, LAST, ZONE, at(2, 12))
    report = build([SiteInput("rr1", "rr1", iter([ev(at(2, 11), "power_lost")]))], win, ZONE, Policy())
    assert report["outages"]["total_s"] == 3600.0        # cut at now (12:00), not at 3 Nov 24:00


def test_buy_list_follows_the_numbers():
    state = {"power": {"runtime_s": 1500}, "reasons": ["replace_battery:meeting"],
             "ups": [{"name": "meeting", "realpower_nominal": 600}],
             "pcs": [{"id": "pc1", "disk_free_gb": 4.0}]}
    report = make(office_events(), rr1=state, rr2={"power": {"runtime_s": 2000}})
    items = {(i["item"], i.get("site")): i for i in report["buy"]}
    # rr1 needs 2700 s = 45 min; load median of 40 % and 20 % = 30 % of 600 W. What it has is
    # the journal's own claim at the start of its cuts (median of 1800 s and 2000 s: 31 min),
    # not the last state's 1500 s: a journal alone must give the same verdict (CONTRACT §6.1).
    assert items[("ups_buy", "rr1")]["need_min"] == 45
    assert items[("ups_buy", "rr1")]["load_w"] == 180
    assert items[("ups_buy", "rr1")]["have_min"] == 31
    assert items[("ups_buy", "rr1")]["basis"] == "claimed"
    assert ("battery", "rr1") not in items                # RB in the last state is no journal event
    # rr2's cuts claimed nothing: its last state's 2000 s (one moment's) is not what it has.
    assert items[("ups_buy", "rr2")]["have_min"] is None and items[("ups_buy", "rr2")]["need_min"] == 25
    assert ("ups_buy", "aula") in items                   # runtime unknown: ask for 65 min
    assert items[("faster_pc", None)]["delayed"] == 1
    assert items[("licences", None)]["peak"] == 3
    assert items[("disk", "rr1")]["free_gb"] == 4.0


def test_power_quality_counts_sags_and_swells_as_runs():
    volts = [220, 197, 195, 220, 232, 233, 219, 190, 0, 221]
    samples = [Sample(float(i), None, v, v, None, v == 0) for i, v in enumerate(volts)]
    assert power_quality(samples) == {"known": True, "min_v": 190.0, "max_v": 233.0,
                                      "sags": 2, "swells": 1}
    assert power_quality(None)["known"] is False


def test_power_quality_sees_a_sag_and_a_swell_inside_one_bucket():
    """A minute that dipped to 190 V and peaked at 235 V but ended at 220 V is both."""
    samples = [Sample(0.0, None, 219.0, 221.0, None, False), Sample(60.0, None, 190.0, 235.0, None, False),
               Sample(120.0, None, 0.0, 220.0, None, False)]   # the cut itself is no sag
    assert power_quality(samples) == {"known": True, "min_v": 190.0, "max_v": 235.0,
                                      "sags": 1, "swells": 1}


@pytest.mark.parametrize("values, p, m", [([], None, None), ([5.0], 5.0, 5.0),
                                          ([1.0, 2.0, 3.0, 4.0], 4.0, 2.5),
                                          ([float(i) for i in range(1, 11)], 9.0, 5.5)])
def test_nearest_rank_p90_and_median(values, p, m):
    assert (p90(values), median(values)) == (p, m)


def test_meetings_that_touch_do_not_overlap():
    assert peak_concurrent([0, 10, 5], [10, 20, 12]) == 2
    assert peak_concurrent([0, 1, 2], [9, 9, 9]) == 3
    assert peak_concurrent([], []) == 0
