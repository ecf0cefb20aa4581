"""`/metrics` is written by our own code (dashboard/web/metrics.py): it must be, byte for byte, what
prometheus_client writes for the same metrics, so that every Prometheus reads it as before."""

from __future__ import annotations

import time
from dataclasses import replace

from hypothesis import given, strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families

import tests.hypothesis_profiles  # noqa: F401  (the suite's Hypothesis settings)
from dashboard.store.store import Store
from dashboard.web.metrics import SITE_GAUGES, UPS_GAUGES, Metrics, escape, go_float
from protocol.messages import ROOM_STATES, OutageView, PcView, UpsView, to_dict
from tests.dashboard_support import snapshot


class Reference:
    """The metrics as prometheus_client's own families (how /metrics was made until the
    30,000-room dashboard): the oracle for our writer."""

    def __init__(self, store: Store, connected: bool) -> None:
        self.store, self.connected = store, connected

    def collect(self):
        entries = self.store.entries()
        ups = {name: GaugeMetricFamily(name, text, labels=["site", "ups"]) for name, text, _, _ in UPS_GAUGES}
        reachable = GaugeMetricFamily("siaga_ups_reachable", "1 when the UPS can be read", labels=["site", "ups"])
        room = GaugeMetricFamily("siaga_room_state", "1 for the room's current state", labels=["site", "state"])
        site = {name: GaugeMetricFamily(name, text, labels=["site"]) for name, text in SITE_GAUGES}
        online = GaugeMetricFamily("siaga_pc_online", "1 when the meeting PC is online", labels=["site", "pc"])
        disk = GaugeMetricFamily("siaga_pc_disk_free_bytes", "Disk free for recordings", labels=["site", "pc"])
        for entry in entries:
            s = entry.state
            for u in s.ups:
                reachable.add_metric([s.site, u.name], float(u.reachable))
                for name, _, field, scale in UPS_GAUGES:
                    if getattr(u, field) is not None:
                        ups[name].add_metric([s.site, u.name], getattr(u, field) * scale)
            for state in ROOM_STATES:
                room.add_metric([s.site, state], float(s.room == state))
            site["siaga_on_battery"].add_metric([s.site], float(s.power.on_battery))
            site["siaga_site_stale"].add_metric([s.site], float(entry.stale))
            site["siaga_state_timestamp_seconds"].add_metric([s.site], s.ts)
            if s.outage is not None:
                site["siaga_outage_started_timestamp_seconds"].add_metric([s.site], s.outage.started)
            for pc in s.pcs:
                online.add_metric([s.site, pc.id], float(pc.online))
                if pc.disk_free_gb is not None:
                    disk.add_metric([s.site, pc.id], pc.disk_free_gb * 1e9)
        messages = CounterMetricFamily("siaga_dashboard_messages", "MQTT messages taken in", labels=["kind"])
        for kind, n in sorted(self.store.counters().items()):
            messages.add_metric([kind], n)
        return [*ups.values(), reachable, room, *site.values(), online, disk, messages,
                GaugeMetricFamily("siaga_dashboard_mqtt_connected", "1 while the broker is connected",
                                  value=float(self.connected)),
                GaugeMetricFamily("siaga_dashboard_sites", "Sites known", value=len(entries))]


def reference_text(store: Store, connected: bool) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Reference(store, connected))
    return generate_latest(registry)


def fleet(store: Store, now: float) -> None:
    """Rooms in every state, with what a real fleet has: a UPS unreachable, values not
    reported, a PC offline without a disk figure, names that need escaping, two UPSes."""
    odd = UpsView(name='rack "B"\\2\nlantai 3', reachable=False)
    store.put_state(snapshot("bappeda-rr1", "on_battery", now=now, charge=78.0, runtime_s=1260,
                             load=38.0, outage=OutageView(started=now - 245, notice_sent=now - 240)))
    store.put_state(snapshot("bpkad-rr2", "attention", now=now - 100, pcs_online=False))
    store.put_state(snapshot("disdik-aula", now=now - 3600))                  # stale
    base = snapshot("kominfo-utama", "fault", now=now, charge=100.0, volts=231.5)
    store.put_state(replace(base, ups=[*base.ups, odd],
                            pcs=[*base.pcs, PcView(id='pc "kedua"', online=False, disk_free_gb=None)]))
    for n, room in enumerate(ROOM_STATES):
        store.put_state(snapshot(f"kantor-{n:02d}", room, now=now - n, charge=n * 12.5,
                                 runtime_s=n * 0.1, load=100.0 / (n + 3)))
    store.count("bad")


def test_metrics_are_prometheus_clients_text_byte_for_byte(tmp_path):
    store = Store(str(tmp_path / "d.sqlite3"))
    fleet(store, time.time())
    for connected in (True, False):
        ours = Metrics(store, lambda: connected).render()
        assert ours == reference_text(store, connected)
    text = ours.decode()
    assert 'siaga_ups_reachable{site="kominfo-utama",ups="rack \\"B\\"\\\\2\\nlantai 3"} 0.0' in text
    assert 'siaga_site_stale{site="disdik-aula"} 1.0' in text
    families = {f.name: f for f in text_string_to_metric_families(text)}   # Prometheus reads it
    assert len(families["siaga_room_state"].samples) == len(ROOM_STATES) * (4 + len(ROOM_STATES))


def test_a_state_another_dashboard_stored_is_written_from_its_json(tmp_path):
    """On a shared database a state heard from another dashboard has only its JSON until a page
    needs the message; /metrics writes it without building it."""
    store = Store(str(tmp_path / "d.sqlite3"))
    now = time.time()
    fleet(store, now)
    expected = Metrics(store, lambda: True).render()
    for entry in store.entries():
        entry.__dict__["state"] = None      # as Store._take leaves a state it heard as JSON
    assert Metrics(store, lambda: True).render() == expected
    assert all(entry.__dict__["state"] is None for entry in store.entries())


numbers = st.one_of(st.none(), st.integers(-10**6, 10**12),
                    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e22, max_value=1e22))


@given(charge=numbers, runtime=numbers, load=numbers, volts=numbers, disk=numbers,
       ts=st.floats(min_value=0, max_value=4e9))
def test_any_value_is_written_as_prometheus_client_writes_it(tmp_path_factory, charge, runtime, load,
                                                               volts, disk, ts):
    store = Store(str(tmp_path_factory.mktemp("m") / "d.sqlite3"))
    base = snapshot("kantor-1", "on_battery", now=ts, outage=OutageView(started=ts))
    store.put_state(replace(base, ups=[UpsView(name="meeting", reachable=True, charge_pct=charge,
                                               runtime_s=runtime, load_pct=load, input_voltage=volts)],
                            pcs=[PcView(id="pc", online=True, disk_free_gb=disk)]))
    assert store.entry("kantor-1").data == to_dict(store.entry("kantor-1").state)
    assert Metrics(store, lambda: True).render() == reference_text(store, True)


def test_go_float_and_escape_edges():
    assert [go_float(v) for v in (1, 0.78, 1800, 1.7654321e9, 1234567.0, 123456.0, 1e21, float("inf"))] == \
        ["1.0", "0.78", "1800.0", "1.7654321e+09", "1.234567e+06", "123456.0", "1e+21", "+Inf"]
    assert escape('a"b\\c\nd') == 'a\\"b\\\\c\\nd' and escape("bappeda-rr1") == "bappeda-rr1"
