"""The outbox (dashboard/alerts/outbox.py) on a real SQLite file and a real PostgreSQL, with real
HTTP receivers: order per URL, a dead URL that does not hold up a live one, never twice, repeats
held; rows claimed by one of several dashboards; and the page's button."""

from __future__ import annotations

import dataclasses
import time

import pytest
from werkzeug.security import generate_password_hash

from dashboard.alerts.outbox import Alerter, backoff_s
from dashboard.alerts.rules import Alert, AlertKind
from dashboard.alerts.targets import load_targets
from dashboard.store.engine import open_engine
from dashboard.store.postgres import LEASE_S, PostgresDatabase
from dashboard.store.store import Store
from dashboard.web.app import create_app, start_app, stop_app
from protocol.config import load_config
from siaga.servers import free_port
from tests.alert_receiver import Receiver
from tests.dashboard_support import wait_until, write_config
from tests.dashboard_support import PASSWORD, csrf_of

NAME = "Bappeda - Ruang Rapat 1"


@pytest.fixture
def receivers():
    live, dead = Receiver(free_port()).start(), Receiver(free_port())
    yield live, dead
    live.stop()
    dead.stop()


def make_config(tmp_path, urls: list[str], extra: str = ""):
    (tmp_path / "alerts.urls").write_text("\n".join(urls) + "\n")
    pwhash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    return load_config(write_config(tmp_path, dashboard=(
        f'admin_password_hash = "{pwhash}"\n[alerts]\nurls_file = "alerts.urls"\n'
        f'retry_max_s = 1\n{extra}')))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.servers)])
def location(request, tmp_path):
    """The outbox's database: the SQLite file or a fresh PostgreSQL database."""
    if request.param == "postgres":
        return request.getfixturevalue("pg_url")
    return str(tmp_path / "dash.sqlite3")


def alert(site: str, kind: AlertKind) -> Alert:
    return Alert(site, kind, NAME, 600.0)


def test_each_url_gets_every_alert_in_order_once_and_a_dead_one_holds_up_nothing(
        tmp_path, receivers, monkeypatch, location):
    monkeypatch.setattr("dashboard.alerts.outbox.BATCH", 2)   # more waiting for the dead URL than a batch
    live, dead = receivers
    config = make_config(tmp_path, [live.url, dead.url], "quiet_repeat_s = 0")
    db = open_engine(location)
    alerter = Alerter(config, db, load_targets(config))
    for n in range(5):
        alerter.queue(alert(f"site-{n}", AlertKind.POWER_LOST))
    while alerter.send_due():
        pass
    assert len(live.messages()) == 5                     # the live URL took all five
    assert [m["title"].split(":")[0] for m in live.messages()] == [f"Siaga {NAME}"] * 5
    assert [a[2] for a in db.alert_list(10)] == ["power_lost"] * 5
    assert all(row[6] is None and row[7] >= 1 for row in db.alert_list(10))  # dead: not sent
    assert alerter.send_due() == 0 and len(live.messages()) == 5   # never twice to the live URL
    dead.start()
    time.sleep(backoff_s(1, 1.0))
    wait_until(lambda: alerter.send_due() * 0 or len(dead.messages()) == 5, 5)
    assert len(dead.messages()) == 5 and len(live.messages()) == 5
    assert [m["message"] for m in dead.messages()] == [m["message"] for m in live.messages()]
    assert all(row[6] is not None for row in db.alert_list(10))
    db.close()


def test_a_chore_repeat_for_the_same_site_is_held_back_for_quiet_repeat_s(tmp_path, receivers, location):
    config = make_config(tmp_path, [receivers[0].url], "quiet_repeat_s = 3600")
    db = open_engine(location)
    alerter = Alerter(config, db, load_targets(config))
    assert alerter.queue(alert("a", AlertKind.REPLACE_BATTERY)) is not None
    assert alerter.queue(alert("a", AlertKind.REPLACE_BATTERY)) is None       # held
    assert alerter.queue(alert("b", AlertKind.REPLACE_BATTERY)) is not None   # another site
    assert alerter.queue(alert("a", AlertKind.SITE_STALE)) is not None        # another alert
    for _ in range(2):   # an outage's alerts: never held (each cut pages IT in full)
        assert alerter.queue(alert("a", AlertKind.POWER_LOST)) is not None
    later = Alerter(dataclasses.replace(config), db, [], clock=lambda: time.time() + 3601)
    assert later.queue(alert("a", AlertKind.REPLACE_BATTERY)) is not None    # an hour on
    db.close()


