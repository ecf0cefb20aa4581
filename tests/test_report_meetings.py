"""The report's meetings by app, live peak, conversion speed, disk days left and the PC line
(CONTRACT §6.2): hand-computed answers for a synthetic journal (1 Nov 2026, Asia/Jakarta)."""

from __future__ import annotations

import pytest

from dashboard.report.render import buy_lines, csv_text, html
from tests.report_support import at, ev, make, three_sources


def office() -> dict:
    return {
        "rr1": [
            ev(at(1, 9), "meeting_started", "pc1", app="zoom", by="microphone"),   # M1 09-10
            ev(at(1, 10), "meeting_ended", "pc1"),
            ev(at(1, 10), "conversion_started", "pc1"),                             # 10 min: 60/10 = 6
            ev(at(1, 10, 10), "conversion_ended", "pc1"),
            ev(at(1, 13), "meeting_started", "pc1", app="meet-browser", by="camera"),  # M2 13-15
            ev(at(1, 15), "meeting_ended", "pc1"),
            ev(at(1, 15, 5), "conversion_started", "pc1"),                          # 15 min: 120/15 = 8
            ev(at(1, 15, 20), "conversion_ended", "pc1"),
            ev(at(1, 18), "conversion_started", "pc1"),                             # 3 h after: no recording
            ev(at(1, 18, 30), "conversion_ended", "pc1"),
        ],
        "rr2": [   # a Zoom client open all day, seen only as a process: not a live meeting
            ev(at(1, 8), "meeting_started", "pc2", app="zoom", by="process"),
            ev(at(1, 17), "meeting_ended", "pc2"),
        ],
        "aula": [
            ev(at(1, 9, 30), "meeting_started", "pc3", app="teams", by="microphone"),  # M3 09:30-11
            ev(at(1, 11), "meeting_ended", "pc3"),
            ev(at(1, 16), "meeting_started", "pc3"),                                 # an older agent
            ev(at(1, 16, 30), "meeting_ended", "pc3"),
        ],
    }


STATES = {
    "rr1": {"pcs": [{"id": "pc1", "disk_free_gb": 100.0, "disk_used_gb_day": 4.0}]},   # 25 days
    "rr2": {"pcs": [{"id": "pc2", "disk_free_gb": 50.0, "disk_used_gb_day": None}]},   # no history
    "aula": {"pcs": [{"id": "pc3", "disk_free_gb": 30.0, "disk_used_gb_day": 0.0}]},   # not filling
}


def test_meetings_by_app_and_the_peak_of_live_meetings():
    report = make(office(), **STATES)
    meetings = report["meetings"]
    # zoom: M1 1 h + the open client 9 h; meet 2 h; teams 1.5 h; the older agent's 0.5 h
    assert meetings["by_app"] == {"zoom": {"count": 2, "hours": 10.0},
                                  "meet-browser": {"count": 1, "hours": 2.0},
                                  "teams": {"count": 1, "hours": 1.5},
                                  "unknown": {"count": 1, "hours": 0.5}}
    assert list(meetings["by_app"]) == ["zoom", "meet-browser", "teams", "unknown"]   # most hours first
    assert (meetings["count"], meetings["hours"]) == (5, 14.0)            # 10 + 2 + 1.5 + 0.5
    # live: M1 09-10 and M3 09:30-11 overlap -> 2; with the client open all day it would be 3
    assert (meetings["peak_concurrent"], meetings["peak_from"]) == (2, "live")
    assert report["sites"]["rr2"]["meetings"]["peak_from"] == "process"   # nothing live: processes


def test_conversion_speed_and_days_left():
    report = make(office(), **STATES)
    assert report["conversion"]["speed"] == 7.0            # median of 6 and 8
    assert report["sites"]["rr1"]["conversion"]["speed"] == 7.0
    assert report["sites"]["aula"]["conversion"]["speed"] is None
    assert [report["sites"][s]["pc"]["days_left"] for s in ("rr1", "rr2", "aula")] == [25, None, None]
    assert report["pc"]["days_left"] == 25


@pytest.mark.parametrize("lang, expected", [
    ("en", "A meeting PC that converts a 2 h recording within the 15 min between meetings "
           "(8.0 minutes of meeting per minute). Reason: today's PC does only 7.0 minutes of "
           "meeting per minute; a 2 h recording takes it 18 min."),   # 120 / 7 = 17.1, rounded up
    ("id", "PC rapat yang mampu mengonversi rekaman 2 jam dalam 15 mnt antar rapat (8,0 menit rapat "
           "per menit). Alasan: PC sekarang hanya 7,0 menit rapat per menit; rekaman 2 jam butuh "
           "18 mnt."),
])
def test_the_pc_line_of_the_buy_list_is_a_requirement(lang, expected):
    report = make(office(), **STATES)
    (item,) = [i for i in report["buy"] if i["item"] == "pc_requirement"]
    assert (item["need_speed"], item["speed"], item["ok"]) == (8.0, 7.0, False)
    (line,) = [line for line in buy_lines(report, lang, 300) if "15" in line and "PC" in line]
    assert line == expected


