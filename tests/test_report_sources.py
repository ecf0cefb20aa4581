"""The same facts from each source a planner may report from: an edge journal, the dashboard's
SQLite file and the dashboard's PostgreSQL. A verdict must not depend on which one it came from,
and what only the dashboard has (its last state, its voltage history) must not break a report."""

from __future__ import annotations

from tests.report_support import at, ev, three_sources

SOURCES = ("journal", "sqlite", "postgres")


def test_a_room_whose_only_voltage_is_the_cut_does_not_break_the_office(tmp_path, pg_url):
    """Two rooms; rr1's only history bucket is the minute its power failed (0 V to 221 V, the
    battery span opening 30 s into it): it has a highest voltage and no lowest. The office's
    lowest was min() over both rooms' lowest, None among them: TypeError, `siaga report` exit 1
    and a failed /report page. The office's lowest is now rr2's, the highest the higher one."""
    events = {"rr1": [ev(at(2, 10, 0, 30), "power_lost", load_pct=40),
                      ev(at(2, 10, 10, 30), "power_restored", duration_s=600.0)],
              "rr2": [ev(at(2, 9), "meeting_started", "pc2"), ev(at(2, 10), "meeting_ended", "pc2")]}
    minutes = [("rr1", at(2, 10), 30.0, 0.0, 221.0, 1500.0), ("rr2", at(2, 9), 30.0, 212.0, 223.0, 2000.0)]
    reports = three_sources(tmp_path, pg_url, events, minutes=minutes,
                            battery=[("rr1", at(2, 10, 0, 30), at(2, 10, 10, 30))])
    for name in ("sqlite", "postgres"):
        office, rooms = reports[name]["power_quality"], reports[name]["sites"]
        assert rooms["rr1"]["power_quality"]["min_v"] is None, name
        assert (office["known"], office["min_v"], office["max_v"]) == (True, 212.0, 223.0), name
    assert reports["journal"]["power_quality"]["known"] is False     # a journal has no history

