"""`siaga report` as a user runs it: the real program on a dashboard database and on an edge journal.

JSON, CSV, HTML and PDF from the same hand-computed office as tests/test_report.py; bad input is
one line and exit 2, never a traceback.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from zoneinfo import ZoneInfo

from dashboard.store import history
from dashboard.store.database import SqliteDatabase as Database
from edge.journal import Journal
from protocol.messages import JournalEvent
from tests.report_support import contract, office_events
from tests.report_support import ROOT

RANGE = ["--from", "2026-11-01", "--to", "2026-11-03"]


def write_config(directory: Path, database: Path, language: str = "id") -> Path:
    path = directory / "siaga.toml"
    path.write_text(f'[site]\nid = "rr1"\nlanguage = "{language}"\n\n[[ups]]\nname = "meeting"\n\n'
                    f'[policy]\nwrapup_at_runtime_s = 300\n\n'
                    f'[dashboard]\ndatabase = "{database}"\n')
    return path


def fill_database(path: Path) -> None:
    """The office's events as the dashboard keeps them (every site, each with its own seq)."""
    db = Database(str(path))
    for site, events in office_events().items():
        for seq, e in enumerate(events, 1):
            db.add_event(JournalEvent(site=site, seq=seq, ts=e.ts, kind=e.kind, detail=e.detail))
    db.close()


def siaga(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "siaga", "report", *args], cwd=ROOT,
                          capture_output=True, timeout=60)


@pytest.fixture
def office(tmp_path):
    """(config, database) of the three-room office."""
    database = tmp_path / "dashboard.sqlite3"
    fill_database(database)
    return write_config(tmp_path, database), database


def test_json_from_the_dashboard_database_has_the_hand_computed_numbers(office):
    config, database = office
    before = database.stat().st_mtime_ns
    done = siaga("-c", str(config), *RANGE, "--format", "json")
    assert done.returncode == 0, done.stderr.decode()
    report = json.loads(done.stdout)
    assert contract(report)["outages"] == {"count": 5, "during_meetings": 2, "total_s": 8100.0,
                                           "longest_s": 3600.0, "p90_s": 3600.0, "shutdowns": 1,
                                           "bridged": 4}
    assert report["ups"]["runtime_needed_s"] == 3900.0
    assert report["meetings"]["peak_concurrent"] == 3
    assert report["conversion"]["delayed_meetings"] == 1
    assert sorted(report["sites"]) == ["aula", "rr1", "rr2"]
    assert database.stat().st_mtime_ns == before          # read-only: the file is untouched


def test_a_planners_copy_without_the_password_files_gives_the_report(office):
    """The Pi's config names password, token, CA and key files the planner's copy lacks; the
    report uses none of them, so it must not open them."""
    config, _ = office
    config.write_text(config.read_text().replace("[[ups]]\n", '[[ups]]\npassword_file = "nut.password"\n')
                      .replace("[dashboard]\n", '[dashboard]\napi_token_file = "api.token"\n')
                      + '[mqtt]\nusername = "siaga-edge"\npassword_file = "mqtt.password"\n'
                        'tls = true\nca_file = "siaga-ca.crt"\n[edge]\nkeys_dir = "keys"\n')
    done = siaga("-c", str(config), *RANGE, "--format", "json")
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["outages"]["count"] == 5
    config.write_text(config.read_text().replace("[policy]", "[polcy]"))   # a typo still stops it
    done = siaga("-c", str(config), *RANGE, "--format", "json")
    assert done.returncode == 2
    assert done.stderr.decode() == "siaga.toml: polcy: unknown section; did you mean [policy]?\n"


def test_from_after_today_says_so_and_names_no_to(office):
    """Only --from, after today (the site's day, Asia/Jakarta by default): the error is about
    --from, not an "--to <today>" the user never typed."""
    config, _ = office
    today = datetime.datetime.now(ZoneInfo("Asia/Jakarta")).date()
    first = today + datetime.timedelta(days=3)
    done = siaga("-c", str(config), "--from", first.isoformat())
    err = done.stderr.decode()
    assert done.returncode == 2 and done.stdout == b""
    days = {today, datetime.datetime.now(ZoneInfo("Asia/Jakarta")).date()}   # midnight passing
    assert err in {f"siaga report: empty range: --from {first} is after today ({d})\n" for d in days}


