"""`siaga dashboard --migrate-from OLD.sqlite3`: a regional SQLite dashboard into PostgreSQL,
the same pages' data afterwards, nothing twice when run again, bad input in one line."""

from __future__ import annotations

import pytest

from dashboard.alerts.outbox import Alerter
from dashboard.alerts.rules import Alert, AlertKind
from dashboard.store.store import Store
from protocol.config import load_config
from protocol.messages import JournalEvent, OutageView
from siaga.cli import main
from tests.dashboard_support import snapshot, write_config

T0 = 1764270000.0


@pytest.fixture
def old(tmp_path):
    """A regional dashboard's file: two rooms, an outage with its span, minutes, events, an alert."""
    path = str(tmp_path / "region.sqlite3")
    now = [T0]
    store = Store(path, clock=lambda: now[0])
    for i in range(20):
        now[0] = T0 + 30 * i
        room = "on_battery" if 8 <= i < 14 else "ready"
        outage = OutageView(started=T0 + 240) if room == "on_battery" else None
        for site in ("kantor-a", "kantor-b"):
            store.put_state(snapshot(site, room, now=now[0], charge=100.0 - i, outage=outage,
                                     name=f"Ruang {site}"))
    for seq, kind in enumerate(("edge_started", "power_lost", "power_restored"), 1):
        store.put_event(JournalEvent(site="kantor-a", seq=seq, ts=T0 + 100 * seq, kind=kind))
    config = load_config(write_config(tmp_path, dashboard='[alerts]\nurls_file = "urls"'))
    (tmp_path / "urls").write_text("json://127.0.0.1:9/\n")
    Alerter(config, store.db, []).queue(Alert("kantor-a", AlertKind.POWER_LOST, "Ruang A", 600.0))
    answer = {site: store.history(site, "24h") for site in ("kantor-a", "kantor-b")}
    store.close()
    return path, answer


def test_a_regional_file_lands_in_postgresql_once(tmp_path, old, pg_url, capsys):
    path, history = old
    (tmp_path / "central").mkdir()
    config = write_config(tmp_path / "central", database=pg_url)
    assert main(["dashboard", "-c", str(config), "--migrate-from", path]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"copied {path} into postgresql://postgres@") and "3 events" in said
    assert "2 states" in said and "1 alerts" in said
    assert main(["dashboard", "-c", str(config), "--migrate-from", path]) == 0     # again
    said = capsys.readouterr().out
    assert "0 events" in said and "0 states" in said and "0 alerts" in said
    store = Store(pg_url, clock=lambda: T0 + 600)
    try:
        assert [e.site for e in store.entries()] == ["kantor-a", "kantor-b"]
        assert store.entry("kantor-a").state.name == "Ruang kantor-a"
        assert [e.kind for e in store.events("kantor-a")] == ["power_restored", "power_lost",
                                                               "edge_started"]
        for site in ("kantor-a", "kantor-b"):
            answer = store.history(site, "24h")
            assert answer["buckets"] == history[site]["buckets"]
            assert answer["battery"] == history[site]["battery"] == [[T0 + 240, T0 + 420]]
        assert [(row[1], row[2]) for row in store.db.alert_list(5)] == [("kantor-a", "power_lost")]
    finally:
        store.close()


def test_migrating_into_sqlite_or_from_a_missing_file_is_one_line(tmp_path, pg_url, capsys):
    config = write_config(tmp_path)
    assert main(["dashboard", "-c", str(config), "--migrate-from", "x.sqlite3"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("siaga.toml: dashboard.database: --migrate-from copies into PostgreSQL")
    assert "\n" not in err
    config = write_config(tmp_path, database=pg_url)
    assert main(["dashboard", "-c", str(config), "--migrate-from", str(tmp_path / "gone.sqlite3")]) == 1
    assert capsys.readouterr().err.strip() == f"siaga dashboard: {tmp_path / 'gone.sqlite3'}: no such file"


def test_an_alert_the_regional_dashboard_sent_between_the_two_copies_is_not_sent_again(
        tmp_path, old, pg_url):
    """docs/fleet.md: copy while the regional dashboard runs, stop it, copy again, start the
    dashboards on PostgreSQL. An alert waiting in its outbox at the first copy and sent by it
    before it stopped stayed unsent in PostgreSQL: IT got the power cut again, late."""
    from dashboard.alerts.targets import load_targets
    from siaga.servers import free_port
    from tests.alert_receiver import Receiver
    path, _ = old
    receiver = Receiver(free_port()).start()
    try:
        (tmp_path / "urls").write_text(receiver.url + "\n")
        (tmp_path / "central").mkdir()
        central = write_config(tmp_path / "central", database=pg_url,
                               dashboard='[alerts]\nurls_file = "../urls"')
        assert main(["dashboard", "-c", str(central), "--migrate-from", path]) == 0
        regional = load_config(write_config(tmp_path, dashboard='[alerts]\nurls_file = "urls"'))
        store = Store(path)
        assert Alerter(regional, store.db, load_targets(regional)).send_due() == 1   # then it stops
        store.close()
        assert main(["dashboard", "-c", str(central), "--migrate-from", path]) == 0
        config = load_config(central)
        store = Store(pg_url)
        try:
            assert Alerter(config, store.db, load_targets(config)).send_due() == 0
        finally:
            store.close()
        assert [m["title"] for m in receiver.messages()] == [
            "Siaga Ruang A: Listrik padam: UPS menanggung PC rapat"]
    finally:
        receiver.stop()
