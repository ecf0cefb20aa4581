"""The journal on a disk that is really full and on a file that is really read-only: the
caller is never failed, seq stays contiguous, held events reach the file when it can be written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from edge.journal import Journal
from tests.faults_disk import JournalDisk, make_read_only, make_writable

SITE = "rr1"


def on_disk(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT seq, kind FROM events ORDER BY seq").fetchall()


@pytest.fixture
def disk(tmp_path: Path):
    d = JournalDisk(tmp_path / "disk")
    yield d
    d.close()


def test_a_full_disk_holds_events_then_writes_them_in_order(disk, caplog):
    journal = Journal(disk.path)
    try:
        journal.append(SITE, 1.0, "edge_started", {})
        disk.fill()
        held = [journal.append(SITE, 2.0 + i, "power_lost", {"n": i}) for i in range(300)]
        assert [e.seq for e in held] == list(range(2, 302))
        assert journal.last_seq() == 301 and len(on_disk(disk.path)) == 1
        errors = [r for r in caplog.records if "cannot write the journal" in r.message]
        assert len(errors) == 1 and "full" in errors[0].message  # once, and it says why
        disk.free()
        assert journal.flush() == 0
        rows = on_disk(disk.path)
        assert [s for s, _ in rows] == list(range(1, 302))
        assert journal.append(SITE, 9.0, "power_restored", {}).seq == 302
    finally:
        disk.free()
        journal.close()


def test_a_read_only_file_holds_events_and_close_says_what_is_lost(tmp_path, caplog):
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path)
    journal.append(SITE, 1.0, "edge_started", {})
    make_read_only(path)
    try:
        assert journal.append(SITE, 2.0, "power_lost", {}).seq == 2
        assert journal.append(SITE, 3.0, "notice_sent", {}).seq == 3
        assert journal.flush() == 2
    finally:
        make_writable(path)
    assert journal.append(SITE, 4.0, "power_restored", {}).seq == 4
    assert [k for _, k in on_disk(path)] == ["edge_started", "power_lost", "notice_sent",
                                             "power_restored"]
    make_read_only(path)
    try:
        journal.append(SITE, 5.0, "edge_stopped", {})
        journal.close()
    finally:
        make_writable(path)
    assert any("1 events (seq 5-5) are lost" in r.message for r in caplog.records)