def test_sites_option_picks_rooms_and_prefixes(office):
    config, _ = office
    report = json.loads(siaga("-c", str(config), *RANGE, "--format", "json", "--sites", "rr*").stdout)
    assert sorted(report["sites"]) == ["rr1", "rr2"]
    assert report["outages"]["count"] == 4                # o1, o2 (rr1) and o3, o4 (rr2)
    assert report["meetings"]["peak_concurrent"] == 2     # A and C at 10:30


def test_one_edge_journal(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite3")
    for e in office_events()["rr1"]:
        journal.append("rr1", e.ts, e.kind, e.detail)
    journal.close()
    config = write_config(tmp_path, tmp_path / "none.sqlite3")
    done = siaga("-c", str(config), *RANGE, "--format", "json", "--journal", str(tmp_path / "journal.sqlite3"))
    assert done.returncode == 0, done.stderr.decode()
    report = json.loads(done.stdout)
    assert list(report["sites"]) == ["rr1"]
    assert report["ups"]["runtime_needed_s"] == 2700.0
    assert report["power_quality"]["known"] is False      # a journal has no voltage history


def test_voltage_history_kept_by_the_dashboard_gives_power_quality(office):
    """Minutes written by the dashboard's own history store (min/max/last per minute): a sag
    inside a minute that ended at 220 V still counts; the cut itself (0 V on battery) does not."""
    config, database = office
    db = Database(str(database))
    t0 = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta")).timestamp()
    for i, volts in enumerate([(220.0,), (225.0, 190.0, 220.0), (236.0, 221.0), (0.0,)]):
        minute = history.Minute("rr1", t0 + 60 * i)
        for v in volts:
            minute.add({"charge": 100.0, "runtime": 1500.0, "load": 30.0, "voltage": v})
        db.add_minute(minute)
    db.battery_span("rr1", start=t0 + 180, stop=t0 + 240)
    db.close()
    report = json.loads(siaga("-c", str(config), *RANGE, "--format", "json").stdout)
    quality = report["sites"]["rr1"]["power_quality"]
    assert quality == {"known": True, "min_v": 190.0, "max_v": 236.0, "sags": 1, "swells": 1}


def test_csv_has_one_row_per_room_and_the_total(office):
    config, _ = office
    done = siaga("-c", str(config), *RANGE, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(done.stdout.decode())))
    assert [r["site"] for r in rows] == ["aula", "rr1", "rr2", "*"]
    total = rows[-1]
    assert (total["outages.count"], total["outages.p90_s"], total["ups.runtime_needed_s"],
            total["meetings.peak_concurrent"]) == ("5", "3600.0", "3900.0", "3")


def test_html_says_each_number_with_its_rule_in_both_languages(office, tmp_path):
    config, _ = office
    out = tmp_path / "r.html"
    assert siaga("-c", str(config), *RANGE, "-o", str(out), "--rooms").returncode == 0
    page = out.read_text()
    assert "Laporan kebutuhan" in page and "1 Nov 2026" in page
    assert "Persentil ke-90" in page and "1 jam" in page          # p90 = 1 h, with its rule
    assert "3 lisensi host rapat" in page                          # the buy list
    assert page.count('class="page"') == 4                         # office + three rooms
    assert page.count('data-chart="by-hour"') == 4
    english = siaga("-c", str(config), *RANGE, "--lang", "en").stdout.decode()
    assert "Needs report" in english and "3 meeting host licences" in english


def test_pdf_opens_and_shows_the_title_and_key_numbers(office, tmp_path):
    config, _ = office
    out = tmp_path / "r.pdf"
    done = siaga("-c", str(config), *RANGE, "--format", "pdf", "-o", str(out))
    assert done.returncode == 0, done.stderr.decode()
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, check=True,
                          text=True).stdout
    assert "Laporan kebutuhan" in text
    assert "1 jam 5 mnt" in text                                   # runtime needed 3900 s
    assert "lisensi host rapat" in text
    pages = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert "A4" in pages


@pytest.mark.parametrize("args, says", [
    (["--sites", "nope"], 'unknown site "nope"'),
    (["--from", "2026-11-03", "--to", "2026-11-01"], "is before --from"),
    (["--from", "2999-01-01", "--to", "2999-01-02"], "empty range"),
    (["--from", "1 Nov"], "not a date"),
])
def test_bad_options_are_one_line_and_exit_2(office, args, says):
    config, _ = office
    done = siaga("-c", str(config), *args)
    err = done.stderr.decode()
    assert done.returncode == 2 and says in err
    assert err.count("\n") == 1 and "Traceback" not in err and done.stdout == b""


