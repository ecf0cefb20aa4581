"""`/metrics`: the store's latest states in Prometheus text format, computed at each scrape."""

from __future__ import annotations

from typing import Callable, Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from dashboard.store.entry import SiteEntry
from dashboard.store.store import Store
from protocol.messages import ROOM_STATES

UPS_GAUGES = (  # name, help, UpsView field, scale
    ("siaga_ups_battery_charge_ratio", "Battery charge, 0 to 1", "charge_pct", 0.01),
    ("siaga_ups_battery_runtime_seconds", "Battery runtime left", "runtime_s", 1.0),
    ("siaga_ups_load_ratio", "UPS load, 0 to 1", "load_pct", 0.01),
    ("siaga_ups_input_voltage_volts", "UPS input voltage", "input_voltage", 1.0),
)
SITE_GAUGES = (
    ("siaga_on_battery", "1 when the UPS feeding the PC is on battery"),
    ("siaga_site_stale", "1 when the edge is offline or its state is too old"),
    ("siaga_state_timestamp_seconds", "When the edge made its last state"),
    ("siaga_outage_started_timestamp_seconds", "When the current power cut began"),
)


class SiagaCollector:
    """Yields one set of ``siaga_`` metrics per site from the store."""

    def __init__(self, store: Store, connected: Callable[[], bool]) -> None:
        self.store = store
        self.connected = connected

    def collect(self) -> Iterable[Metric]:
        """Build every metric from the store's current entries."""
        entries = self.store.entries()
        yield from self._ups(entries)
        yield from self._sites(entries)
        yield from self._pcs(entries)
        yield from self._own(len(entries))

    @staticmethod
    def _ups(entries: list[SiteEntry]) -> Iterable[Metric]:
        gauges = {name: GaugeMetricFamily(name, text, labels=["site", "ups"])
                  for name, text, _, _ in UPS_GAUGES}
        reachable = GaugeMetricFamily("siaga_ups_reachable", "1 when the UPS can be read",
                                      labels=["site", "ups"])
        for entry in entries:
            for ups in entry.state.ups:
                reachable.add_metric([entry.site, ups.name], float(ups.reachable))
                for name, _, field, scale in UPS_GAUGES:
                    value = getattr(ups, field)
                    if value is not None:   # not reported: absent, never a false 0
                        gauges[name].add_metric([entry.site, ups.name], value * scale)
        return [*gauges.values(), reachable]

    @staticmethod
    def _sites(entries: list[SiteEntry]) -> Iterable[Metric]:
        room = GaugeMetricFamily("siaga_room_state", "1 for the room's current state",
                                 labels=["site", "state"])
        gauges = {name: GaugeMetricFamily(name, text, labels=["site"]) for name, text in SITE_GAUGES}
        for entry in entries:
            s = entry.state
            for state in ROOM_STATES:
                room.add_metric([s.site, state], float(s.room == state))
            gauges["siaga_on_battery"].add_metric([s.site], float(s.power.on_battery))
            gauges["siaga_site_stale"].add_metric([s.site], float(entry.stale))
            gauges["siaga_state_timestamp_seconds"].add_metric([s.site], s.ts)
            if s.outage is not None:
                gauges["siaga_outage_started_timestamp_seconds"].add_metric([s.site], s.outage.started)
        return [room, *gauges.values()]

    @staticmethod
    def _pcs(entries: list[SiteEntry]) -> Iterable[Metric]:
        online = GaugeMetricFamily("siaga_pc_online", "1 when the meeting PC is online",
                                   labels=["site", "pc"])
        disk = GaugeMetricFamily("siaga_pc_disk_free_bytes", "Disk free for recordings",
                                 labels=["site", "pc"])
        for entry in entries:
            for pc in entry.state.pcs:
                online.add_metric([entry.site, pc.id], float(pc.online))
                if pc.disk_free_gb is not None:
                    disk.add_metric([entry.site, pc.id], pc.disk_free_gb * 1e9)
        return [online, disk]

    def _own(self, sites: int) -> Iterable[Metric]:
        messages = CounterMetricFamily("siaga_dashboard_messages", "MQTT messages taken in",
                                       labels=["kind"])
        for kind, n in sorted(self.store.counters().items()):
            messages.add_metric([kind], n)
        return [messages,
                GaugeMetricFamily("siaga_dashboard_mqtt_connected", "1 while the broker is connected",
                                  value=float(self.connected())),
                GaugeMetricFamily("siaga_dashboard_sites", "Sites known", value=sites)]