@pytest.mark.parametrize("waited, title", [
    (60, f"Siaga {NAME}: Listrik padam: UPS menanggung PC rapat"),
    (181, f"[Terlambat] Siaga {NAME}: Listrik padam: UPS menanggung PC rapat"),
])
def test_an_alert_that_waited_in_the_outbox_is_marked_late(tmp_path, receivers, waited, title,
                                                            location):
    live = receivers[0]
    config = make_config(tmp_path, [live.url])
    db = open_engine(location)
    now = time.time()
    Alerter(config, db, []).queue(Alert("a", AlertKind.POWER_LOST, NAME, 600.0, at=now))
    assert Alerter(config, db, load_targets(config), clock=lambda: now + waited).send_due() == 1
    [message] = live.messages()
    assert message["title"] == title and message["type"] == "warning"
    db.close()


@pytest.mark.parametrize("failures, most, expected", [(1, 300, 1), (2, 300, 2), (5, 300, 16),
                                                      (9, 300, 256), (10, 300, 300),
                                                      (500, 300, 300), (3, 1, 1)])
def test_backoff_grows_to_its_limit(failures, most, expected):
    assert backoff_s(failures, most) == expected


def test_an_admin_sends_a_test_alert_from_the_overview(tmp_path, receivers):
    live = receivers[0]
    config = make_config(tmp_path, [live.url])
    store = Store(config.dashboard.database)
    app = create_app(config, store)
    start_app(app)
    client = app.test_client()
    try:
        assert "Kirim peringatan uji" not in client.get("/").get_data(as_text=True)
        token = csrf_of(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"csrf_token": token, "password": PASSWORD, "next": "/"})
        page = client.get("/?lang=en").get_data(as_text=True)
        assert "Send a test alert" in page
        answer = client.post("/alerts/test", data={"csrf_token": csrf_of(page), "from_page": "1"})
        assert answer.status_code == 303
        assert "Test alert queued; reload this page" in client.get("/").get_data(as_text=True)
        wait_until(live.messages, 5, what="the test alert at the receiver")
        assert live.messages()[0]["title"] == "Siaga dashboard-test: Uji peringatan dari dasbor Siaga"
        # the receiver answers before the sender records it: wait for the row, not the message
        listed = wait_until(lambda: [a for a in client.get("/api/alerts").get_json()["alerts"]
                                     if a["sent"]], 5, what="the outbox row marked sent")
        assert [(a["kind"], a["site"], a["tries"]) for a in listed] == [("test", "dashboard-test", 1)]
        assert client.post("/alerts/test", data={"from_page": "1"}).status_code == 403  # no CSRF
    finally:
        stop_app(app)
        store.close()


def test_events_that_arrive_out_of_order_reach_the_rules_in_journal_order(tmp_path):
    """A dashboard that missed the end of one outage and the start of the next (an edge SIGKILLed
    with events in flight, the broker restarted) hears the next notice first and the rest by
    replay. Judged in arrival order, the next outage never paged IT (found by bench/soak.py):
    the rules must see the journal's order."""
    from protocol.messages import JournalEvent
    config = make_config(tmp_path, [], "quiet_repeat_s = 0")
    db = open_engine(config.dashboard.database)
    alerter = Alerter(config, db, [])
    now = time.time()

    def event(seq: int, kind: str, **detail) -> JournalEvent:
        return JournalEvent(site="a", seq=seq, ts=now + seq, kind=kind, detail=detail)
    journal = [event(1, "power_lost"), event(2, "notice_sent", runtime_s=900.0),
               event(3, "power_restored", duration_s=60.0), event(4, "power_lost"),
               event(5, "notice_sent", runtime_s=900.0), event(6, "power_restored", duration_s=30.0)]
    for n in (0, 1, 4, 2, 3, 5):   # 3 and 4 replayed after 5
        alerter.offer(journal[n])
    kinds = [a[2] for a in reversed(db.alert_list(10))]
    assert kinds == ["power_lost", "power_restored", "power_lost", "power_restored"]
    db.close()


