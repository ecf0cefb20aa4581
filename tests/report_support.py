"""A three-room office's journal, by hand, with the numbers the report must give."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

from dashboard.report.build import Policy, SiteInput, build
from dashboard.report.facts import Ev, window

ZONE = ZoneInfo("Asia/Jakarta")
FIRST, LAST = dt.date(2026, 11, 1), dt.date(2026, 11, 3)
T0 = dt.datetime(2026, 11, 1, tzinfo=ZONE).timestamp()
NOW = T0 + 10 * 86400


def at(day: int, hh: int, mm: int = 0, ss: int = 0) -> float:
    """Local time on day ``day`` (1 = 1 Nov) as Unix seconds."""
    return T0 + (day - 1) * 86400 + hh * 3600 + mm * 60 + ss


def ev(ts: float, kind: str, pc: str = "", **detail) -> Ev:
    return Ev(ts, kind, pc, {**detail, **({"pc": pc} if pc else {})})


def office_events() -> dict[str, list[Ev]]:
    rr1 = [
        ev(at(1, 0) - 3600, "power_lost", load_pct=30),            # before the window: not counted
        ev(at(1, 0, 10), "power_restored", duration_s=4200),       # its restore alone: ignored
        ev(at(1, 9), "meeting_started", "pc1"),                    # A 09:00-11:00
        ev(at(1, 10), "power_lost", load_pct=40.0, runtime_s=1800, charge_pct=100),  # o1
        ev(at(1, 10, 0, 5), "notice_sent", pcs=["pc1"]),
        ev(at(1, 10, 10), "power_restored", duration_s=600.0),     # o1: 600 s, during A
        ev(at(1, 11), "meeting_ended", "pc1"),
        ev(at(1, 11), "conversion_started", "pc1"),                # 11:00-11:30
        ev(at(1, 11, 15), "meeting_started", "pc1"),               # B 11:15-12:15: delayed
        ev(at(1, 11, 30), "conversion_ended", "pc1"),
        ev(at(1, 12, 15), "meeting_ended", "pc1"),
        ev(at(1, 23, 50), "power_lost", load_pct=20.0, runtime_s=2000),  # o2 across midnight
        ev(at(2, 0, 20), "shutdown_sent", pcs=["pc1"]),
        ev(at(2, 0, 30), "power_restored", duration_s=2400.0),     # o2: 2400 s, a shutdown
    ]
    rr2 = [
        ev(at(1, 10, 30), "meeting_started", "pc2"),               # C 10:30-11:30
        ev(at(1, 11, 30), "meeting_ended", "pc2"),
        ev(at(1, 15), "power_lost"),                               # o3: its restore is missing
        ev(at(1, 15, 0, 5), "notice_sent", pcs=["pc2"]),
        ev(at(1, 15, 20), "wrapup_sent", pcs=["pc2"]),             # o3 ends here: 1200 s
        ev(at(1, 16), "power_lost"),                               # o4
        ev(at(1, 16, 5), "power_restored", duration_s=300),        # o4: 300 s
    ]
    aula = [
        ev(at(1, 10, 45), "meeting_started", "pc3"),               # D 10:45-11:20
        ev(at(1, 11, 20), "meeting_ended", "pc3"),
        ev(at(3, 22), "meeting_started", "pc3"),                   # E 22:00-(cut at 24:00)
        ev(at(3, 23), "power_lost", load_pct=50.0),                # o5, cut at 24:00: 3600 s
        ev(at(3, 23, 0, 5), "wrapup_sent", pcs=["pc3"]),
        ev(at(4, 0, 30), "power_restored", duration_s=5400),       # after the window
        ev(at(4, 1), "meeting_started", "pc3"),                    # after the window
    ]
    return {"rr1": rr1, "rr2": rr2, "aula": aula}


def make(events: dict[str, list[Ev]], **states) -> dict:
    win = window(FIRST, LAST, ZONE, NOW)
    inputs = [SiteInput(site, site, iter(evs), states.get(site)) for site, evs in events.items()]
    return build(inputs, win, ZONE, Policy(wrapup_at_runtime_s=300))


def contract(part: dict) -> dict:
    """Only the contract's keys of one part (office or site)."""
    keys = {"outages": ("count", "during_meetings", "total_s", "longest_s", "p90_s", "shutdowns",
                        "bridged"),
            "ups": ("runtime_needed_s",), "meetings": ("count", "hours", "peak_concurrent"),
            "conversion": ("count", "median_s", "delayed_meetings")}
    return {s: {k: part[s][k] for k in ks} for s, ks in keys.items()}


