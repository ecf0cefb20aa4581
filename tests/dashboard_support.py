"""Shared by the dashboard tests: a config file, realistic snapshots, and a demo fleet with history."""

from __future__ import annotations

import math
import re
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from protocol.messages import (EventKind, IndicatorView, JournalEvent, OutageView, PcView, Power,
                               StateSnapshot, UpsView, to_json)
from tests.waiting import wait_until  # noqa: F401 - the dashboard tests import it from here

LOOK = {"ready": ("green", "solid", "off"), "attention": ("amber", "solid", "off"),
        "on_battery": ("amber", "blink", "outage"), "wrapup": ("red", "blink", "wrapup"),
        "shutdown": ("red", "fast_blink", "shutdown"), "fault": ("red", "solid", "off")}
PAST_OUTAGE_AGO_S = 19 * 3600 + 1200     # yesterday afternoon: visible on the 24-hour charts
# A value for every detail field of EventKind, as an edge would send it.
SAMPLE_DETAIL = {"resumed_outage": True, "clock_synced": False, "boot": "0f6c2a9e-8d1b-4c3f-9a57-2b8e4d1c7a60", "ups": "meeting", "charge_pct": 92.0, "runtime_s": 540,
                 "load_pct": 38.0, "duration_s": 1210.0, "pcs": ["meeting-pc"], "why": "runtime",
                 "pc": "meeting-pc", "id": "6f1c", "kind": "notice", "ok": True, "detail": "banner",
                 "code": "banner", "args": {},
                 "reason": "data_stale", "status": "OL CHRG", "by": "button", "room": "on_battery",
                 "from_s": 900, "from_seq": 120, "to_seq": 180, "runtime_learned_s": 660,
                 "rate_pct_per_min": 8.2, "discharges": 3, "app": "meet-browser",
                 "meeting": "Rapat anggaran", "start": 1796695200.0, "end": 1796698800.0,
                 "problems": ["battery_low:meeting:62"],
                 "since": 1764266400.0, "problem": "the server answered 503 Service Unavailable",
                 "age_s": 21600}


def write_config(directory: Path, *, mqtt_port: int = 1883, listen: str = "127.0.0.1:8080",
                 language: str = "id", dashboard: str = "", database: str = "") -> Path:
    """A siaga.toml for the dashboard in ``directory`` (its database there, or ``database``)."""
    path = directory / "siaga.toml"
    database = database or str(directory / "dashboard.sqlite3")
    path.write_text(f"""
[site]
id = "dashboard-test"
language = "{language}"

[mqtt]
host = "127.0.0.1"
port = {mqtt_port}

[[ups]]
name = "meeting"

[dashboard]
listen = "{listen}"
database = "{database}"
{dashboard}
""")
    return path


def snapshot(site: str, room: str = "ready", *, now: float | None = None, name: str = "",
             charge: float = 100.0, runtime_s: float = 1800, load: float = 35.0,
             volts: float = 220.0, since: float | None = None, pcs_online: bool = True,
             outage: OutageView | None = None, reasons: list[str] | None = None,
             silenced: bool = False) -> StateSnapshot:
    """A state as an edge would publish it."""
    now = time.time() if now is None else now
    on_battery = room in ("on_battery", "wrapup", "shutdown")
    led, pattern, buzz = LOOK[room]
    ups = UpsView(name="meeting", reachable=room != "fault", status="OB DISCHRG" if on_battery else "OL CHRG",
                  on_battery=on_battery, charge_pct=charge, runtime_s=runtime_s, load_pct=load,
                  input_voltage=0.0 if on_battery else volts)
    pc = PcView(id="meeting-pc", online=pcs_online, last_seen=now - 3, meeting_app=True,
                converting=False, disk_free_gb=118.4)
    return StateSnapshot(site=site, ts=now, room=room, since=now - 600 if since is None else since,
                         name=name, reasons=reasons or [],
                         power=Power(on_battery=on_battery, charge_pct=charge, runtime_s=runtime_s),
                         ups=[ups], pcs=[pc],
                         indicator=IndicatorView(led, pattern, "off" if silenced else buzz, silenced),
                         outage=outage)


def outage_snapshot(site: str, now: float, name: str = "Bappeda - Ruang Rapat 1") -> StateSnapshot:
    """A power cut four minutes old: the host has been told, the recording not yet saved."""
    started = now - 245
    return snapshot(site, "on_battery", now=now, name=name, charge=78.0, runtime_s=1260,
                    load=38.0, since=started,
                    outage=OutageView(started=started, notice_sent=started + 5.2))


def demo_fleet(now: float) -> list[StateSnapshot]:
    """Five meeting rooms of one office, one of them in a power cut, one silent."""
    return [
        outage_snapshot("bappeda-rr1", now),
        snapshot("kominfo-utama", name="Dinas Kominfo - Ruang Rapat Utama", now=now, since=now - 86000),
        snapshot("setda-bupati", name="Setda - Ruang Rapat Bupati", now=now, charge=96.0,
                 since=now - 7200),
        snapshot("bpkad-rr2", "attention", name="BPKAD - Ruang Rapat 2", now=now,
                 pcs_online=False, reasons=["pc_offline:meeting-pc"], since=now - 1500),
        snapshot("disdik-aula", name="Dinas Pendidikan - Aula", now=now - 3600, since=now - 90000),
    ]