def test_the_page_and_csv_show_apps_speed_and_days_left():
    report = make(office(), **STATES)
    page = html(report, "en", zone="Asia/Jakarta", wrapup_s=300)
    for words in ("Google Meet (browser): 1 meeting.", "Zoom: 2 meetings.",
                  "minutes of meeting converted per minute", "a meeting app left open is not counted"):
        assert words in page, words
    header, *_, total = csv_text(report).splitlines()
    assert header.endswith("conversion.speed,pc.days_left") and total.endswith(",7.0,25")


def restarts() -> dict:
    """rr1's PC on 2 Nov: its agent restarts mid-meeting twice, and the cases that are not a
    restart; rr2 holds a short call while rr1's agent is down."""
    pc1 = lambda hh, mm, kind, ss=0, **d: ev(at(2, hh, mm, ss), kind, "pc1", **d)   # noqa: E731
    gone = lambda hh, mm: [pc1(hh, mm, "pc_offline"), pc1(hh, mm, "meeting_ended")]   # noqa: E731
    zoom = {"app": "zoom", "by": "microphone"}
    return {
        "rr1": [
            pc1(8, 50, "conversion_started"),                         # the last recording
            pc1(9, 0, "meeting_started", app="zoom", by="process"),   # M1 09:00-11:00, delayed
            *gone(9, 30), pc1(9, 30, "conversion_ended"),             # an update restarts the agent
            pc1(9, 31, "pc_online"), pc1(9, 31, "conversion_started"),
            pc1(9, 31, "meeting_started", 2, **zoom),                 # M1 goes on, now seen live
            pc1(9, 40, "conversion_ended"),
            *gone(10, 0),                                             # it crashes; back 2 min later
            pc1(10, 2, "pc_online"), pc1(10, 2, "meeting_started", **zoom),
            pc1(11, 0, "meeting_ended"),
            pc1(13, 0, "meeting_started", **zoom), *gone(13, 30),     # gone 10 min: two meetings
            pc1(13, 40, "pc_online"), pc1(13, 40, "meeting_started", **zoom),
            pc1(14, 0, "meeting_ended"),
            pc1(15, 0, "meeting_started", **zoom), pc1(15, 20, "meeting_ended"),   # ended, then
            pc1(15, 21, "meeting_started", **zoom), pc1(15, 30, "meeting_ended"),  # a new one
            pc1(16, 0, "meeting_started", **zoom), *gone(16, 10),     # back in another app
            pc1(16, 11, "pc_online"), pc1(16, 11, "meeting_started", app="teams", by="microphone"),
            pc1(16, 30, "meeting_ended"),
            pc1(17, 0, "meeting_started", **zoom),                    # Siaga shuts the PC down
            ev(at(2, 17, 5), "power_lost", load_pct=40), ev(at(2, 17, 8), "shutdown_sent", pcs=["pc1"]),
            *gone(17, 10), pc1(17, 10, "pc_off"),
            ev(at(2, 17, 10, 30), "power_restored", duration_s=330),
            pc1(17, 11, "pc_online"), pc1(17, 11, "meeting_started", **zoom),
            pc1(17, 20, "meeting_ended"),
            pc1(23, 0, "meeting_started", **zoom), *gone(23, 50),     # gone for good
        ],
        "rr2": [ev(at(2, 10, 0, 30), "meeting_started", "pc2", app="zoom", by="microphone"),
                ev(at(2, 10, 1, 30), "meeting_ended", "pc2")],
    }


def test_an_agent_restarted_mid_meeting_is_one_meeting(tmp_path, pg_url):
    """Cut at each pc_offline, the morning's meeting was three meetings (rr1: 12 meetings,
    4.90 h), the second of them "started on a converting PC", and rr2's call during the second
    restart ran beside no other (peak 1). It is one meeting of 2 h: a PC back in a meeting of the
    same app within 3 minutes of going offline is the same meeting. Gone 10 minutes, a meeting
    the agent saw end, another app, or a PC Siaga shut down: two meetings; a PC that stays
    gone ends its meeting when it went offline. Each source of the report says the same."""
    for name, report in three_sources(tmp_path, pg_url, restarts()).items():
        rr1 = report["sites"]["rr1"]
        # 120 + 30 + 20 + 20 + 9 + 10 + 19 + 10 + 9 + 50 minutes = 4.95 h
        assert (rr1["meetings"]["count"], rr1["meetings"]["hours"]) == (10, 4.95), name
        assert rr1["meetings"]["by_app"] == {"zoom": {"count": 9, "hours": 4.63},
                                             "teams": {"count": 1, "hours": 0.32}}, name
        assert rr1["conversion"]["delayed_meetings"] == 1, name
        assert (report["meetings"]["count"], report["meetings"]["hours"]) == (11, 4.97), name
        assert (report["meetings"]["peak_concurrent"], report["meetings"]["peak_from"]) == (2, "live"), name
        assert rr1["outages"]["during_meetings"] == 1, name
