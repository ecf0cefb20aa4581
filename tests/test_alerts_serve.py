"""Alerts end to end: `siaga dashboard` under waitress, real mosquitto, a real HTTP receiver behind
an Apprise ``json://`` URL. An outage published as an edge publishes it reaches IT, in order,
once; with the receiver down the alerts wait in the outbox, survive a SIGKILL, arrive once."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from zoneinfo import ZoneInfo

from protocol.messages import JournalEvent
from siaga.servers import free_port, stop_process
from tests.alert_receiver import Receiver
from tests.dashboard_support import Client, snapshot, start_dashboard, wait_until, write_config

TOKEN = "alerts-test-token-0123456789abcdef"
NAME = "Bappeda - Ruang Rapat 1"
PUBLIC_URL = "http://pi.local:8080"
JAKARTA = ZoneInfo("Asia/Jakarta")     # site.timezone's default


class Dash:
    """A dashboard process with alerts to ``receiver``, and an edge's MQTT client."""

    def __init__(self, tmp_path: Path, broker_port: int, receiver: Receiver, extra: str = ""):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (tmp_path / "token").write_text(TOKEN + "\n")
        (tmp_path / "alerts.urls").write_text(f"# IT's webhook\n{receiver.url}\n")
        alerts = f'\n[alerts]\nurls_file = "alerts.urls"\nretry_max_s = 1\n{extra}'
        self.config = write_config(tmp_path, mqtt_port=broker_port, listen=f"127.0.0.1:{self.port}",
                                   dashboard=f'api_token_file = "token"\n'
                                             f'public_url = "{PUBLIC_URL}"\n{alerts}')
        self.log = tmp_path / "dashboard.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Dash":
        self.proc = start_dashboard(self.config, self.url, self.log)
        return self

    def alerts(self) -> list[dict]:
        request = urllib.request.Request(self.url + "/api/alerts",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=5) as answer:
            return json.load(answer)["alerts"]

    def stop(self) -> None:
        stop_process(self.proc)


def publish_room(edge: Client, site: str, dash: Dash) -> None:
    """The edge's retained state; returns once the dashboard shows it (its subscription is up)."""
    edge.publish(f"siaga/{site}/edge/state", snapshot(site, "ready", name=NAME), retain=True)

    def shown() -> bool:
        with urllib.request.urlopen(dash.url + "/api/sites", timeout=5) as answer:
            return any(s["site"] == site for s in json.load(answer)["sites"])
    wait_until(shown, 10, what="the dashboard showing the room")


def publish_events(edge: Client, site: str, kinds: list[tuple[str, dict]], seq: int = 1,
                   ts: float | None = None) -> list[float]:
    """Journal events as the edge publishes them (QoS 1, not retained); their times."""
    times = []
    for n, (kind, detail) in enumerate(kinds):
        event = JournalEvent(site=site, seq=seq + n, ts=time.time() if ts is None else ts,
                             kind=kind, detail=detail)
        edge.publish(f"siaga/{site}/edge/event", event)
        times.append(event.ts)
    return times


OUTAGE = [("power_lost", {"ups": "meeting", "charge_pct": 100.0, "runtime_s": 1800}),
          ("notice_sent", {"pcs": ["meeting-pc"], "runtime_s": 1795, "why": "runtime"}),
          ("pc_ack", {"pc": "meeting-pc", "kind": "notice", "ok": True}),
          ("wrapup_sent", {"pcs": ["meeting-pc"], "runtime_s": 290, "why": "runtime"}),
          ("shutdown_sent", {"pcs": ["meeting-pc"], "runtime_s": 115, "why": "runtime"}),
          ("pc_off", {"pc": "meeting-pc"}),
          ("power_restored", {"duration_s": 1500.0})]
EXPECTED = [f"Siaga {NAME}: Listrik padam: UPS menanggung PC rapat",
            f"Siaga {NAME}: Sisa daya UPS sampai batas penutupan: PC sudah diminta menyimpan rekaman",
            f"Siaga {NAME}: PC rapat sedang dimatikan dengan aman",
            f"Siaga {NAME}: PC rapat meeting-pc sudah mati",
            f"Siaga {NAME}: Listrik PLN kembali setelah 25 mnt"]
# What IT should do, one sentence per stage, and Apprise's type (the json:// body's "type")
ACTIONS = [("Periksa listrik gedung", "warning"),
           ("Pulihkan listrik atau datang ke ruangan sekarang", "failure"),
           ("Pastikan tidak ada yang mencabut kabel", "failure"),
           ("Setelah listrik PLN kembali, nyalakan lagi PC", "failure"),
           ("Nyalakan lagi PC rapat dan periksa rekaman", "info")]


