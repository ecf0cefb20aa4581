"""The journal: seq strictly +1 across restarts, the open-outage query, nothing lost on SIGKILL."""

import signal
import sqlite3
import subprocess
import sys
import threading
import textwrap
from pathlib import Path

import pytest

from edge.journal import Journal
from protocol.messages import JournalEvent, decode, to_json

SITE = "bappeda-rr1"


@pytest.fixture
def journal(tmp_path: Path):
    j = Journal(tmp_path / "journal.sqlite3")
    yield j
    j.close()


def kinds(events: list[JournalEvent]) -> list[str]:
    return [e.kind for e in events]


def test_seq_continues_across_reopen_and_dir_is_created(tmp_path: Path):
    path = tmp_path / "var" / "lib" / "siaga" / "journal.sqlite3"
    j = Journal(path)
    first = j.append(SITE, 100.0, "edge_started", {})
    second = j.append(SITE, 101.5, "power_lost", {"ups": "meeting", "runtime_s": 1500})
    j.close()
    j = Journal(path)
    third = j.append(SITE, 200.0, "edge_started", {"resumed_outage": True})
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert second == JournalEvent(site=SITE, seq=2, ts=101.5, kind="power_lost",
                                  detail={"runtime_s": 1500, "ups": "meeting"})
    assert j.last_seq() == 3
    j.close()
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_events_newest_first_with_paging(journal):
    for i in range(10):
        journal.append(SITE, float(i), f"k{i}", {"i": i})
    assert [e.seq for e in journal.events()] == list(range(10, 0, -1))
    assert [e.seq for e in journal.events(limit=3)] == [10, 9, 8]
    assert [e.seq for e in journal.events(limit=3, before=8)] == [7, 6, 5]
    assert journal.events(limit=3, before=1) == []
    assert journal.events(limit=0) == [] and journal.events(limit=-5) == []


def test_event_round_trips_as_contract_payload(journal):
    event = journal.append(SITE, 5.0, "notice_sent", {"pc": "meeting-pc", "text": "Listrik padam"})
    assert decode(JournalEvent, to_json(event)) == event
    assert journal.events(1) == [event]


def test_odd_detail_values_are_stored_not_raised(journal):
    event = journal.append(SITE, 1.0, "command", {"path": Path("/x"), "n": 1})
    assert event.detail == {"path": "/x", "n": 1}


@pytest.mark.parametrize("history, expected", [
    ([], []),
    (["edge_started", "pc_online"], []),
    (["power_lost", "notice_sent"], ["power_lost", "notice_sent"]),
    (["power_lost", "notice_sent", "power_restored"], []),
    (["power_lost", "power_restored", "pc_offline"], []),
    (["power_lost", "power_restored", "power_lost", "notice_sent", "edge_started"],
     ["power_lost", "notice_sent", "edge_started"]),
    (["power_restored", "power_lost"], ["power_lost"]),
])
def test_open_outage_query(journal, history, expected):
    for i, kind in enumerate(history):
        journal.append(SITE, float(i), kind, {})
    found = journal.since_last("power_lost", "power_restored")
    assert kinds(found) == expected
    assert [e.seq for e in found] == sorted(e.seq for e in found)


def test_one_writer_many_readers_in_threads(journal):
    errors = []

    def reader():
        try:
            for _ in range(200):
                seqs = [e.seq for e in journal.events(limit=20)]
                assert seqs == sorted(seqs, reverse=True)
                journal.since_last("power_lost", "power_restored")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(300):
        journal.append(SITE, float(i), "power_lost" if i % 2 else "power_restored", {})
    for t in threads:
        t.join()
    assert errors == []
    assert [e.seq for e in journal.events(limit=300)] == list(range(300, 0, -1))


CHILD = textwrap.dedent("""
    import os, signal, sys
    from edge.journal import Journal
    j = Journal(sys.argv[1])
    for i in range(int(sys.argv[2])):
        event = j.append("bappeda-rr1", float(i), "power_lost", {"i": i})
    print(event.seq, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # no close(), no atexit: as if the power went
""")


def test_sigkill_right_after_append_loses_nothing(tmp_path: Path):
    path = tmp_path / "journal.sqlite3"
    for round_ in (1, 2):
        done = subprocess.run([sys.executable, "-c", CHILD, str(path), "50"], capture_output=True,
                              text=True, timeout=60, cwd=Path(__file__).parent.parent)
        assert done.returncode == -signal.SIGKILL, done.stderr
        assert int(done.stdout) == 50 * round_
        assert (tmp_path / "journal.sqlite3-wal").exists()  # killed before any checkpoint-on-close
    j = Journal(path)
    try:
        assert [e.seq for e in j.events(limit=200)] == list(range(100, 0, -1))
        assert j.append(SITE, 1.0, "edge_started", {}).seq == 101
    finally:
        j.close()


def test_not_a_database_raises_sqlite_error(tmp_path: Path):
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        Journal(path)


def test_latest_of_some_kinds_newest_first(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    for i, kind in enumerate(["meeting_started", "power_lost", "meeting_ended", "meeting_started"]):
        journal.append("rr1", float(i), kind, {"pc": "pc1"})
    latest = journal.latest(("meeting_started", "meeting_ended"))
    assert [(e.seq, e.kind) for e in latest] == [(4, "meeting_started"), (3, "meeting_ended"),
                                                  (1, "meeting_started")]
    assert [e.seq for e in journal.latest(("meeting_started",), limit=1)] == [4]
    journal.close()
