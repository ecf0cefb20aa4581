"""The report over PostgreSQL adds up in SQL what the SQLite reader folds in Python: the same
events in a dashboard's SQLite file and in a real PostgreSQL must give the same report, byte for
byte (JSON), whatever the history: outages left open at the window's end, restores without a loss,
events whose ``ts`` runs backwards while their ``seq`` goes on, kinds the report does not know,
details that are not JSON or not objects, events without a ``pc``.
"""

from __future__ import annotations

import difflib
import json
import sqlite3
from pathlib import Path

import psycopg
import pytest
from hypothesis import given, settings, strategies as st

import tests.hypothesis_profiles  # noqa: F401  (the bounded profile)
from dashboard.report.cli import make_report, render_as
from dashboard.store.database import SqliteDatabase
from dashboard.store.postgres import PostgresDatabase
from protocol.config import load_config
from tests.report_support import FIRST, LAST, T0, ZONE

DAY = 86400
NOW = T0 + 10 * DAY
SITES = ("rr1", "rr2", "aula")
PCS = ("pc1", "pc2", None)
KINDS = ("meeting_started", "meeting_ended", "conversion_started", "conversion_ended",
         "pc_offline", "pc_off", "power_lost", "power_restored", "notice_sent", "wrapup_sent",
         "shutdown_sent", "low_battery", "runtime_estimated", "pc_ack", "ups_selftest",
         "replace_battery", "runtime_learned", "booking", "not_ready", "edge_started", "mystery")
BROKEN = ("{not json", '{"pc": "pc1"', "")           # PostgreSQL cannot cast these
ODD = ("[1, 2]", '"pc1"', "null", "17", '{"pc": 5}', '{"pc": null}', "{}")   # JSON, not as expected

numbers = st.one_of(st.none(), st.integers(-5, 4000), st.floats(0, 4000).map(lambda x: x + 0.0),
                    st.just("12"), st.booleans())
# Times: before the window, inside it (three days), after it; on a half-hour grid so that ties
# (an end and a start at one moment) and backward steps are common.
times = st.builds(lambda slot, frac: T0 + slot * 1800 + frac,
                  st.integers(-4, 3 * 48 + 4), st.sampled_from((0, 0, 0.25, 599.5)))


@st.composite
def details(draw, kind: str) -> str:
    """The detail text of one event of ``kind``."""
    if draw(st.integers(0, 30)) == 0:
        return draw(st.sampled_from(ODD))
    d: dict = {}
    pc = draw(st.sampled_from(PCS))
    if pc is not None:
        d["pc"] = pc
    if kind == "meeting_started":
        for key, values in (("app", ("Zoom", "Teams", 3)), ("by", ("microphone", "camera", "process"))):
            if draw(st.booleans()):
                d[key] = draw(st.sampled_from(values))
    elif kind == "power_lost":
        for key in ("load_pct", "runtime_s", "runtime_claimed_s", "charge_pct"):
            if draw(st.booleans()):
                d[key] = draw(numbers)
        if draw(st.booleans()):      # the UPSes feeding the PC: the report measures only those
            d["ups"] = draw(st.sampled_from((["meeting"], ["network", "meeting"], [], "meeting",
                                             [3, "network"], None, {"x": 1})))
    elif kind == "power_restored":
        if draw(st.integers(0, 4)):
            d["duration_s"] = draw(numbers)
    elif kind == "ups_selftest":
        d.update(ok=draw(st.booleans()), detail=draw(st.sampled_from(("passed", "failed", ""))))
    elif kind == "runtime_learned":
        d.update(k=draw(st.sampled_from((0.002, 0.01, 0))), exponent=1.1, low_pct=20,
                 load_pct=draw(st.sampled_from((30, 40.5, 0))), rate_pct_per_min=2.5,
                 discharges=draw(st.integers(1, 4)), load_w=draw(st.sampled_from((None, 120))),
                 ups=draw(st.sampled_from(("meeting", "network", 5))))
    elif kind in ("booking", "not_ready"):
        start = draw(times)
        d.update(start=start, end=start + draw(st.sampled_from((1800, 3600, -60))),
                 meeting=draw(st.sampled_from(("Rapat", "Sidang"))))
    return json.dumps(d)


@st.composite
def histories(draw) -> dict[str, list[tuple[float, str, str]]]:
    """Each site's events in seq order: (ts, kind, detail text)."""
    out = {}
    for site in draw(st.lists(st.sampled_from(SITES), min_size=1, max_size=3, unique=True)):
        events = []
        for _ in range(draw(st.integers(0, 30))):
            kind = draw(st.sampled_from(KINDS))
            events.append((draw(times), kind, draw(details(kind))))
            if kind == "pc_offline" and draw(st.booleans()):
                events[-1:] = draw(restart(events[-1]))
        out[site] = events
    return out


@st.composite
def restart(draw, offline: tuple[float, str, str]) -> list[tuple[float, str, str]]:
    """A PC going offline as when its agent restarts mid-meeting: maybe a meeting before it;
    maybe meeting_ended and pc_off (Siaga shut it down) after it; then a meeting started
    around facts.RESTART_GAP_S later (the same meeting when the rule says so)."""
    ts, _, detail = offline
    value = json.loads(detail) if detail.startswith("{") else {}
    pc = {"pc": value["pc"]} if "pc" in value else {}

    app = {"app": draw(st.sampled_from(("Zoom", "Teams")))} if draw(st.integers(0, 3)) else {}

    def started() -> str:     # mostly the same app before and after
        other = {"app": "Teams"} if draw(st.integers(0, 4)) == 0 else app
        by = {"by": draw(st.sampled_from(("microphone", "process")))} if draw(st.booleans()) else {}
        return json.dumps({**pc, **other, **by})

    out = [(ts - 600, "meeting_started", started())] if draw(st.integers(0, 3)) else []
    out.append(offline)
    for kind in ("meeting_ended", "pc_off", "pc_online"):
        if draw(st.booleans()):
            out.append((ts, kind, json.dumps(pc)))
    gap = draw(st.sampled_from((0, 0.25, 60, 179.75, 180, 180.25, -5)))
    out.append((ts + gap, "meeting_started", started()))
    return out