@pytest.mark.parametrize("make", ["missing", "text", "other-sqlite"])
def test_a_file_that_is_not_sias_database_is_one_line_and_exit_2(tmp_path, make):
    path = tmp_path / "db.sqlite3"
    if make == "text":
        path.write_text("hello, this is not a database\n" * 100)
    elif make == "other-sqlite":
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE events (id INTEGER, what TEXT)")
        conn.close()
    config = write_config(tmp_path, path)
    done = siaga("-c", str(config), "--format", "json")
    err = done.stderr.decode()
    assert done.returncode == 2 and str(path) in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("wanted, sites", [
    (None, ["aula", "kominfo-a", "rr1"]), ("rr1", ["rr1"]), ("kominfo-*,rr1", ["kominfo-a", "rr1"]),
    ("bappeda", ["rr1", "aula"]), ("rr1,bappeda", ["rr1", "aula"]),
])
def test_sites_are_ids_prefixes_or_groups(wanted, sites):
    from dashboard.report.data import choose_sites
    groups = {"bappeda": ["rr1", "aula"]}
    assert choose_sites(["aula", "kominfo-a", "rr1"], wanted, groups) == sites


def test_the_pdf_renderer_crashing_once_still_gives_the_pdf(tmp_path, monkeypatch):
    """A crash of the renderer's process (signal 11) is tried once more, then the PDF is there."""
    from dashboard.report import render
    marker = tmp_path / "crashed-once"
    once = ("import os, runpy, signal, sys\n"
            f"marker = {str(marker)!r}\n"
            "if not os.path.exists(marker):\n"
            "    open(marker, 'w').close(); os.kill(os.getpid(), signal.SIGSEGV)\n"
            "runpy.run_module('dashboard.report.pdf_child', run_name='__main__')\n")
    monkeypatch.setattr(render, "PDF_CHILD", [sys.executable, "-c", once])
    body = render.pdf("<html><body><h1>Laporan</h1></body></html>")
    assert marker.exists() and body.startswith(b"%PDF")


def test_the_pdf_renderer_crashing_every_time_is_one_line(monkeypatch):
    from dashboard.report import render
    from dashboard.report.data import ReportError
    monkeypatch.setattr(render, "PDF_CHILD", [sys.executable, "-c",
                                              "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"])
    with pytest.raises(ReportError, match=r"crashed 2 times \(signal 11\); --format html"):
        render.pdf("<html></html>")


def test_the_report_from_postgresql_is_the_report_from_sqlite(office, tmp_path, pg_url):
    """The same office in the dashboards' PostgreSQL (copied with --migrate-from): the same JSON."""
    config, database = office
    from siaga.cli import main
    (tmp_path / "pg").mkdir()
    pg_config = write_config(tmp_path / "pg", pg_url)
    assert main(["dashboard", "-c", str(pg_config), "--migrate-from", str(database)]) == 0
    sqlite_json = siaga("-c", str(config), *RANGE, "--format", "json")
    pg_json = siaga("-c", str(pg_config), *RANGE, "--format", "json")
    assert pg_json.returncode == 0, pg_json.stderr.decode()
    assert json.loads(pg_json.stdout) == json.loads(sqlite_json.stdout)
    done = siaga("-c", str(pg_config), *RANGE, "--sites", "nowhere")
    assert done.returncode == 2 and done.stderr.decode().startswith('siaga report: --sites: unknown site "nowhere"')


@pytest.mark.parametrize("args, first, last", [
    (["--to", "0001-01-10"], "0001-01-01", "0001-01-10"),     # its 90 days reach before year 1
    (["--from", "2026-11-01", "--to", "9999-12-31"], "2026-11-01", "9999-12-31"),
])
def test_dates_at_the_calendars_ends_give_a_report(office, args, first, last):
    """`--to 0001-01-10` ended in a traceback ("date value out of range"; a 500 on /api/report,
    found by the fuzzer), as did `--to 9999-12-31`: the days there are, cut at now as always."""
    config, _ = office
    done = siaga("-c", str(config), *args, "--format", "json")
    assert done.returncode == 0, done.stderr.decode()
    report = json.loads(done.stdout)
    assert (report["from"], report["to"]) == (first, last)
