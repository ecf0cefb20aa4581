"""The report's ``schedule`` section (CONTRACT §6.3): hand-computed answers for synthetic journals.

Three rooms, 1-3 Nov 2026 in Asia/Jakarta. The edge journals ``booking`` when a booked meeting
begins and ``not_ready`` once per meeting; the comments show the arithmetic.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from zoneinfo import ZoneInfo

from dashboard.report.facts import Ev, back_to_back, window
from dashboard.report.build import Policy, SiteInput, build
from dashboard.report.data import site_inputs

ZONE = ZoneInfo("Asia/Jakarta")
FIRST, LAST = dt.date(2026, 11, 1), dt.date(2026, 11, 3)
T0 = dt.datetime(2026, 11, 1, tzinfo=ZONE).timestamp()
NOW = T0 + 10 * 86400


def at(day: int, hh: int, mm: int = 0) -> float:
    return T0 + (day - 1) * 86400 + hh * 3600 + mm * 60


def booking(start: float, end: float, title: str, ts: float | None = None) -> Ev:
    return Ev(start if ts is None else ts, "booking", "", {"meeting": title, "start": start, "end": end})


def not_ready(start: float, title: str) -> Ev:
    return Ev(start - 900, "not_ready", "", {"meeting": title, "start": start,
                                             "problems": ["battery_low:meeting:60"]})


def office() -> dict[str, list[Ev]]:
    rr1 = [
        booking(at(1, 9), at(1, 10), "A"),                        # 60 min
        booking(at(1, 9), at(1, 10), "A", ts=at(1, 9, 30)),       # the edge restarted: same one
        Ev(at(1, 10), "conversion_started", "pc1", {"pc": "pc1"}),
        not_ready(at(1, 10, 20), "B"), not_ready(at(1, 10, 20), "B"),   # once
        booking(at(1, 10, 20), at(1, 11), "B"),                   # 40 min, 20 min after A: < 30 min
        Ev(at(1, 10, 20), "conversion_ended", "pc1", {"pc": "pc1"}),    # 1200 s
        booking(at(1, 12), at(1, 13), "C"),                       # 60 min after B: not close
        booking(at(1, 13, 30), at(1, 14, 30), "D"),               # 30 min after C: not less
        Ev(at(1, 14, 30), "conversion_started", "pc1", {"pc": "pc1"}),
        Ev(at(1, 15, 10), "conversion_ended", "pc1", {"pc": "pc1"}),    # 2400 s: median 1800 s
    ]
    rr2 = [                                                       # no conversion ever: unknown
        not_ready(at(1, 9, 30), "E"),
        booking(at(1, 9, 30), at(1, 10, 30), "E"),                # 60 min
        booking(at(1, 10, 30), at(1, 11), "F"),                   # 30 min, right after E
    ]
    aula = [
        booking(at(1, 10, 25), at(1, 10, 35), "G"),               # 10 min: B, E and G at 10:25
        booking(at(3, 22), at(4, 2), "H"),                        # cut at 24:00: 120 min
        booking(at(4, 9), at(4, 10), "I"),                        # after the window
    ]
    return {"rr1": rr1, "rr2": rr2, "aula": aula}


def make(events: dict[str, list[Ev]]) -> dict:
    inputs = [SiteInput(site, site, iter(evs)) for site, evs in events.items()]
    return build(inputs, window(FIRST, LAST, ZONE, NOW), ZONE, Policy())


def test_office_schedule_equals_the_hand_computed_numbers() -> None:
    report = make(office())
    # 4 + 2 + 2 bookings; 220 + 90 + 130 = 440 min = 7.33 h; B, E, G at 10:25 -> 3 licences;
    # back to back: B only (rr2 has no conversion time to compare with); not ready: B and E
    assert report["schedule"] == {"booked": {"count": 8, "hours": 7.33}, "peak_booked": 3,
                                  "back_to_back": 1, "not_ready": 2}
    sites = report["sites"]
    assert sites["rr1"]["schedule"] == {"booked": {"count": 4, "hours": 3.67}, "peak_booked": 1,
                                        "back_to_back": 1, "not_ready": 1}
    assert sites["rr2"]["schedule"] == {"booked": {"count": 2, "hours": 1.5}, "peak_booked": 1,
                                        "back_to_back": None, "not_ready": 1}
    assert sites["aula"]["schedule"]["booked"] == {"count": 2, "hours": 2.17}


def test_not_ready_counts_booked_meetings_only() -> None:
    # "1 booked meeting; 3 booked meetings whose room was not ready": a meeting warned of, moved
    # 30 min later and warned again, and one warned of then cancelled. Only meetings that began
    # are booked meetings: 1 of 1.
    rr1 = [not_ready(at(1, 10), "Rapat"), not_ready(at(1, 10, 30), "Rapat"),
           booking(at(1, 10, 30), at(1, 11, 30), "Rapat"),
           not_ready(at(1, 14), "Dibatalkan")]
    schedule = make({"rr1": rr1})["schedule"]
    assert schedule["booked"]["count"] == 1 and schedule["not_ready"] == 1


def test_no_bookings_is_zero_not_an_error() -> None:
    assert make({"rr1": []})["schedule"] == {"booked": {"count": 0, "hours": 0.0}, "peak_booked": 0,
                                             "back_to_back": None, "not_ready": 0}


def test_back_to_back_counts_gaps_shorter_than_the_conversion() -> None:
    rooms = [(0, 100), (150, 200), (260, 300), (290, 400)]     # gaps 50, 60, -10 (overlap)
    assert back_to_back(rooms, 60.0) == 2 and back_to_back(rooms, None) is None


def test_the_dashboard_database_reader_hands_the_booking_details_in(tmp_path) -> None:
    """Through the reader of `siaga report`: the booking's detail must reach the numbers."""
    db = sqlite3.connect(tmp_path / "d.sqlite3")
    db.execute("CREATE TABLE events (site TEXT, seq INTEGER, ts REAL, kind TEXT, detail TEXT)")
    for seq, e in enumerate(office()["rr1"], 1):
        db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?)",
                   ("rr1", seq, e.ts, e.kind, json.dumps(e.detail)))
    db.commit()
    win = window(FIRST, LAST, ZONE, NOW)
    report = build(site_inputs(db, ["rr1"], win), win, ZONE, Policy())
    assert report["schedule"]["booked"] == {"count": 4, "hours": 3.67}
    assert report["schedule"]["not_ready"] == 1


def test_the_printed_report_shows_the_schedule_beside_the_meetings() -> None:
    import re

    from dashboard.report.render import html
    page = re.sub(r"<[^>]+>", " ", html(make(office()), "id", zone="Asia/Jakarta", wrapup_s=300))
    words = " ".join(page.split())
    assert "Jadwal (dari kalender ruangan)" in words
    assert "8 rapat terjadwal." in words and "7,3 jam rapat terjadwal." in words
    assert "3 rapat terjadwal paling banyak pada saat yang sama" in words
