"""Replay (CONTRACT §5.2), without a broker: the edge's replayer on a real journal, the dashboard's
gap tracker on a clock the test moves."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from dashboard.store import gaps as gaps_module
from dashboard.store.gaps import Gaps, SiteSeq, start_from
from edge import replay
from edge.bus import EdgeBus
from edge.journal import Journal
from edge.replay import Replayer, check_replay
from protocol.config import load_config
from protocol.messages import BadMessage, EdgeCommand, JournalEvent, decode, to_json
from tests.waiting import wait_until


def command(from_seq: int | None, by: str = "dashboard", id: str = "c1") -> EdgeCommand:
    return EdgeCommand(id=id, ts=time.time(), kind="replay", by=by, from_seq=from_seq)


def test_replay_command_round_trips_and_other_kinds_stay_valid() -> None:
    raw = b'{"v":1,"id":"x","ts":1.0,"kind":"replay","by":"dashboard","from_seq":120}'
    assert decode(EdgeCommand, raw).from_seq == 120
    assert decode(EdgeCommand, to_json(command(7))).from_seq == 7
    assert decode(EdgeCommand, b'{"v":1,"id":"x","ts":1.0,"kind":"silence"}').from_seq is None
    with pytest.raises(BadMessage):
        decode(EdgeCommand, b'{"v":1,"id":"x","ts":1.0,"kind":"replay","from_seq":"12"}')


@pytest.mark.parametrize(("from_seq", "last", "problem"), [
    (1, 10, None), (10, 10, None), (0, 10, None),
    (11, 10, "in the future"), (500, 10, "in the future"), (1, 0, "in the future"),
    (-1, 10, "negative"), (None, 10, "without from_seq"),
])
def test_check_replay(from_seq, last, problem) -> None:
    answer = check_replay(command(from_seq), last)
    assert (answer is None) if problem is None else (problem in answer)


@pytest.fixture
def journal(tmp_path: Path):
    j = Journal(tmp_path / "journal.sqlite3")
    yield j
    j.close()


def fill(journal: Journal, n: int) -> list[JournalEvent]:
    return [journal.append("rr1", 1000.0 + i, "pc_online", {"pc": f"pc-{i}", "n": i}) for i in range(n)]


class Recorder:
    """Stands in for the daemon's record(): journal first, then publish."""

    def __init__(self, journal: Journal, published: list) -> None:
        self.journal, self.published = journal, published

    def __call__(self, kind: str, detail: dict, now: float) -> None:
        self.published.append(self.journal.append("rr1", now, kind, detail))


def test_replay_republishes_the_same_events_oldest_first_then_journals_replayed(journal) -> None:
    first = fill(journal, 12)
    published: list[JournalEvent] = []
    replayer = Replayer(journal, published.append, Recorder(journal, published))
    try:
        assert replayer.serve(command(5, by="dashboard")) == 8
    finally:
        replayer.stop()
    assert [to_json(e) for e in published[:8]] == [to_json(e) for e in first[4:]]
    done = published[8]
    assert (done.seq, done.kind, done.detail) == (13, "replayed",
                                                  {"from_seq": 5, "to_seq": 12, "by": "dashboard"})


def test_replay_is_bounded_per_command(journal, monkeypatch) -> None:
    monkeypatch.setattr(replay, "MAX_EVENTS", 50)
    fill(journal, 120)
    published: list[JournalEvent] = []
    replayer = Replayer(journal, published.append, Recorder(journal, published))
    try:
        assert replayer.serve(command(1)) == 50
    finally:
        replayer.stop()
    assert [e.seq for e in published[:50]] == list(range(1, 51))
    assert published[50].detail == {"from_seq": 1, "to_seq": 50, "by": "dashboard"}


@pytest.mark.parametrize("from_seq", [-3, 99])
def test_a_bad_from_seq_is_ignored_with_a_log_line(journal, caplog, from_seq) -> None:
    fill(journal, 5)
    published: list[JournalEvent] = []
    replayer = Replayer(journal, published.append, Recorder(journal, published))
    try:
        with caplog.at_level(logging.WARNING, logger="edge.replay"):
            assert replayer.serve(command(from_seq)) == 0
    finally:
        replayer.stop()
    assert published == [] and journal.last_seq() == 5
    assert [r.getMessage() for r in caplog.records if str(from_seq) in r.getMessage()]