samples = st.lists(st.tuples(st.integers(0, 3 * 48 - 1), st.one_of(st.none(), st.floats(5, 90)),
                             st.sampled_from((180.0, 215.5, 240.0))), max_size=6, unique_by=lambda s: s[0])


def write_sqlite(path: Path, history: dict, minutes: list) -> None:
    SqliteDatabase(str(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM events")
        conn.execute("DELETE FROM minutes")
        _fill(conn, "?", history, minutes)
    conn.close()


def write_postgres(url: str, history: dict, minutes: list) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("TRUNCATE events, minutes")
        _fill(conn, "%s", history, minutes)


def _fill(conn, mark: str, history: dict, minutes: list) -> None:
    rows = [(site, seq, ts, kind, detail) for site, events in history.items()
            for seq, (ts, kind, detail) in enumerate(events, 1)]
    for row in rows:
        conn.execute(f"INSERT INTO events (site, seq, ts, kind, detail) VALUES "
                     f"({mark}, {mark}, {mark}, {mark}, {mark})", row)
    site = next(iter(history))
    for slot, load, volts in minutes:
        conn.execute(f"INSERT INTO minutes (site, start, load_last, voltage_min, voltage_max) VALUES "
                     f"({mark}, {mark}, {mark}, {mark}, {mark})", (site, T0 + slot * 1800 + 60, load, volts, volts))


def config(directory: Path, database: str):
    path = directory / "siaga.toml"
    path.write_text(f'[site]\nid = "rr1"\ntimezone = "{ZONE.key}"\n\n[[ups]]\nname = "meeting"\n\n'
                    f'[dashboard]\ndatabase = "{database}"\n')
    return load_config(str(path), read_files=False)


def report_bytes(directory: Path, database: str) -> bytes:
    cfg = config(directory, database)
    report, zone = make_report(cfg, database, FIRST.isoformat(), LAST.isoformat(), None, now=NOW)
    return render_as(report, "json", "en", zone, cfg, False)


@pytest.fixture(scope="module")
def both(postgres_server, tmp_path_factory):
    """(directory, SQLite path, PostgreSQL URL) reused by every example (emptied each time)."""
    directory = tmp_path_factory.mktemp("same-report")
    url = postgres_server.new_database("same")
    PostgresDatabase(url).close()
    return directory, directory / "dashboard.sqlite3", url


def same_report(both, history: dict, minutes: list = ()) -> bytes:
    directory, path, url = both
    write_sqlite(path, history, list(minutes))
    write_postgres(url, history, list(minutes))
    from_sqlite = report_bytes(directory, str(path))
    from_postgres = report_bytes(directory, url)
    assert from_postgres == from_sqlite, "".join(difflib.unified_diff(
        from_sqlite.decode().splitlines(True), from_postgres.decode().splitlines(True), n=4))
    return from_sqlite


@given(history=histories(), minutes=samples)
def test_postgresql_and_sqlite_give_the_same_report(both, history, minutes):
    same_report(both, history, minutes)


@settings(max_examples=10)
@given(history=histories(), broken=st.sampled_from(BROKEN))
def test_a_detail_that_is_not_json_gives_the_same_report_too(both, history, broken):
    site = next(iter(history))
    history[site].append((T0 + 3600, "meeting_started", broken))
    same_report(both, history)


def at(hours: float) -> float:
    return T0 + hours * 3600


def test_the_edge_cases_by_hand(both):
    """Each case the brief names, in one office; the numbers a planner reads are checked too."""
    pc = lambda name, **d: json.dumps({"pc": name, **d})   # noqa: E731
    history = {
        "rr1": [
            (at(9), "meeting_started", pc("pc1", app="Zoom", by="microphone")),
            (at(8), "power_restored", json.dumps({"duration_s": 60})),   # no loss before it; ts backwards
            (at(10), "power_lost", json.dumps({"load_pct": 40, "runtime_s": 1800})),
            (at(10.5), "mystery", "{}"),                                  # a kind nobody knows
            (at(10.2), "notice_sent", "{not json"),                       # not JSON: read as {}
            (at(11), "meeting_ended", pc("pc1")),
            (at(71), "power_lost", json.dumps({"load_pct": 50})),         # open at the window's end
        ],
        "rr2": [
            (at(12), "meeting_started", "{}"),                            # no pc
            (at(13), "meeting_ended", json.dumps({"pc": 7})),             # no name: no pc, ends it
            (at(14), "meeting_ended", "{}"),
        ],
    }
    report = json.loads(same_report(both, history))
    rr1, rr2 = report["sites"]["rr1"], report["sites"]["rr2"]
    assert rr1["outages"]["count"] == 2 and rr1["outages"]["during_meetings"] == 1
    assert rr1["outages"]["longest_s"] == 3600.0          # the open one, cut at midnight of day 3
    assert rr1["meetings"]["count"] == 1 and rr1["meetings"]["peak_from"] == "live"
    assert rr2["meetings"]["count"] == 1 and rr2["meetings"]["hours"] == 1.0
