"""Nothing lost (CONTRACT §5.2), end to end: a real edge (journal, upsd, mosquitto) and a real
dashboard feed and store. Events published while the dashboard was away come back by replay."""

from __future__ import annotations


from dashboard.store.feed import Feed
from dashboard.store.store import Store
from protocol.config import load_config
from tests.dashboard_support import write_config as dashboard_config
from tests.fleet_support import held, journal
from tests.edge_support import write_config
from tests.waiting import wait_until

SITE = "rr1"


def asked_from(rows: list, first: int) -> dict | None:
    """The detail of the `replayed` event that served a replay from seq ``first``, if any."""
    return next((r[3] for r in rows if r[2] == "replayed" and r[3]["from_seq"] == first), None)





def test_events_missed_while_the_dashboard_was_away_come_back_once(tmp_path, upsd, broker,
                                                                   edge_in_process):
    edge = edge_in_process(write_config(tmp_path, upsd, broker))
    dash_dir = tmp_path / "dash"
    dash_dir.mkdir()
    config = load_config(dashboard_config(dash_dir, mqtt_port=broker.port))
    store = Store(str(dash_dir / "dashboard.sqlite3"))
    feed = Feed(config, store, client_id="dash-1")
    feed.start()
    try:
        wait_until(lambda: held(store, SITE) and held(store, SITE)[0][2] == "edge_started", 10,
                   what="the edge's first event on the dashboard")
        feed.stop()                                # the uplink goes down ...
        before = edge.journal.last_seq()
        upsd.set(ups_status="OB")                  # ... and meanwhile the power fails
        wait_until(lambda: any(r[2] == "notice_sent" for r in journal(tmp_path)), 15,
                   what="the edge journals the outage")
        upsd.set(ups_status="OL")
        wait_until(lambda: any(r[2] == "power_restored" for r in journal(tmp_path)), 15,
                   what="the edge journals the restore")
        missed = edge.journal.last_seq() - before
        assert missed >= 3 and len(held(store, SITE)) == before  # the dashboard has none of them

        feed = Feed(config, store, client_id="dash-2")     # the uplink is back
        feed.start()
        # The edge journals `replayed` after it has republished the events, so wait for that
        # record itself: the dashboard can hold every event of a journal that lacks it yet, and a
        # `replayed` from the first feed's own catch-up (from seq 1) may come late on a busy machine.
        wait_until(lambda: asked_from(held(store, SITE), before + 1), 20,
                   what="the replayed events on the dashboard",
                   context=lambda: f"held {[r[0] for r in held(store, SITE)]}")
        want = journal(tmp_path)
        wait_until(lambda: held(store, SITE) == journal(tmp_path), 10, what="every event once",
                   context=lambda: f"held {[r[0] for r in held(store, SITE)]}, journal {len(want)}")
        seqs = [r[0] for r in held(store, SITE)]
        assert seqs == list(range(1, len(seqs) + 1))
        # (the dashboard came up after the edge's first event: it fetched that one by replay too)
        replayed = asked_from(journal(tmp_path), before + 1)
        assert replayed["by"] == "dashboard" and replayed["to_seq"] >= before + missed
        # Asked once. Twice on the dashboard (the store keeps one) may come only what reached it
        # by two ways: events journaled while the second feed came up (live, and in its replay),
        # and a replay the first feed asked for, served late (after it stopped) on a busy machine.
        rows = journal(tmp_path)
        assert [r[3]["from_seq"] for r in rows if r[2] == "replayed" and r[3]["from_seq"] > before] \
            == [before + 1]
        late = edge.journal.last_seq() - (before + missed)
        again = sum(r[3]["to_seq"] - r[3]["from_seq"] + 1 for r in rows
                    if r[2] == "replayed" and r[0] > before and r[3]["from_seq"] <= before)
        assert store.counters()["duplicate"] <= 1 + late + again, [(r[0], r[2], r[3]) for r in rows]
        assert feed.gaps.contiguous(SITE) == edge.journal.last_seq()
    finally:
        feed.stop()
        store.close()
