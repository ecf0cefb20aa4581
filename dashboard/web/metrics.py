"""`/metrics`: the store's latest states in Prometheus text format, written at each scrape.

The text is written here rather than through prometheus_client's registry: a national dashboard
holds 30,000 rooms, 16 samples each, and prometheus_client builds an object per sample and
escapes every label of it (1.3 s of CPU per scrape at 10,000 rooms on the 2-core test machine;
this writer: bench/metrics_bench.py). The output is prometheus_client's own, byte for byte
(tests/test_metrics.py renders the same store through it): families in the same order, label
names sorted, values as Go prints floats. Each site's label is escaped once per scrape, and the
samples are read from the entry's JSON-shaped ``data`` (a state another dashboard stored is then
never rebuilt as message types for a scrape).
"""

from __future__ import annotations

import math
from typing import Any, Callable

from dashboard.report.facts import number   # a JSON number, as the report reads one
from dashboard.store.entry import SiteEntry
from dashboard.store.store import Store
from protocol.messages import ROOM_STATES

# The text exposition format every Prometheus server reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

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


class Metrics:
    """What /metrics answers, from the store and the feed's connection."""

    def __init__(self, store: Store, connected: Callable[[], bool]) -> None:
        self.store = store
        self.connected = connected

    def render(self) -> bytes:
        """The whole exposition, as UTF-8."""
        return exposition(self.store.entries(), self.store.counters(), self.connected())


def exposition(entries: list[SiteEntry], counters: dict[str, int], connected: bool) -> bytes:
    """Every ``siaga_`` metric of ``entries``, the message ``counters`` and the broker link."""
    out: list[str] = []
    rooms = [(entry, entry.data, escape(entry.site)) for entry in entries]
    ups_of = [(site, escape(str(ups.get("name"))), ups) for _, data, site in rooms
              for ups in _objects(data.get("ups"))]
    for name, text, field, scale in UPS_GAUGES:
        _family(out, name, text, "gauge")
        for site, ups, values in ups_of:
            value = number(values.get(field))
            if value is not None:   # not reported: absent, never a false 0
                out.append(f'{name}{{site="{site}",ups="{ups}"}} {go_float(value * scale)}\n')
    _family(out, "siaga_ups_reachable", "1 when the UPS can be read", "gauge")
    out += [f'siaga_ups_reachable{{site="{site}",ups="{ups}"}} {_flag(values.get("reachable"))}\n'
            for site, ups, values in ups_of]

    _family(out, "siaga_room_state", "1 for the room's current state", "gauge")
    for _, data, site in rooms:
        room = data.get("room")
        out += [f'siaga_room_state{{site="{site}",state="{state}"}} {"1.0" if room == state else "0.0"}\n'
                for state in ROOM_STATES]
    (on_battery, on_text), (stale, stale_text), (ts, ts_text), (started, started_text) = SITE_GAUGES
    _family(out, on_battery, on_text, "gauge")
    out += [f'{on_battery}{{site="{site}"}} {_flag(_object(data.get("power")).get("on_battery"))}\n'
            for _, data, site in rooms]
    _family(out, stale, stale_text, "gauge")
    out += [f'{stale}{{site="{site}"}} {"1.0" if entry.stale else "0.0"}\n' for entry, _, site in rooms]
    _family(out, ts, ts_text, "gauge")
    for _, data, site in rooms:
        value = number(data.get("ts"))
        if value is not None:
            out.append(f'{ts}{{site="{site}"}} {go_float(value)}\n')
    _family(out, started, started_text, "gauge")
    for _, data, site in rooms:
        value = number(_object(data.get("outage")).get("started"))
        if value is not None:
            out.append(f'{started}{{site="{site}"}} {go_float(value)}\n')

    pcs = [(site, escape(str(pc.get("id"))), pc) for _, data, site in rooms
           for pc in _objects(data.get("pcs"))]
    _family(out, "siaga_pc_online", "1 when the meeting PC is online", "gauge")
    out += [f'siaga_pc_online{{pc="{pc}",site="{site}"}} {_flag(values.get("online"))}\n'
            for site, pc, values in pcs]
    _family(out, "siaga_pc_disk_free_bytes", "Disk free for recordings", "gauge")
    for site, pc, values in pcs:
        value = number(values.get("disk_free_gb"))
        if value is not None:
            out.append(f'siaga_pc_disk_free_bytes{{pc="{pc}",site="{site}"}} {go_float(value * 1e9)}\n')

    _family(out, "siaga_dashboard_messages_total", "MQTT messages taken in", "counter")
    out += [f'siaga_dashboard_messages_total{{kind="{escape(kind)}"}} {go_float(n)}\n'
            for kind, n in sorted(counters.items())]
    _family(out, "siaga_dashboard_mqtt_connected", "1 while the broker is connected", "gauge")
    out.append(f"siaga_dashboard_mqtt_connected {'1.0' if connected else '0.0'}\n")
    _family(out, "siaga_dashboard_sites", "Sites known", "gauge")
    out.append(f"siaga_dashboard_sites {go_float(len(entries))}\n")
    return "".join(out).encode()


def _family(out: list[str], name: str, text: str, kind: str) -> None:
    out.append(f"# HELP {name} {text}\n# TYPE {name} {kind}\n")


def escape(value: str) -> str:
    """A label value as the text format quotes it."""
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return value


def go_float(value: float) -> str:
    """A sample value as Go (and so Prometheus) prints a float: 1.0, 0.78, 1.7654321e+09."""
    value = float(value)
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    text = repr(value)
    point = text.find(".")
    if value > 0 and point > 6:   # seven digits or more before the point: Go writes an exponent
        digits = (text[:point] + text[point + 1:]).rstrip("0")
        mantissa = f"{digits[0]}.{digits[1:]}".rstrip(".")
        return f"{mantissa}e+{point - 1:02d}"
    return text


def _flag(value: Any) -> str:
    return "1.0" if value else "0.0"


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