def test_a_flood_of_replays_is_cut_to_a_few_a_minute(journal, caplog) -> None:
    fill(journal, 3)
    published: list[JournalEvent] = []
    replayer = Replayer(journal, published.append, Recorder(journal, published))
    try:
        with caplog.at_level(logging.WARNING, logger="edge.replay"):
            for i in range(200):
                replayer.take(command(1, id=f"c{i}"))
            wait_until(lambda: replayer._queue.empty(), what="replays served")
            time.sleep(0.2)
    finally:
        replayer.stop()
    served = [e for e in journal.events(1000) if e.kind == "replayed"]   # (published has repeats)
    assert 1 <= len(served) <= replay.MAX_PER_MINUTE
    assert len([r for r in caplog.records if "replay ignored" in r.getMessage()]) == 1


def test_the_bus_hands_replays_to_the_replayer_not_to_the_room(tmp_path: Path) -> None:
    path = tmp_path / "siaga.toml"
    path.write_text('[site]\nid = "rr1"\n[[ups]]\nname = "meeting"\n'
                    f'[edge]\njournal = "{tmp_path / "j.sqlite3"}"\n')
    bus = EdgeBus(load_config(path))
    taken: list[EdgeCommand] = []
    bus.on_replay = taken.append
    topic = "siaga/rr1/edge/command"
    bus._on_message(topic, to_json(command(3)), False)
    bus._on_message(topic, to_json(command(3)), False)  # the same id twice: once
    bus._on_message(topic, to_json(EdgeCommand(id="s", ts=1.0, kind="silence")), False)
    _, _, commands = bus.drain()
    assert [c.from_seq for c in taken] == [3]
    assert [c.kind for c in commands] == ["silence"]


# ----------------------------------------------------------------------------- dashboard side


@pytest.mark.parametrize(("seqs", "contiguous", "first_missing"), [
    ([1, 2, 3], 3, None),
    ([1, 3, 4], 1, 2),
    ([3, 1, 2, 5], 3, 4),
    ([2], 0, 1),
])
def test_site_seq_keeps_the_highest_contiguous(seqs, contiguous, first_missing) -> None:
    s = SiteSeq(contiguous=0)
    for seq in seqs:
        s.add(seq)
    assert (s.contiguous, s.first_missing) == (contiguous, first_missing)


@pytest.mark.parametrize(("known", "heard", "contiguous"), [
    ([], 1, 0),                         # a new site from its first event: nothing older to ask
    ([], 5000, 5000 - gaps_module.BACKFILL),   # first heard at seq 5000: backfill a bounded slice
    ([3, 2, 1], 4, 3),                   # what the store holds counts as held
    ([5, 4, 2, 1], 6, 2),                # ... and a gap in it is found again after a restart
])
def test_start_from_what_the_store_holds(known, heard, contiguous) -> None:
    assert start_from(known, heard).contiguous == contiguous


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_gap_that_stays_is_asked_after_the_grace_then_again_less_often() -> None:
    clock, sent = Clock(), []
    gaps = Gaps(lambda site, first: sent.append((site, first)) or True, lambda site: [], clock)
    for seq in (1, 2, 5):
        gaps.saw_event("rr1", seq)
    assert gaps.ask() == 0                      # younger than the grace: may fill by itself
    clock.now += gaps_module.GRACE_S
    assert gaps.ask() == 1 and sent == [("rr1", 3)]
    clock.now += 1
    assert gaps.ask() == 0                      # asked: wait for the answer
    clock.now += gaps_module.RETRY_FIRST_S
    assert gaps.ask() == 1                      # still missing: ask again
    clock.now += gaps_module.RETRY_FIRST_S
    assert gaps.ask() == 0                      # ... now after twice as long
    gaps.saw_event("rr1", 3)
    gaps.saw_event("rr1", 4)
    assert gaps.contiguous("rr1") == 5
    clock.now += 3600
    assert gaps.ask() == 0 and len(sent) == 2


def test_the_latest_state_reveals_events_that_never_came() -> None:
    clock, sent = Clock(), []
    gaps = Gaps(lambda site, first: sent.append((site, first)) or True, lambda site: [1, 2], clock)
    gaps.saw_event("rr1", 3)
    gaps.saw_state("rr1", 7)
    gaps.saw_state("old-edge", None)            # an edge before v1.1 says nothing: no replay
    clock.now += gaps_module.GRACE_S
    gaps.ask()
    assert sent == [("rr1", 4)]


def test_replays_are_rate_limited_for_the_whole_dashboard() -> None:
    clock, sent = Clock(), []
    gaps = Gaps(lambda site, first: sent.append(site) or True, lambda site: [], clock)
    for i in range(300):
        gaps.saw_state(f"site-{i}", 10)
    clock.now += gaps_module.GRACE_S
    assert gaps.ask() == gaps_module.BURST
    clock.now += 1
    assert gaps.ask() == gaps_module.SENDS_PER_S
    assert len(set(sent)) == len(sent)