def test_a_new_dashboard_that_hears_a_live_event_before_the_replay_judges_them_in_order(tmp_path):
    """Started while an outage ran: it hears the end of that outage and the next one's start live,
    the outage's start by replay (seen in bench/soak.py: the first outage's restore was lost and
    the second outage's power-lost and wrap-up alerts went to the first)."""
    from protocol.messages import JournalEvent
    config = make_config(tmp_path, [], "quiet_repeat_s = 0")
    db = open_engine(config.dashboard.database)
    alerter = Alerter(config, db, [])
    now = time.time()

    def event(seq: int, kind: str, **detail) -> JournalEvent:
        return JournalEvent(site="a", seq=seq, ts=now + seq, kind=kind, detail=detail)
    journal = [event(1, "power_lost"), event(2, "notice_sent", runtime_s=900.0),
               event(3, "wrapup_sent", runtime_s=200.0), event(4, "power_restored", duration_s=9.0),
               event(5, "power_lost"), event(6, "notice_sent", runtime_s=900.0),
               event(7, "wrapup_sent", runtime_s=200.0), event(8, "power_restored", duration_s=9.0)]
    for n in (3, 4, 0, 1, 2, 5, 6, 7):   # 4 and 5 live, 1-3 by the replay the dashboard asked
        alerter.offer(journal[n])
    kinds = [a[2] for a in reversed(db.alert_list(10))]
    assert kinds == ["power_lost", "wrapup", "power_restored"] * 2
    db.close()


def test_an_event_after_a_gap_that_is_never_filled_goes_out_after_the_wait(tmp_path):
    """A minute: long enough for the replay's first ask and first retry on a busy shared
    database (dashboard/store/gaps.py), so the rules do not go on just as it is asked for."""
    from dashboard.alerts.outbox import GAP_WAIT_S
    from dashboard.store.gaps import MAX_GRACE_S, RETRY_FIRST_S
    from protocol.messages import JournalEvent
    assert GAP_WAIT_S > MAX_GRACE_S + RETRY_FIRST_S
    config = make_config(tmp_path, [], "quiet_repeat_s = 0")
    db = open_engine(config.dashboard.database)
    mono = [100.0]
    alerter = Alerter(config, db, [], monotonic=lambda: mono[0])
    now = time.time()
    alerter.offer(JournalEvent(site="a", seq=1, ts=now, kind="power_lost", detail={}))
    alerter.offer(JournalEvent(site="a", seq=3, ts=now + 2, kind="notice_sent",
                               detail={"runtime_s": 900.0}))
    assert db.alert_list(10) == []            # seq 2 may still come (a replay)
    mono[0] += GAP_WAIT_S - 1
    alerter.tick()
    assert db.alert_list(10) == []
    mono[0] += 2
    alerter.tick()                            # it did not: the rules go on without it
    assert [a[2] for a in db.alert_list(10)] == ["power_lost"]
    db.close()


def test_a_notice_replayed_after_the_gap_wait_and_the_restore_pages_no_power_cut(tmp_path):
    """The notice of a short cut lost live, its restore heard live, the replay later than
    GAP_WAIT_S: IT was paged "Power cut" while the power was back (no restore followed), and the
    next 3 s flicker, two hours later, paged "Mains power is back after 3 s"."""
    from dashboard.alerts.outbox import GAP_WAIT_S
    from protocol.messages import JournalEvent
    config = make_config(tmp_path, [], "quiet_repeat_s = 0")
    db = open_engine(config.dashboard.database)
    now, mono = [time.time() - 7300], [100.0]
    alerter = Alerter(config, db, [], clock=lambda: now[0], monotonic=lambda: mono[0])
    t0 = now[0]

    def hear(seq: int, at: float, kind: str, heard: float | None = None, **detail) -> None:
        heard = at + 1 if heard is None else heard
        now[0], mono[0] = t0 + heard, 100.0 + heard
        alerter.offer(JournalEvent(site="a", seq=seq, ts=t0 + at, kind=kind, detail=detail))
    hear(1, 0, "power_lost")
    hear(3, 40, "power_restored", duration_s=40.0)        # seq 2 (the notice) lost live
    mono[0] += GAP_WAIT_S
    alerter.tick()                                        # the rules go on without it
    hear(2, 6, "notice_sent", heard=41 + GAP_WAIT_S + 5, runtime_s=900.0)   # the replay
    hear(4, 7200, "power_lost")
    hear(5, 7203, "power_restored", duration_s=3.0)
    assert [row[2] for row in db.alert_list(10)] == []
    db.close()