@pytest.fixture
def receiver():
    receiver = Receiver(free_port())
    yield receiver
    receiver.stop()


def test_an_outage_reaches_it_in_order_exactly_once(tmp_path, broker, receiver):
    receiver.start()
    dash = Dash(tmp_path, broker.port, receiver).start()
    edge = Client(broker.port)
    try:
        publish_room(edge, "bappeda-rr1", dash)
        publish_events(edge, "bappeda-rr1", OUTAGE)
        wait_until(lambda: len(receiver.messages()) >= 5, 15, what="five alerts",
                   context=lambda: str(receiver.messages()))
        time.sleep(1.5)   # anything sent twice would arrive now
        messages = receiver.messages()
        assert [m["title"] for m in messages] == EXPECTED
        assert "Sisa waktu UPS: 29 mnt." in messages[0]["message"]   # 1795 s left: rounded down
        assert "Yang perlu dilakukan TI: Pulihkan listrik" in messages[1]["message"]
        outbox = dash.alerts()
        assert [a["kind"] for a in outbox] == ["power_restored", "pc_off", "shutdown", "wrapup",
                                               "power_lost"]
        assert all(a["sent"] and a["tries"] == 1 and a["site"] == "bappeda-rr1" for a in outbox)
        dash.proc.send_signal(signal.SIGTERM)              # the sender thread stops with it
        assert dash.proc.wait(10) == 0
    finally:
        edge.close()
        dash.stop()


def test_alerts_wait_out_a_dead_receiver_and_a_sigkill_then_arrive_once(tmp_path, broker, receiver):
    dash = Dash(tmp_path, broker.port, receiver).start()      # the receiver is down
    edge = Client(broker.port)
    try:
        publish_room(edge, "bappeda-rr1", dash)
        publish_events(edge, "bappeda-rr1", OUTAGE[:4])
        waiting = wait_until(lambda: [a for a in dash.alerts() if a["tries"] >= 2], 15,
                             what="retries of the waiting alerts", context=dash.log.read_text)
        outbox = dash.alerts()
        assert [a["kind"] for a in outbox] == ["wrapup", "power_lost"]
        assert all(a["sent"] is None for a in outbox)
        assert waiting[0]["last_error"] == ("line 2 (json): A Connection error occurred sending "
                                           "JSON notification to 127.0.0.1.")
        assert receiver.url not in str(outbox)
        dash.proc.kill()                                    # SIGKILL: no clean stop
        dash.proc.wait(5)
        receiver.start()
        dash.start()
        wait_until(lambda: len(receiver.messages()) >= 2, 15, what="the two waiting alerts",
                   context=dash.log.read_text)
        time.sleep(1.5)
        assert [m["title"] for m in receiver.messages()] == EXPECTED[:2]
        assert all(a["sent"] for a in dash.alerts())
    finally:
        edge.close()
        dash.stop()


def test_a_dashboard_killed_while_delivering_sends_that_alert_again_marked_a_possible_duplicate(
        tmp_path, broker, receiver):
    """SIGKILL after the receiver took the alert and before it answered: the outbox cannot know
    whether it arrived, so it goes again (a page twice beats none), and says so in its title;
    the alerts after it go once, unmarked."""
    receiver.hold_s = 30.0                 # the webhook has the body and is slow to answer
    receiver.start()
    dash = Dash(tmp_path, broker.port, receiver).start()
    edge = Client(broker.port)
    try:
        publish_room(edge, "bappeda-rr1", dash)
        publish_events(edge, "bappeda-rr1", OUTAGE[:2])     # IT is paged once the PC was told
        wait_until(lambda: len(receiver.messages()) == 1, 15, what="the alert at the receiver",
                   context=dash.log.read_text)
        dash.proc.kill()                   # mid-delivery: the answer never gets recorded
        dash.proc.wait(5)
        receiver.hold_s = 0.0
        dash.start()
        wait_until(lambda: len(receiver.messages()) == 2, 15, what="the alert sent again",
                   context=dash.log.read_text)
        publish_events(edge, "bappeda-rr1", OUTAGE[2:], seq=3)
        wait_until(lambda: len(receiver.messages()) == 6, 15, what="the rest of the outage",
                   context=lambda: str(receiver.messages()))
        time.sleep(1.5)                    # anything sent twice more would arrive now
        first, again, *rest = receiver.messages()
        assert first["title"] == EXPECTED[0]
        assert again["title"] == "[Mungkin ganda] " + EXPECTED[0]
        assert again["message"] == first["message"]
        assert [m["title"] for m in rest] == EXPECTED[1:]
        assert all(a["sent"] for a in dash.alerts())
    finally:
        edge.close()
        dash.stop()


