"""The recordings disk's daily use (kept across restarts) and conversion seen by its CPU."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from agent.conversion import QUIET_INTERVALS, ConverterWatch, next_quiet
from agent.disk_history import DiskHistory, gb_per_day
from siaga.servers import stop_process
from tests.agent_helpers import busy_program, fake_program

DAY = dt.date(2026, 11, 30)


@pytest.mark.parametrize("days, expected", [
    ({}, None),
    ({"2026-11-30": 100.0}, None),                                   # one day: not yet
    ({"2026-11-30": 100.0, "2026-12-01": 104.0}, 4.0),
    ({"2026-11-30": 100.0, "2026-12-03": 109.0}, 3.0),              # days missing between
    # recordings moved away on the 2nd: that day is no growth, not minus 20 GB
    ({"2026-11-30": 100.0, "2026-12-01": 104.0, "2026-12-02": 84.0, "2026-12-03": 90.0}, 3.33),
])
def test_growth_per_day(days, expected):
    assert gb_per_day(days) == expected


def test_history_survives_a_restart_and_keeps_14_days(tmp_path):
    path = tmp_path / "agent-disk.json"
    history = DiskHistory(path)
    assert history.record(DAY, 100.0) is None
    assert history.record(DAY, 101.0) is None              # same day: still one day known
    restarted = DiskHistory(path)
    assert restarted.record(DAY + dt.timedelta(days=1), 103.0) == 2.0
    for n in range(2, 30):
        restarted.record(DAY + dt.timedelta(days=n), 103.0 + n)
    kept = json.loads(path.read_text())["days"]
    assert len(kept) == 15 and min(kept) == (DAY + dt.timedelta(days=15)).isoformat()
    assert gb_per_day(kept) == 1.0


def test_a_damaged_history_starts_again(tmp_path, caplog):
    path = tmp_path / "agent-disk.json"
    path.write_text("{not json")
    assert DiskHistory(path).record(DAY, 5.0) is None
    assert "unreadable" in caplog.text and json.loads(path.read_text())["days"] == {"2026-11-30": 5.0}


@pytest.mark.parametrize("running, busy, quiet, expected", [
    (False, False, 0, QUIET_INTERVALS),
    (True, True, 2, 0),
    (True, False, 0, 1),
    (True, False, QUIET_INTERVALS - 1, QUIET_INTERVALS),
])
def test_quiet_intervals(running, busy, quiet, expected):
    assert next_quiet(running, busy, quiet) == expected


def test_an_idle_converter_stops_counting_a_working_one_does_not(tmp_path):
    idle, busy = fake_program(tmp_path, "coderidle"), busy_program(tmp_path, "coderbusy")
    try:
        idle_watch, busy_watch = ConverterWatch(), ConverterWatch()
        seen = []
        for _ in range(QUIET_INTERVALS + 2):
            seen.append((idle_watch.converting({idle.pid: "coderidle"}),
                         busy_watch.converting({busy.pid: "coderbusy"})))
            time.sleep(0.5)
        assert seen[0] == (True, True)                       # a converter that just started works
        assert seen[-1] == (False, True)
        assert ConverterWatch().converting({}) is False
    finally:
        stop_process(idle)
        stop_process(busy)


def test_the_status_carries_the_disk_use_per_day(tmp_path):
    from agent.captures import NoCaptures
    from agent.telemetry import Telemetry
    from protocol.config import AgentSection

    path = tmp_path / "agent-disk.json"
    section = AgentSection(pc_id="pc1", recordings_dir=str(tmp_path))
    fresh = Telemetry("pc1", section, NoCaptures("test"), DiskHistory(path))
    assert fresh.collect().disk_used_gb_day is None          # one day known: null
    status = fresh.collect()
    used = status.disk_total_gb - status.disk_free_gb
    yesterday = (dt.date.fromtimestamp(status.ts) - dt.timedelta(days=1)).isoformat()
    path.write_text(json.dumps({"days": {yesterday: round(used - 2.5, 1)}}))
    status = Telemetry("pc1", section, NoCaptures("test"), DiskHistory(path)).collect()
    assert status.disk_used_gb_day == pytest.approx(2.5, abs=0.2)


def test_days_read_on_another_disk_start_the_history_again(tmp_path):
    # Yesterday on the 2 GB recordings drive, today on the 252 GB system disk (the drive was not
    # mounted yet): the two made "176.8 GB a day", and the report's days left from it.
    history = DiskHistory(tmp_path / "agent-disk.json")
    history.record(DAY, 0.2, disk=41)
    assert history.record(DAY + dt.timedelta(days=1), 177.0, disk=7) is None
    restarted = DiskHistory(tmp_path / "agent-disk.json")
    assert restarted.record(DAY + dt.timedelta(days=2), 179.0, disk=7) == 2.0
    assert restarted.record(DAY + dt.timedelta(days=3), 181.0, disk=7) == 2.0


def test_a_recordings_folder_made_after_the_start_is_watched_once_there(tmp_path):
    from agent.captures import NoCaptures
    from agent.telemetry import Telemetry
    from protocol.config import AgentSection

    folder = tmp_path / "REKAMAN" / "Zoom"
    telemetry = Telemetry("pc1", AgentSection(pc_id="pc1", recordings_dir=str(folder)),
                          NoCaptures("test"), DiskHistory(tmp_path / "agent-disk.json"))
    telemetry.collect()
    assert telemetry.disk == tmp_path                   # the nearest folder there is, for now
    folder.mkdir(parents=True)                           # e.g. its drive mounted after the start
    assert telemetry.collect().disk_total_gb is not None
    assert telemetry.disk == folder