def test_a_send_that_fails_is_tried_again_next_round() -> None:
    clock, answers = Clock(), [False, True]
    gaps = Gaps(lambda site, first: answers.pop(0), lambda site: [], clock)
    gaps.saw_state("rr1", 2)
    clock.now += gaps_module.GRACE_S
    assert gaps.ask() == 0
    assert gaps.ask() == 1


def test_under_the_rate_limit_new_gaps_go_before_retries() -> None:
    """400 sites asking again every 10 s want more than 20 replays a second: a site that came
    later must still get its turn, not wait behind them until their backoff grows."""
    clock, sent = Clock(), []
    gaps = Gaps(lambda site, first: sent.append(site) or True, lambda site: [], clock)
    for i in range(400):
        gaps.saw_state(f"busy-{i:03d}", 10)
    for _ in range(15):
        clock.now += 1
        gaps.ask()
    gaps.saw_state("late", 10)
    for second in range(1, 16):
        clock.now += 1
        gaps.ask()
        if "late" in sent:
            break
    assert "late" in sent and second <= 5     # behind the 90 never asked, before any retry


def test_on_a_shared_database_gaps_wait_as_long_as_the_other_dashboards_are_behind() -> None:
    """Several dashboards: a gap is mostly an event another one took and will store. When such
    gaps took 6 s to fill, a room is not asked for a new one after 2 s (it would send again what
    it already sent), but after twice that; a gap nobody fills is still asked for."""
    clock, sent = Clock(), []
    gaps = Gaps(lambda site, first: sent.append((site, first)) or True, lambda site: [], clock,
                adaptive=True)
    gaps.saw_event("a", 1)
    gaps.saw_event("a", 3)                      # 2 went to another dashboard, stored 6 s later
    clock.now += 6
    gaps.saw_events([("a", 2)], lambda sites: {})
    assert gaps.ask() == 0
    gaps.saw_event("b", 1)
    gaps.saw_event("b", 3)
    clock.now += gaps_module.GRACE_S
    assert gaps.ask() == 0 and sent == []       # before: asked here, a false replay
    clock.now += 12 - gaps_module.GRACE_S
    assert gaps.ask() == 1 and sent == [("b", 2)]


def test_the_longer_grace_wears_off_and_one_dashboard_keeps_two_seconds() -> None:
    clock, sent = Clock(), []
    shared = Gaps(lambda site, first: sent.append(site) or True, lambda site: [], clock, adaptive=True)
    alone = Gaps(lambda site, first: sent.append(site) or True, lambda site: [], clock)
    for gaps in (shared, alone):
        gaps.saw_event("a", 1)
        gaps.saw_event("a", 3)
    clock.now += 20
    for gaps in (shared, alone):
        gaps.saw_event("a", 2)                  # filled by itself after 20 s
    assert shared.grace() == gaps_module.MAX_GRACE_S and alone.grace() == gaps_module.GRACE_S
    shared.saw_event("a", 5)
    clock.now += 4
    shared.saw_event("a", 4)                    # a faster fill: the slow one still counts
    assert shared.grace() == gaps_module.MAX_GRACE_S
    clock.now += gaps_module.FILLS_KEPT_S - 3  # the 20 s fill is over a minute old, the 4 s one not
    assert shared.grace() == 8
    clock.now += 5
    assert shared.grace() == gaps_module.GRACE_S


def test_the_tracker_does_not_grow_without_bound(monkeypatch) -> None:
    monkeypatch.setattr(gaps_module, "MAX_SITES", 3)
    gaps = Gaps(lambda site, first: True, lambda site: [], Clock())
    for i in range(10):
        gaps.saw_event(f"junk-{i}", 1)
    assert [gaps.contiguous(f"junk-{i}") for i in (0, 2, 3)] == [1, 1, None]


def test_events_stored_by_other_dashboards_are_learned_with_one_query_for_new_sites() -> None:
    asked: list[list[str]] = []

    def known_many(sites: list[str]) -> dict[str, list[int]]:
        asked.append(sites)
        return {"a": [3, 2, 1]}
    gaps = Gaps(lambda site, first: True, lambda site: [], Clock())
    gaps.saw_events([("a", 4), ("b", 1), ("a", 5), ("b", 2)], known_many)
    gaps.saw_events([("a", 6)], known_many)
    assert asked == [["a", "b"]]
    assert (gaps.contiguous("a"), gaps.contiguous("b")) == (6, 2)