def test_two_cuts_within_the_hour_both_reach_it_in_full(tmp_path, broker, receiver):
    """The second cut 1 s after the first ended still pages IT for every stage, each alert with
    the room's local time, the room's link, Apprise's type and what IT should do; test alerts
    are never held back either."""
    receiver.start()
    dash = Dash(tmp_path, broker.port, receiver).start()
    edge = Client(broker.port)
    try:
        publish_room(edge, "bappeda-rr1", dash)
        times = publish_events(edge, "bappeda-rr1", OUTAGE, seq=1)
        wait_until(lambda: len(receiver.messages()) >= 5, 15, what="the first cut's alerts",
                   context=dash.log.read_text)
        times += publish_events(edge, "bappeda-rr1", OUTAGE, seq=len(OUTAGE) + 1)
        for _ in range(2):
            request = urllib.request.Request(dash.url + "/alerts/test", method="POST",
                                             headers={"Authorization": f"Bearer {TOKEN}"})
            with urllib.request.urlopen(request, timeout=5) as answer:
                assert answer.status == 202
        wait_until(lambda: len(receiver.messages()) >= 12, 15, what="twelve alerts",
                   context=lambda: str([m["title"] for m in receiver.messages()]))
        time.sleep(1.5)   # anything more would arrive now
        messages = receiver.messages()
        outage = [m for m in messages if "Uji peringatan" not in m["title"]]
        assert [m["title"] for m in outage] == EXPECTED + EXPECTED
        stage_times = [t for (kind, _), t in zip(OUTAGE * 2, times)
                       if kind not in ("power_lost", "pc_ack")]
        for m, at, (action, kind) in zip(outage, stage_times, ACTIONS * 2):
            local = dt.datetime.fromtimestamp(at, JAKARTA).strftime("%H:%M WIB")
            assert f"Waktu: {local}." in m["message"].splitlines()
            assert f"Yang perlu dilakukan TI: {action}" in m["message"]
            assert f"Halaman ruangan: {PUBLIC_URL}/sites/bappeda-rr1" in m["message"].splitlines()
            assert m["type"] == kind
        assert "PC rapat meeting-pc masih mati." in outage[4]["message"]
        tests = [m for m in messages if m["title"] == "Siaga dashboard-test: Uji peringatan dari dasbor Siaga"]
        assert len(tests) == 2 and all(m["type"] == "info" for m in tests)
    finally:
        edge.close()
        dash.stop()


def test_a_replayed_cut_is_marked_late_and_does_not_silence_the_next(tmp_path, broker, receiver):
    """Events the dashboard hears 20 min late (a replay after an uplink cut, a dashboard started
    after the cut) go out once, marked late with their own time; the real cut after it pages IT
    in full, as news."""
    receiver.start()
    dash = Dash(tmp_path, broker.port, receiver).start()
    edge = Client(broker.port)
    try:
        publish_room(edge, "bappeda-rr1", dash)
        old = time.time() - 1200
        publish_events(edge, "bappeda-rr1", OUTAGE, seq=1, ts=old)
        publish_events(edge, "bappeda-rr1", OUTAGE, seq=len(OUTAGE) + 1)
        wait_until(lambda: len(receiver.messages()) >= 10, 15, what="ten alerts",
                   context=lambda: str([m["title"] for m in receiver.messages()]))
        time.sleep(1.5)
        messages = receiver.messages()
        assert [m["title"] for m in messages] == [f"[Terlambat] {t}" for t in EXPECTED] + EXPECTED
        local = dt.datetime.fromtimestamp(old, JAKARTA).strftime("%H:%M WIB")
        for m in messages[:5]:   # (with the date too when the cut was before local midnight)
            [line] = [x for x in m["message"].splitlines() if x.startswith("Kabar terlambat: ")]
            assert line.startswith("Kabar terlambat: kejadiannya pukul ") and f"{local}," in line
        assert not any("terlambat" in m["message"] for m in messages[5:])
    finally:
        edge.close()
        dash.stop()