def test_a_notice_replayed_after_the_replays_first_retry_is_judged_in_its_place(tmp_path):
    """A busy shared database asks for a lost event after up to MAX_GRACE_S, and again
    RETRY_FIRST_S later (dashboard/store/gaps.py): a notice that came with that retry was judged
    after its outage's restore, and IT never heard of the cut. The rules wait for it."""
    from dashboard.store.gaps import MAX_GRACE_S, RETRY_FIRST_S
    from protocol.messages import JournalEvent
    config = make_config(tmp_path, [], "quiet_repeat_s = 0")
    db = open_engine(config.dashboard.database)
    mono = [100.0]
    alerter = Alerter(config, db, [], monotonic=lambda: mono[0])
    t0 = time.time() - 120
    alerter.offer(JournalEvent(site="a", seq=1, ts=t0, kind="power_lost", detail={}))
    alerter.offer(JournalEvent(site="a", seq=3, ts=t0 + 40, kind="power_restored",
                               detail={"duration_s": 40.0}))     # seq 2 lost live
    for _ in range(int(MAX_GRACE_S + RETRY_FIRST_S) + 5):          # the watcher ticks each second
        mono[0] += 1
        alerter.tick()
    alerter.offer(JournalEvent(site="a", seq=2, ts=t0 + 6, kind="notice_sent",
                               detail={"runtime_s": 900.0}))
    assert [row[2] for row in reversed(db.alert_list(10))] == ["power_lost", "power_restored"]
    db.close()


def test_an_event_heard_again_is_judged_once_and_remembering_that_costs_no_memory_per_event(tmp_path):
    """A replay or a redelivery brings events the rules have judged: none pages IT twice, the
    late event of a gap still pages once. What is remembered for that stays a few numbers a site
    (the 1,000-outage soak saw the dashboard's RSS grow by ~190 bytes an event before)."""
    import tracemalloc
    from protocol.messages import JournalEvent
    config = make_config(tmp_path, [], "quiet_repeat_s = 0")
    db = open_engine(config.dashboard.database)
    alerter = Alerter(config, db, [])
    now = time.time()

    def event(site: str, seq: int, kind: str) -> JournalEvent:
        detail = {"runtime_s": 900.0} if kind == "notice_sent" else {}
        return JournalEvent(site=site, seq=seq, ts=now + seq, kind=kind, detail=detail)
    for seq, kind in ((1, "power_lost"), (2, "notice_sent"), (4, "power_restored")):
        alerter.take(event("a", seq, kind))
    for seq, kind in ((2, "notice_sent"), (1, "power_lost"), (4, "power_restored")):
        alerter.take(event("a", seq, kind))   # heard again: nothing
    alerter.take(event("a", 3, "pc_off"))        # the gap's event, late: judged once
    alerter.take(event("a", 3, "pc_off"))
    kinds = [a[2] for a in reversed(db.alert_list(10))]
    assert kinds == ["power_lost", "power_restored", "pc_off"]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for seq in range(5, 20005):   # 20,000 events of 4 rooms (an event no rule cares about)
            for site in ("a", "b", "c", "d"):
                alerter.take(JournalEvent(site=f"{site}", seq=seq, ts=now, kind="pc_online",
                                          detail={"pc": "meeting-pc"}))
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 100_000, f"{grown} bytes kept for 80,000 judged events"
    db.close()


@pytest.mark.parametrize("how", ["restart", "takeover"])
def test_a_restore_after_a_restart_mid_outage_still_asks_it_to_switch_the_pc_on(
        tmp_path, location, how):
    """The dashboard restarted between "PC off" and "power restored" (or another one took over
    the rules): the restore told IT "Nothing to do", as the rules' memory came back from the
    outbox alone, which does not say which PC went off. The open outage's events do."""
    from protocol.messages import JournalEvent
    config = make_config(tmp_path, [], "quiet_repeat_s = 0")
    first, second = open_engine(location), open_engine(location)
    now = time.time()
    stages = [("power_lost", {}), ("notice_sent", {"runtime_s": 900.0}),
              ("wrapup_sent", {"runtime_s": 300.0}), ("shutdown_sent", {"runtime_s": 120.0}),
              ("pc_off", {"pc": "meeting-pc"}), ("power_restored", {"duration_s": 50.0})]
    journal = [JournalEvent(site="a", seq=n, ts=now - 60 + n, kind=kind, detail=detail)
               for n, (kind, detail) in enumerate(stages, 1)]
    try:
        leader, other = Alerter(config, first, []), Alerter(config, second, [])
        for event in journal[:-1]:
            first.add_event(event)
            leader.offer(event)
        if how == "restart":
            first.close()
            other = Alerter(config, second, [])
        else:
            other.take_over()
        second.add_event(journal[-1])
        other.offer(journal[-1])
        rows = list(reversed(second.alert_list(10)))
        assert [row[2] for row in rows] == ["power_lost", "wrapup", "shutdown", "pc_off",
                                            "power_restored"]
        body = rows[-1][5].splitlines()
        assert "PC rapat meeting-pc masih mati." in body
        assert any(line.startswith("Yang perlu dilakukan TI: Nyalakan lagi PC rapat") for line in body)
    finally:
        first.close()
        second.close()


