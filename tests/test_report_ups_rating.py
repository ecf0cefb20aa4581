"""The needs report's load in watts and battery age, from a real UPS to the printed page: real
upsd + dummy-ups (ups.realpower.nominal 600, battery.date 2022/03/01), the edge's snapshot and
events through a real mosquitto into the dashboard's database, then `siaga report`."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dashboard.report.data import latest_state
from dashboard.report.texts import battery_age
from dashboard.store.feed import Feed
from dashboard.store.store import Store
from protocol.config import load_config
from siaga.servers import Upsd
from tests.edge_support import write_config
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
RATED = {"ups.realpower.nominal": "600", "battery.date": "2022/03/01", "ups.load": "30"}


@pytest.fixture
def rated_upsd(tmp_path: Path, request: pytest.FixtureRequest) -> Upsd:
    """A real upsd whose dummy-ups UPS says it is rated 600 W with a battery of 1 March 2022."""
    server = Upsd(tmp_path / "nut")
    request.addfinalizer(server.stop)
    return server.start(values=RATED)


def report(config: Path, *args: str) -> str:
    """`siaga report` for yesterday and today; its output (it must succeed).

    Days of the site's zone, as the report counts them (not this machine's): the outage just
    made is inside at any hour, in any TZ, also when the site's midnight passed since."""
    today = dt.datetime.now(ZoneInfo(load_config(config).site.timezone)).date()
    first = (today - dt.timedelta(days=1)).isoformat()
    done = subprocess.run([sys.executable, "-m", "siaga", "report", "-c", str(config),
                           "--from", first, "--to", today.isoformat(), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_rating_and_battery_date_reach_the_report(tmp_path, rated_upsd, broker, mock_factory,
                                                 edge_in_process):  # noqa: F811
    """An outage at 30 % load on a 600 W UPS: load_w 180; battery_date 2022-03-01, and its age
    in words on the HTML page in both languages."""
    config_path = write_config(tmp_path, rated_upsd, broker)
    database = tmp_path / "dashboard.sqlite3"
    config_path.write_text(config_path.read_text() + f'[dashboard]\ndatabase = "{database}"\n')
    config = load_config(config_path)
    store = Store(config.dashboard.database)
    feed = Feed(config, store)
    feed.start()
    try:
        edge_in_process(config_path)
        rated_upsd.set("meeting", ups_status="OB DISCHRG")
        wait_until(lambda: _seen(database, "power_lost"), timeout=15, what="power_lost in the database")
        rated_upsd.set("meeting", ups_status="OL")
        wait_until(lambda: _seen(database, "power_restored"), timeout=15,
                   what="power_restored in the database")
    finally:
        feed.stop()
        store.close()
    ups = json.loads(report(config_path, "--format", "json"))["sites"]["rr1"]["ups"]
    assert ups["load_w"] == 180 and ups["battery_date"] == "2022-03-01"
    age = _age_of(dt.date(2022, 3, 1), ZoneInfo(config.site.timezone))
    page_id = report(config_path, "--rooms")
    assert f"1 Mar 2022 (umur {age[0]} tahun" in page_id and "180 W" in page_id
    page_en = report(config_path, "--rooms", "--lang", "en")
    assert f"1 Mar 2022 ({age[0]} years" in page_en and " old)" in page_en
    assert "the UPS battery was fitted, and its age today" in page_en


def _seen(database: Path, kind: str) -> bool:
    """The dashboard's database holds an event of ``kind`` and the latest state its UPS rating."""
    import sqlite3
    with sqlite3.connect(database) as conn:
        kinds = {row[0] for row in conn.execute("SELECT kind FROM events")}
        state = latest_state(conn, "rr1") or {}
    ups = (state.get("ups") or [{}])[0]
    return kind in kinds and ups.get("realpower_nominal") == 600 and ups.get("battery_date") == "2022-03-01"


def _age_of(day: dt.date, zone: ZoneInfo) -> tuple[int, int]:
    """(whole years, months) from ``day`` to today in the site's ``zone`` (as the report counts)."""
    today = dt.datetime.now(zone).date()
    months = (today.year - day.year) * 12 + today.month - day.month - (today.day < day.day)
    return divmod(months, 12)


@pytest.mark.parametrize("fitted, lang, words", [
    ("2022-03-01", "id", "1 Mar 2022 (umur 4 tahun 8 bulan)"),
    ("2022-03-01", "en", "1 Mar 2022 (4 years 8 months old)"),
    ("2025-11-30", "en", "30 Nov 2025 (1 year old)"),
    ("2025-12-01", "id", "1 Des 2025 (umur 11 bulan)"),
    ("2026-10-30", "en", "30 Oct 2026 (1 month old)"),
    ("2026-11-15", "id", "15 Nov 2026 (umur kurang dari sebulan)"),
    ("2026-11-15", "en", "15 Nov 2026 (less than a month old)"),
    ("2024/01/15", "en", "2024/01/15"),          # not ISO (an old state): as it is
])
def test_battery_age_in_words(fitted, lang, words):
    assert battery_age(fitted, lang, today=dt.date(2026, 11, 30)) == words