ROOT = Path(__file__).resolve().parent.parent


def one_room_dashboard(directory: Path, broker_port: int, database: str = "") -> tuple[subprocess.Popen, str]:
    """A running `siaga dashboard` (process, URL) whose database (the SQLite file in
    ``directory``, or ``database``) holds one room: rr1 of the office above."""
    from dashboard.store.store import Store
    from protocol.messages import JournalEvent
    from siaga.servers import free_port
    from tests.dashboard_support import snapshot, start_dashboard, write_config
    port = free_port()
    config = write_config(directory, mqtt_port=broker_port, listen=f"127.0.0.1:{port}", database=database)
    store = Store(database or str(directory / "dashboard.sqlite3"))
    store.put_state(snapshot("rr1", name="Bappeda - Ruang Rapat 1", runtime_s=1500, load=35.0))
    for seq, e in enumerate(office_events()["rr1"], 1):
        store.put_event(JournalEvent(site="rr1", seq=seq, ts=e.ts, kind=e.kind, detail=e.detail))
    store.close()
    url = f"http://127.0.0.1:{port}"
    return start_dashboard(config, url, directory / "dashboard.log"), url


def three_sources(directory: Path, pg_url: str, events: dict[str, list[Ev]],
                  latest: dict[str, dict] | None = None, minutes: list[tuple] = (),
                  battery: list[tuple] = ()) -> dict[str, dict]:
    """The report, as its JSON reads, of the same events from each source a planner may use:
    an edge journal (``--journal``), the dashboard's SQLite file and the dashboard's PostgreSQL
    (``pg_url``, an empty database). The dashboard's two also hold the rooms' last states
    (``latest``: site -> state) and history: ``minutes`` (site, start, load %, lowest V,
    highest V, runtime s) and ``battery`` spans (site, start, stop)."""
    import json
    import sqlite3

    import psycopg

    from dashboard.report.cli import make_report, render_as
    from dashboard.store.database import SqliteDatabase
    from dashboard.store.postgres import PostgresDatabase
    from edge.journal import Journal
    from protocol.config import load_config
    journal = Journal(directory / "journal.sqlite3")
    rows = []
    for site, evs in events.items():
        for e in evs:
            kept = journal.append(site, e.ts, e.kind, e.detail)
            rows.append((site, kept.seq, kept.ts, kept.kind, json.dumps(kept.detail)))
    journal.close()
    database = directory / "dashboard.sqlite3"
    SqliteDatabase(str(database)).close()
    PostgresDatabase(pg_url).close()
    with sqlite3.connect(database) as lite, psycopg.connect(pg_url) as pg:
        for conn, m in ((lite, "?"), (pg, "%s")):
            for row in rows:
                conn.execute(f"INSERT INTO events (site, seq, ts, kind, detail) "
                             f"VALUES ({m}, {m}, {m}, {m}, {m})", row)
            for site, state in (latest or {}).items():
                conn.execute(f"INSERT INTO latest (site, state) VALUES ({m}, {m})", (site, json.dumps(state)))
            for row in minutes:
                conn.execute(f"INSERT INTO minutes (site, start, load_last, voltage_min, voltage_max, "
                             f"runtime_last) VALUES ({m}, {m}, {m}, {m}, {m}, {m})", row)
            for row in battery:
                conn.execute(f"INSERT INTO battery (site, start, stop) VALUES ({m}, {m}, {m})", row)
    lite.close()
    config = directory / "siaga.toml"
    config.write_text(f'[site]\nid = "rr1"\ntimezone = "{ZONE.key}"\n\n[[ups]]\nname = "meeting"\n\n'
                      f'[policy]\nwrapup_at_runtime_s = 300\n\n[dashboard]\ndatabase = "{database}"\n')
    cfg = load_config(str(config), read_files=False)
    out = {}
    for name, source in (("journal", directory / "journal.sqlite3"), ("sqlite", database),
                         ("postgres", pg_url)):
        report, zone = make_report(cfg, str(source), FIRST.isoformat(), LAST.isoformat(), None, now=NOW)
        out[name] = json.loads(render_as(report, "json", "en", zone, cfg, False))
    return out