def test_an_edge_restarted_cleanly_pages_nothing_and_a_pi_gone_pages_after_a_minute(tmp_path):
    """``systemctl restart siaga-edge`` (every room on an upgrade): the edge says ``offline`` as it
    stops and is back two seconds later. The room page shows it stale meanwhile (it is), but IT
    was paged "No news from the room's Siaga" each time. A Pi that stays silent still pages."""
    from dashboard.alerts.rules import SILENT_ALERT_AFTER_S
    from tests.dashboard_support import snapshot
    config = make_config(tmp_path, [], "quiet_repeat_s = 0")
    db = open_engine(config.dashboard.database)
    now = [time.time()]
    store = Store(db, stale_after_s=90, clock=lambda: now[0])
    alerter = Alerter(config, db, [], entries=store.entries, clock=lambda: now[0])

    def seconds(n: int) -> None:    # the watcher ticks each second; the edge sends a state each 30 s
        for _ in range(n):
            now[0] += 1
            if store.entries()[0].availability == "online" and int(now[0]) % 30 == 0:
                store.put_state(snapshot("a", "ready", now=now[0], name=NAME))
            alerter.tick()
    store.put_availability("a", "online")
    store.put_state(snapshot("a", "ready", now=now[0], name=NAME))
    seconds(5)
    store.put_availability("a", "offline")          # the edge stops cleanly ...
    seconds(1)
    assert store.entries()[0].stale                 # (the page says so)
    seconds(1)
    store.put_availability("a", "online")           # ... and is back
    store.put_state(snapshot("a", "ready", now=now[0], name=NAME))
    seconds(300)
    assert db.alert_list(10) == []
    store.put_availability("a", "offline")          # the Pi is gone
    seconds(int(SILENT_ALERT_AFTER_S) - 1)
    assert db.alert_list(10) == []
    seconds(300)
    assert [row[2] for row in db.alert_list(10)] == ["site_stale"]
    store.close()


def test_every_sqlite_connection_of_the_dashboard_has_a_bounded_page_cache(tmp_path):
    """SQLite's default page cache is 2 MB a connection, filled as the file grows: with the
    writer and a reader per web thread that was most of the dashboard's growth in the soak."""
    import threading
    from dashboard.store.database import CACHE_KIB, SqliteDatabase
    db = SqliteDatabase(str(tmp_path / "dash.sqlite3"))
    sizes = [db._writer.execute("PRAGMA cache_size").fetchone()[0]]
    reader = threading.Thread(target=lambda: sizes.append(
        db._reader().execute("PRAGMA cache_size").fetchone()[0]))
    reader.start()
    reader.join()
    db.close()
    assert sizes == [-CACHE_KIB, -CACHE_KIB] and CACHE_KIB <= 1024


