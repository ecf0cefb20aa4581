"""`/metrics`: the store's latest states in Prometheus text format, computed at each scrape."""

from __future__ import annotations

from typing import Callable, Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from dashboard.store import Store
from edge.messages import ROOM_STATES

UPS_GAUGES = (  # name, help, UpsView field, scale
    ("siaga_ups_battery_charge_ratio", "Battery charge, 0 to 1", "charge_pct", 0.01),
    ("siaga_ups_battery_runtime_seconds", "Battery runtime left", "runtime_s", 1.0),
    ("siaga_ups_load_ratio", "UPS load, 0 to 1", "load_pct", 0.01),
    ("siaga_ups_input_voltage_volts", "UPS input voltage", "input_voltage", 1.0),
)


class SiagaCollector:
    """Yields one set of ``siaga_`` metrics per site from the store."""

    def __init__(self, store: Store, connected: Callable[[], bool]) -> None:
        self.store = store
        self.connected = connected

    def collect(self) -> Iterable[Metric]:
        """Build every metric from the store's current entries."""
        entries = self.store.entries()
        ups = {name: GaugeMetricFamily(name, text, labels=["site", "ups"])
               for name, text, _, _ in UPS_GAUGES}
        reachable = GaugeMetricFamily("siaga_ups_reachable", "1 when the UPS can be read",
                                      labels=["site", "ups"])
        room = GaugeMetricFamily("siaga_room_state", "1 for the room's current state",
                                 labels=["site", "state"])
        site = {n: GaugeMetricFamily(n, text, labels=["site"]) for n, text in (
            ("siaga_on_battery", "1 when the UPS feeding the PC is on battery"),
            ("siaga_site_stale", "1 when the edge is offline or its state is too old"),
            ("siaga_state_timestamp_seconds", "When the edge made its last state"),
            ("siaga_outage_started_timestamp_seconds", "When the current power cut began"))}
        pc_online = GaugeMetricFamily("siaga_pc_online", "1 when the meeting PC is online",
                                      labels=["site", "pc"])
        pc_disk = GaugeMetricFamily("siaga_pc_disk_free_bytes", "Disk free for recordings",
                                    labels=["site", "pc"])
        for entry in entries:
            s = entry.state
            for u in s.ups:
                reachable.add_metric([s.site, u.name], float(u.reachable))
                for name, _, field, scale in UPS_GAUGES:
                    value = getattr(u, field)
                    if value is not None:
                        ups[name].add_metric([s.site, u.name], value * scale)
            for state in ROOM_STATES:
                room.add_metric([s.site, state], float(s.room == state))
            site["siaga_on_battery"].add_metric([s.site], float(s.power.on_battery))
            site["siaga_site_stale"].add_metric([s.site], float(entry.stale))
            site["siaga_state_timestamp_seconds"].add_metric([s.site], s.ts)
            if s.outage is not None:
                site["siaga_outage_started_timestamp_seconds"].add_metric([s.site], s.outage.started)
            for pc in s.pcs:
                pc_online.add_metric([s.site, pc.id], float(pc.online))
                if pc.disk_free_gb is not None:
                    pc_disk.add_metric([s.site, pc.id], pc.disk_free_gb * 1e9)
        yield from ups.values()
        yield from (reachable, room, *site.values(), pc_online, pc_disk)
        yield from self._own()

    def _own(self) -> Iterable[Metric]:
        messages = CounterMetricFamily("siaga_dashboard_messages", "MQTT messages taken in",
                                       labels=["kind"])
        for kind, n in sorted(self.store.counters().items()):
            messages.add_metric([kind], n)
        yield messages
        yield GaugeMetricFamily("siaga_dashboard_mqtt_connected", "1 while the broker is connected",
                                value=float(self.connected()))
        yield GaugeMetricFamily("siaga_dashboard_sites", "Sites known", value=len(self.store.entries()))
