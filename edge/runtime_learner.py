"""Each tick's readings -> the runtime models of edge.runtime_model, kept up to date. Pure.

``observe`` records the discharges and learns from each one that ends; it returns the journal
events (``runtime_learned``), the sentences to log (each reason once per UPS until something is
learned again) and whether the models changed (the daemon then saves them beside the journal).
``learned_runtimes`` gives each UPS's learned runtime for the room core.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from edge.power import UpsReading
from edge.runtime_model import (Discharge, Rejected, Trace, UpsModel, discharge_of,
                                discharging, full_runtime, learn, low_point, runtime_learned,
                                same_battery)
from protocol.messages import EventKind

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class Learning:
    """The models (name -> model), the discharges being recorded, the reasons already logged."""

    models: dict[str, UpsModel] = field(default_factory=dict)
    traces: dict[str, Trace] = field(default_factory=dict)
    said: frozenset[tuple[str, str]] = frozenset()
    on_mains: dict[str, float] = field(default_factory=dict)   # the last charge read on mains


@dataclass
class Outcome:
    """What one tick of learning asks of the daemon."""

    events: list[tuple[EventKind, dict[str, Any]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    changed: bool = False


def observe(learning: Learning, readings: tuple[UpsReading, ...], mono: float,
            now: float) -> tuple[Learning, Outcome]:
    """Record this tick's readings; learn from each discharge that just ended."""
    out = Outcome()
    models, traces, said = dict(learning.models), dict(learning.traces), set(learning.said)
    on_mains = dict(learning.on_mains)
    for r in readings:
        if not r.reachable:
            continue  # a lost USB link mid-cut: keep recording when it is back
        model = _identified(models.get(r.name), r, traces, out)
        trace = traces.get(r.name)
        if discharging(r):
            trace = trace or Trace(started_mono=mono, start_charge=on_mains.pop(r.name, None))
            model = _note_lb(model, trace, r, out)
            traces[r.name] = _record(trace, r, mono)
        elif trace is not None:
            del traces[r.name]
            model = _finish(model, trace, r, mono, now, said, out)
        if not discharging(r) and r.charge_pct is not None and "OB" not in r.flags:
            on_mains[r.name] = r.charge_pct
        models[r.name] = model
    return Learning(models, traces, frozenset(said), on_mains), out


def _identified(model: UpsModel | None, r: UpsReading, traces: dict[str, Trace],
                out: Outcome) -> UpsModel:
    """The model for this UPS; a new one when the UPS or its battery was replaced."""
    if model is None:
        out.changed = bool(r.serial or r.battery_date)
        return UpsModel(serial=r.serial, battery_date=r.battery_date)
    if not same_battery(model, r):
        out.notes.append(f'UPS "{r.name}": the UPS or its battery was replaced (serial '
                         f'{model.serial or "?"} -> {r.serial or "?"}, battery date '
                         f'{model.battery_date or "?"} -> {r.battery_date or "?"}): its '
                         "learned runtime starts again")
        out.changed = True
        if r.name in traces:
            traces[r.name] = replace(traces[r.name], replaced=True)
        return UpsModel(serial=r.serial, battery_date=r.battery_date)
    if (r.serial and not model.serial) or (r.battery_date and not model.battery_date):
        out.changed = True
        return replace(model, serial=model.serial or r.serial,
                       battery_date=model.battery_date or r.battery_date)
    return model


def _note_lb(model: UpsModel, trace: Trace, r: UpsReading, out: Outcome) -> UpsModel:
    """The charge at the first LB of a discharge: the low point when the UPS reports none."""
    first_lb = r.low_battery and not trace.lb
    if first_lb and r.charge_pct is not None and r.charge_pct != model.lb_charge_pct:
        out.changed = True
        return replace(model, lb_charge_pct=r.charge_pct)
    return model


def _record(trace: Trace, r: UpsReading, mono: float) -> Trace:
    """The trace with this poll in its running sums."""
    return trace.add(mono, r.charge_pct, r.load_pct, r.low_battery)


def _finish(model: UpsModel, trace: Trace, r: UpsReading, mono: float, now: float,
            said: set[tuple[str, str]], out: Outcome) -> UpsModel:
    """Learn from a discharge that ended, or log once why not."""
    try:
        discharge = discharge_of(trace, mono, now)
    except Rejected as why:
        if (r.name, why.code) not in said:
            said.add((r.name, why.code))
            out.notes.append(f'UPS "{r.name}": nothing learned from this discharge: {why}')
        return model
    said.difference_update({k for k in said if k[0] == r.name})
    model = learn(model, discharge)
    out.changed = True
    nominal = r.realpower_nominal or (r.power_nominal * 0.6 if r.power_nominal else None)
    out.events.append((EventKind.RUNTIME_LEARNED, learned_detail(r.name, model, discharge,
                                                                 low_point(model, r), nominal)))
    return model


def learned_detail(ups: str, model: UpsModel, d: Discharge, low_pct: float,
                   nominal_w: float | None = None) -> dict[str, Any]:
    """The ``runtime_learned`` event: the contract's four fields, and what the report needs to
    compute the same runtime from the journal as the edge did (the fit and the low point)."""
    k, exponent = model.fit() or (0.0, 1.0)
    full = full_runtime(model, d.load_pct, low_pct)
    return {"ups": ups, "rate_pct_per_min": round(d.rate_pct_s * 60, 4),
            "load_pct": round(d.load_pct, 1), "discharges": len(model.discharges),
            "seconds": round(d.seconds, 1), "fall_pct": round(d.fall_pct, 1),
            "k": k, "exponent": round(exponent, 4), "low_pct": low_pct,
            "sag_pct": round(model.sag(d.load_pct), 2),
            "runtime_full_s": None if full is None else round(full),
            "load_w": load_w(d.load_pct, nominal_w)}


def load_w(load_pct: float, nominal_w: float | None) -> float | None:
    """The load in W from the UPS's rating (ups.realpower.nominal, or VA x 0.6), if known."""
    return None if not nominal_w else round(load_pct / 100 * nominal_w)


def learned_runtimes(learning: Learning, readings: tuple[UpsReading, ...]) -> dict[str, float]:
    """Each readable UPS's learned runtime at its present charge and load (where known)."""
    out = {}
    for r in readings:
        value = runtime_learned(learning.models.get(r.name), r, trace=learning.traces.get(r.name))
        if value is not None:
            out[r.name] = float(round(value))  # whole seconds: the state changes with the charge
    return out


def learned_counts(learning: Learning) -> dict[str, int]:
    """How many discharges each UPS's model was learned from (those with one or more)."""
    return {name: len(m.discharges) for name, m in learning.models.items() if m.discharges}


def forget(learning: Learning, ups: str) -> Learning:
    """The learning without this UPS's model and discharge in progress."""
    return replace(learning, models={k: v for k, v in learning.models.items() if k != ups},
                   traces={k: v for k, v in learning.traces.items() if k != ups})