def test_on_postgresql_a_row_is_claimed_by_one_dashboard_and_retaken_after_its_lease(
        tmp_path, receivers, pg_url):
    """Two dashboards on one database: a row claimed by one is not sent by the other; a claim
    whose dashboard died (never tried, never released) is free again once the lease is over."""
    live = receivers[0]
    config = make_config(tmp_path, [live.url], "quiet_repeat_s = 0")
    now = [time.time()]
    first, second = (PostgresDatabase(pg_url, clock=lambda: now[0]) for _ in range(2))
    try:
        Alerter(config, first, []).queue(alert("a", AlertKind.POWER_LOST))
        key = load_targets(config)[0].key
        assert [row[1] for row in first.unsent_alerts(key)] == ["a"]   # claimed, then it "dies"
        assert second.unsent_alerts(key) == []
        assert Alerter(config, second, load_targets(config)).send_due() == 0
        now[0] += LEASE_S + 1
        assert Alerter(config, second, load_targets(config), clock=lambda: now[0]).send_due() == 1
        assert [m["title"].split(": ", 1)[1] for m in live.messages()] == [
            "Listrik padam: UPS menanggung PC rapat"]
        assert first.unsent_alerts(key) == [] and first.alert_row(1)[6] is not None
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize("ends", ["B sends it", "B hangs past its lease"])
def test_on_postgresql_a_younger_alert_waits_for_the_one_another_dashboard_is_sending(
        tmp_path, receivers, pg_url, ends):
    """Dashboard B claimed "power cut" and is sending it (its request hangs on a bad uplink):
    dashboard A sent the newer "power restored" to the same URL meanwhile, and IT read the
    power was back before it read of the cut. Oldest first, to each URL: A waits for B, or
    for B's lease to run out."""
    live = receivers[0]
    config = make_config(tmp_path, [live.url], "quiet_repeat_s = 0")
    now = [time.time()]
    first, second = (PostgresDatabase(pg_url, clock=lambda: now[0]) for _ in range(2))
    try:
        a, b = (Alerter(config, db, load_targets(config), clock=lambda: now[0])
                for db in (first, second))
        key = load_targets(config)[0].key
        a.queue(alert("a", AlertKind.POWER_LOST))
        assert [row[2] for row in second.unsent_alerts(key)] == ["power_lost"]   # B is sending it
        a.queue(Alert("a", AlertKind.POWER_RESTORED, NAME, 600.0, {"duration_s": 40.0, "pcs_off": []}))
        a.send_due()                            # A: nothing while B holds the older one
        if ends == "B sends it":
            b.send_due()                        # B's try ends; it goes on with the next one
        else:
            now[0] += LEASE_S + 1               # B's claim is free again: A sends both
        a.send_due()
        assert [m["title"].split(": ", 1)[1] for m in live.messages()] == [
            "Listrik padam: UPS menanggung PC rapat", "Listrik PLN kembali setelah 40 dtk"]
    finally:
        first.close()
        second.close()


def test_on_postgresql_two_senders_send_every_alert_once(tmp_path, receivers, pg_url):
    live = receivers[0]
    config = make_config(tmp_path, [live.url], "quiet_repeat_s = 0")
    first, second = PostgresDatabase(pg_url), PostgresDatabase(pg_url)
    try:
        queuer = Alerter(config, first, [])
        for n in range(60):
            queuer.queue(Alert(f"site-{n}", AlertKind.POWER_LOST, f"Ruang {n}", 600.0))
        senders = [Alerter(config, db, load_targets(config)) for db in (first, second)]
        for sender in senders:
            sender.start()
        wait_until(lambda: len(live.messages()) >= 60, 20, what="60 alerts at the receiver")
        time.sleep(1.5)
        for sender in senders:
            sender.stop()
        bodies = [m["message"] for m in live.messages()]
        assert len(bodies) == 60 and len(set(bodies)) == 60
    finally:
        first.close()
        second.close()


def test_on_postgresql_a_dead_dashboards_claim_is_free_after_seconds_not_the_lease(
        tmp_path, receivers, pg_url):
    """A dashboard SIGKILLed between claiming and sending has no session left: its rows go
    out from another dashboard DEAD_CLAIM_S after the claim, not two minutes later."""
    from dashboard.store.postgres import DEAD_CLAIM_S
    live = receivers[0]
    config = make_config(tmp_path, [live.url], "quiet_repeat_s = 0")
    now = [time.time()]
    first, second = (PostgresDatabase(pg_url, clock=lambda: now[0]) for _ in range(2))
    try:
        Alerter(config, first, []).queue(alert("a", AlertKind.POWER_LOST))
        key = load_targets(config)[0].key
        assert [row[1] for row in first.unsent_alerts(key)] == ["a"]
        sender = Alerter(config, second, load_targets(config), clock=lambda: now[0])
        now[0] += DEAD_CLAIM_S + 1
        assert sender.send_due() == 0            # its claimer lives: the claim holds
        first.close()                            # ... and now it has no session left
        # (the server ends a closed session's backend a moment later, on its own)
        wait_until(lambda: sender.send_due() == 1, 10, what="the dead claim sent")
        assert len(live.messages()) == 1
    finally:
        second.close()