def test_the_outbox_needs_a_login_or_the_token(tmp_path, broker, receiver):
    dash = Dash(tmp_path, broker.port, receiver).start()
    try:
        for method, path in (("GET", "/api/alerts"), ("POST", "/alerts/test")):
            request = urllib.request.Request(dash.url + path, method=method)
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=5)
            refused.value.close()
            assert refused.value.code == 401
    finally:
        dash.stop()


@pytest.mark.parametrize("lines, expected", [
    ("json://127.0.0.1:9/ok\n\ntgram://SECRET-TOKEN\n", "alerts.urls line 3: not an Apprise URL"),
    ("SECRET-TOKEN-WITHOUT-SCHEME\n", "alerts.urls line 1: not an Apprise URL Siaga can use "
                                      "(no scheme://)"),
])
def test_a_bad_url_file_exits_2_naming_file_and_line_never_the_secret(tmp_path, lines, expected):
    receiver = Receiver(9)
    dash = Dash(tmp_path, 1883, receiver)
    (tmp_path / "alerts.urls").write_text(lines)
    result = subprocess.run([sys.executable, "-m", "siaga", "dashboard", "-c", str(dash.config)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert expected in result.stderr and "siaga.toml: alerts.urls_file:" in result.stderr
    assert "SECRET" not in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unreadable_url_file_exits_2_naming_it(tmp_path):
    dash = Dash(tmp_path, 1883, Receiver(9))
    (tmp_path / "alerts.urls").unlink()
    result = subprocess.run([sys.executable, "-m", "siaga", "dashboard", "-c", str(dash.config)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"siaga.toml: alerts.urls_file: cannot read "
                                     f"{tmp_path / 'alerts.urls'}: No such file or directory")


REFUSED = ("pc_ack", {"pc": "meeting-pc", "id": "bappeda-rr1-1-shutdown-meeting-pc",
                      "kind": "shutdown", "ok": False,
                      "detail": "did not shut down: exit status 1: Call to PowerOff failed: "
                                "Access denied", "code": "shutdown_failed",
                      "args": {"command": "systemctl poweroff", "status": 1,
                               "output": "Call to PowerOff failed: Access denied"}})


def test_a_pc_that_did_not_shut_down_pages_it_once_even_after_a_restart(tmp_path, broker, receiver):
    """The PC's shutdown command failed (polkit refused it): the last thing IT had heard was "the
    meeting PC is being shut down cleanly" while the PC stayed up on the battery. Now IT is told
    to switch it off by hand, once: the edge's repeat after the dashboard restarted is not news."""
    receiver.start()
    dash = Dash(tmp_path, broker.port, receiver).start()
    edge = Client(broker.port)
    try:
        publish_room(edge, "bappeda-rr1", dash)
        publish_events(edge, "bappeda-rr1", OUTAGE[:2] + OUTAGE[4:5] + [REFUSED])
        wait_until(lambda: len(receiver.messages()) >= 3, 15, what="three alerts",
                   context=lambda: str([m["title"] for m in receiver.messages()]))
        dash.proc.send_signal(signal.SIGTERM)
        assert dash.proc.wait(10) == 0
        dash.start()
        publish_room(edge, "bappeda-rr1", dash)
        publish_events(edge, "bappeda-rr1", [REFUSED], seq=4)          # the same event again
        publish_events(edge, "bappeda-rr1", OUTAGE[-1:], seq=5)
        wait_until(lambda: len(receiver.messages()) >= 4, 15, what="the restore",
                   context=dash.log.read_text)
        time.sleep(1.5)   # anything sent twice would arrive now
        messages = receiver.messages()
        assert [m["title"] for m in messages] == [
            EXPECTED[0], EXPECTED[2],
            f"Siaga {NAME}: PC rapat meeting-pc gagal mematikan dirinya dan masih menyala",
            EXPECTED[-1]]
        lines = messages[2]["message"].splitlines()
        assert ("Sebabnya: systemctl poweroff gagal dengan kode keluar 1: \u201cCall to PowerOff "
                "failed: Access denied\u201d.") in lines
        assert "Sisa waktu UPS: 1 mnt." in lines                 # 115 s left at the shutdown
        assert ("Yang perlu dilakukan TI: Matikan PC meeting-pc secara manual sekarang, sebelum "
                "baterai UPS habis dalam 1 mnt: minta peserta menyimpan pekerjaannya, lalu matikan "
                "dari menu PC itu atau dengan tombol dayanya.") in lines
        assert f"Halaman ruangan: {PUBLIC_URL}/sites/bappeda-rr1" in lines
        assert messages[2]["type"] == "failure"
    finally:
        edge.close()
        dash.stop()