def outage_events(site: str, now: float) -> list[JournalEvent]:
    """The journal of a room: an old outage, then the one in progress."""
    old = now - PAST_OUTAGE_AGO_S
    power = {"ups": ["meeting"], "charge_pct": 100.0, "runtime_s": 1800, "load_pct": 37.0}
    told = {"pcs": ["meeting-pc"], "runtime_s": 1790, "charge_pct": 99.0, "why": ""}
    ack = {"pc": "meeting-pc", "id": "6f1c", "kind": "notice", "ok": True, "detail": "banner"}
    kinds = [(old - 3600, "edge_started", {"resumed_outage": False}), (old, "power_lost", power),
             (old + 5, "notice_sent", told), (old + 5.3, "pc_ack", ack),
             (old + 1210, "power_restored", {"duration_s": 1210.0}),
             (now - 245, "power_lost", power), (now - 239.8, "notice_sent", told),
             (now - 239.5, "pc_ack", ack)]
    return [JournalEvent(site=site, seq=i + 1, ts=ts, kind=k, detail=d) for i, (ts, k, d) in enumerate(kinds)]


# The history table of a v0.1 dashboard database: one averaged sample a minute.
V01_HISTORY = """
CREATE TABLE IF NOT EXISTS history (
    site TEXT NOT NULL, ts REAL NOT NULL, room TEXT NOT NULL,
    charge REAL, runtime REAL, load REAL, voltage REAL);
CREATE INDEX IF NOT EXISTS history_site_ts ON history (site, ts);
"""


def every_kind(site: str, now: float, first_seq: int = 1) -> list[JournalEvent]:
    """One event of every EventKind with all its detail fields, a second apart up to ``now``."""
    kinds = list(EventKind)
    return [JournalEvent(site=site, seq=first_seq + i, ts=now - len(kinds) + i, kind=k.value,
                         detail={f: SAMPLE_DETAIL[f] for f in k.fields}) for i, k in enumerate(kinds)]


def seed_history(database: str, state: StateSnapshot, now: float, days: int = 7) -> None:
    """A week of one-a-minute history with a 20-minute outage yesterday, written as a v0.1
    dashboard kept it: the dashboard carries it over into its new history when it opens the file."""
    outage_at = now - PAST_OUTAGE_AGO_S
    rows = []
    for minute in range(days * 1440, 0, -1):
        ts = now - minute * 60
        charge, cut = _charge(ts - outage_at)
        if now - ts < 245:
            charge, cut = 100 - (245 - (now - ts)) / 245 * 22, True
        rows.append((state.site, ts, "on_battery" if cut else "ready", round(charge, 1),
                     1800 * charge / 100, 35 + 4 * math.sin(minute / 90),
                     0.0 if cut else 219 + 3 * math.sin(minute / 200)))
    with sqlite3.connect(database) as conn:
        conn.executescript(V01_HISTORY)
        conn.executemany("INSERT INTO history (site, ts, room, charge, runtime, load, voltage) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    conn.close()


def _charge(since_cut: float) -> tuple[float, bool]:
    """(charge, on battery) around a 20-minute cut and the 45 minutes of recharging after it."""
    if 0 <= since_cut < 1200:
        return 100 - since_cut / 1200 * 45, True
    if 1200 <= since_cut < 3900:
        return 55 + (since_cut - 1200) / 2700 * 45, False
    return 100.0, False


class Client:
    """A paho client for tests: publish as the edge would, and record what arrives."""

    def __init__(self, port: int, subscribe: tuple[str, ...] = ()) -> None:
        self.received: list[tuple[str, bytes]] = []
        self._connected = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        self.client.on_message = lambda c, u, m: self.received.append((m.topic, m.payload))
        self.client.on_connect = lambda c, u, f, r, p: ([c.subscribe(t, qos=1) for t in subscribe],
                                                        self._connected.set())
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self._connected.wait(5), "could not connect to the test broker"

    def publish(self, topic: str, payload: Any, retain: bool = False) -> None:
        """Publish at QoS 1 and wait until the broker has it."""
        data = to_json(payload) if not isinstance(payload, (bytes, str)) else payload
        self.client.publish(topic, data, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def start_dashboard(config: Path, url: str, log: Path) -> subprocess.Popen:
    """Run `siaga dashboard -c config` and wait until ``url`` answers (any HTTP status)."""
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "siaga", "dashboard", "-c", str(config)],
                                stdout=out, stderr=subprocess.STDOUT)
    # Ready in 1-2 s on a quiet machine; a CI box running four workers can take many times that.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"siaga dashboard exited with {proc.returncode}:\n{log.read_text()}")
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1).close()
            return proc
        except urllib.error.HTTPError:
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    proc.wait()     # reaped here, or a later test fails on its ResourceWarning
    raise AssertionError(f"siaga dashboard did not answer in 60 s:\n{log.read_text()}")


PASSWORD = "rahasia-rapat-1"
TOKEN = "token-for-scripts-0123456789"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client) -> str:
    """Log in; the CSRF token of the session."""
    token = csrf_of(client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"csrf_token": token, "password": PASSWORD, "next": "/"})
    assert answer.status_code == 303
    return csrf_of(client.get("/sites/bappeda-rr1").get_data(as_text=True))