@pytest.mark.servers
def test_an_alert_made_while_postgresql_restarts_is_queued_once_and_said_in_one_line(
        tmp_path, receivers, caplog):
    """PostgreSQL stopped for maintenance while a room loses power: the alert the rules make then
    waits for the server and goes out once; the dashboard says so in one warning line, no
    traceback (each thread used to log every retry, with psycopg's hint lines)."""
    import logging
    import threading
    from tests.postgres_support import start_postgres
    server = start_postgres()
    live = receivers[0]
    config = make_config(tmp_path, [live.url], "quiet_repeat_s = 0")
    db = PostgresDatabase(server.new_database())
    alerter = Alerter(config, db, load_targets(config))
    try:
        alerter.start()
        caplog.set_level(logging.INFO)
        server.pg_ctl("stop", "-m", "fast")
        queued = []
        making = threading.Thread(target=lambda: queued.append(
            alerter.queue(alert("a", AlertKind.POWER_LOST))))
        making.start()
        time.sleep(3.0)        # the writer, the listener, the sender and the rules all meet it
        assert not queued      # waiting for the server, not given up
        server.pg_ctl("start")
        making.join(30)
        wait_until(lambda: len(live.messages()) == 1, 20, what="the alert at the receiver")
        time.sleep(2.0)        # a second delivery would come now
        assert len(live.messages()) == 1 and queued and queued[0] is not None
        said = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(said) == 1 and "cannot be reached" in said[0].getMessage(), \
            [r.getMessage() for r in said]
        assert "\n" not in said[0].getMessage() and not any(r.exc_info for r in caplog.records)
    finally:
        alerter.stop()
        db.close()
        server.stop()


def test_an_outbox_made_before_the_trying_column_is_read_and_sent_after_an_upgrade(tmp_path, receivers):
    """A dashboard upgraded with alerts still waiting in its SQLite file sends them."""
    import sqlite3
    path = tmp_path / "dash.sqlite3"
    with sqlite3.connect(path) as old:    # the outbox as v1.1 made it
        old.executescript(
            "CREATE TABLE alert_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, site TEXT NOT NULL, "
            "kind TEXT NOT NULL, created REAL NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, "
            "sent REAL, tries INTEGER NOT NULL DEFAULT 0, last_error TEXT, done TEXT NOT NULL "
            "DEFAULT '');"
            "INSERT INTO alert_outbox (site, kind, created, title, body) "
            "VALUES ('a', 'power_lost', 1000.0, 'waiting', 'since v1.1');")
    live = receivers[0]
    config = make_config(tmp_path, [live.url])
    db = open_engine(str(path))
    alerter = Alerter(config, db, load_targets(config))
    assert alerter.send_due() == 1
    assert [(m["title"], m["message"]) for m in live.messages()] == [("[Terlambat] waiting", "since v1.1")]
    assert db.alert_list(1)[0][6] is not None


@pytest.mark.servers
def test_on_postgresql_an_alert_written_again_after_a_lost_answer_is_one_row(tmp_path, pg_url):
    """PostgreSQL ended the session after committing the alert but before answering: the rules
    write it again once the server is back; the outbox keeps one row, so IT gets it once."""
    db = PostgresDatabase(pg_url)
    try:
        first = db.add_alert("a", "power_lost", 1000.0, "t", "b", 0, lambda last: False)
        again = db.add_alert("a", "power_lost", 1000.0, "t", "b", 0, lambda last: False)
        later = db.add_alert("a", "power_lost", 1001.0, "t", "b", 0, lambda last: False)
        assert again == first and later != first
        assert [r[0] for r in db.alert_list(10)] == [later, first]
    finally:
        db.close()


@pytest.mark.servers
def test_on_postgresql_rows_another_dashboard_took_meanwhile_are_not_sent_again(
        tmp_path, receivers, pg_url):
    """Dashboard A claimed a backlog of alerts and sends them one by one. Its claim runs out
    before it is through (PostgreSQL restarted for longer than the lease, or a slow receiver):
    dashboard B takes the rest and sends it. A used to go on with the rows it had claimed, and
    IT got each of them twice, unmarked (a 15 s restart mid-backlog: 19 alerts for 10)."""
    live = receivers[0]
    config = make_config(tmp_path, [live.url], "quiet_repeat_s = 0")
    now = [time.time()]
    first, second = (PostgresDatabase(pg_url, clock=lambda: now[0]) for _ in range(2))
    try:
        a, b = (Alerter(config, db, load_targets(config), clock=lambda: now[0])
                for db in (first, second))
        for n in range(4):
            a.queue(Alert(f"site-{n}", AlertKind.POWER_LOST, f"Ruang {n}", 600.0))
        recorded = first.alert_tried

        def then_the_lease_runs_out(*args):
            recorded(*args)
            if len(live.messages()) == 1:    # A sent the first; its claim on the rest runs out
                now[0] += LEASE_S + 1
                assert b.send_due() == 3     # B sends them
        first.alert_tried = then_the_lease_runs_out
        a.send_due()
        titles = [m["title"] for m in live.messages()]
        assert titles == [f"Siaga Ruang {n}: Listrik padam: UPS menanggung PC rapat" for n in range(4)]
        assert all(row[6] is not None for row in first.alert_list(10))
    finally:
        first.close()
        second.close()


FAILED_ACK = {"pc": "meeting-pc", "id": "rr1-1-shutdown-meeting-pc", "kind": "shutdown", "ok": False,
              "detail": "did not shut down: exit status 1: Call to PowerOff failed: Access denied",
              "code": "shutdown_failed", "args": {"command": "systemctl poweroff", "status": 1,
                                                  "output": "Call to PowerOff failed: Access denied"}}


@pytest.mark.parametrize("how", ["restart", "takeover"])
def test_a_shutdown_that_left_the_pc_up_reaches_it_once_across_a_restart(
        tmp_path, receivers, location, how):
    """polkit refused the PC's shutdown: IT heard "PC rapat sedang dimatikan dengan aman" and
    nothing more while the PC stayed up on the battery. Now one alert says so, at the default
    min_room; a dashboard restarted (or another taking over the rules on PostgreSQL) neither
    sends it again nor forgets that the outage paged IT (its restore still goes out)."""
    from protocol.messages import JournalEvent
    live = receivers[0]
    config = make_config(tmp_path, [live.url])
    first, second = open_engine(location), open_engine(location)
    now = time.time()
    stages = [("power_lost", {"runtime_s": 1500.0}), ("notice_sent", {"runtime_s": 1490.0}),
              ("shutdown_sent", {"runtime_s": 250.0}),
              ("pc_ack", {**FAILED_ACK, "ok": True, "code": "shutdown_in", "args": {"seconds": 30}}),
              ("pc_ack", FAILED_ACK), ("power_restored", {"duration_s": 120.0})]
    journal = [JournalEvent(site="a", seq=n, ts=now - 60 + n, kind=kind, detail=detail)
               for n, (kind, detail) in enumerate(stages, 1)]
    try:
        leader = Alerter(config, first, load_targets(config))
        other = Alerter(config, second, load_targets(config))
        for event in journal[:-1]:
            first.add_event(event)
            leader.offer(event)
        while leader.send_due():
            pass
        if how == "restart":
            first.close()
            other = Alerter(config, second, load_targets(config))
        else:
            other.take_over()
        for event in journal[-2:]:   # the failed ack again (a QoS 1 redelivery), then the restore
            if second.add_event(event):   # as the store does: a duplicate reaches no rule
                other.offer(event)
        while other.send_due():
            pass
        time.sleep(0.5)
        titles = [m["title"].removeprefix("Siaga a: ") for m in live.messages()]
        assert titles == ["Listrik padam: UPS menanggung PC rapat",
                          "PC rapat sedang dimatikan dengan aman",
                          "PC rapat meeting-pc gagal mematikan dirinya dan masih menyala",
                          "Listrik PLN kembali setelah 2 mnt"]
        body = live.messages()[2]["message"].splitlines()
        assert ("Sebabnya: systemctl poweroff gagal dengan kode keluar 1: \u201cCall to PowerOff "
                "failed: Access denied\u201d.") in body
        assert any(line.startswith("Yang perlu dilakukan TI: Matikan PC meeting-pc secara manual "
                                   "sekarang, sebelum baterai UPS habis dalam 4 mnt") for line in body)
        assert live.messages()[2]["type"] == "failure"
    finally:
        first.close()
        second.close()
