"""The learned runtime models on disk: one small JSON file beside the journal.

``{"version": 1, "ups": {name: {"serial", "battery_date", "lb_charge_pct", "discharges": [...]}}}``,
written atomically (a temporary file, fsync, rename), so a power cut mid-write leaves the old
file or the new one. A missing, truncated or older-version file means: start fresh, say so once
in the log, never a traceback. The models are keyed by the UPS's name; the serial and the battery
date inside tell a replaced UPS or battery (edge.runtime_model.same_battery).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from edge.runtime_model import Discharge, UpsModel

logger = logging.getLogger(__name__)

VERSION = 1


def store_path(journal: str | Path) -> Path:
    """Where the models live: ``runtime.json`` in the journal's directory."""
    return Path(journal).with_name("runtime.json")


def load_models(path: Path) -> tuple[dict[str, UpsModel], str]:
    """(models, a sentence when the file could not be used, else "")."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, ""
    except (OSError, ValueError) as exc:
        return {}, f"{path}: cannot read the learned runtimes ({_short(exc)}): starting fresh"
    if not isinstance(data, dict) or data.get("version") != VERSION:
        version = data.get("version") if isinstance(data, dict) else None
        return {}, f"{path}: learned runtimes of version {version!r}, not {VERSION}: starting fresh"
    try:
        return {str(name): _model(m) for name, m in dict(data.get("ups") or {}).items()}, ""
    except (TypeError, ValueError, KeyError) as exc:
        return {}, f"{path}: learned runtimes not in the expected form ({_short(exc)}): starting fresh"


def _model(data: dict[str, Any]) -> UpsModel:
    discharges = tuple(Discharge(**{k: float(d[k]) for k in Discharge.__dataclass_fields__
                                    if k in d or k != "sag_pct"})   # a file from before the sag
                       for d in data.get("discharges", []))
    if any(d.rate_pct_s <= 0 or d.load_pct <= 0 for d in discharges):
        raise ValueError("a rate or load of 0 or below")
    lb = data.get("lb_charge_pct")
    return UpsModel(serial=str(data.get("serial", "")), battery_date=str(data.get("battery_date", "")),
                    lb_charge_pct=None if lb is None else float(lb), discharges=discharges)


def save_models(path: Path, models: dict[str, UpsModel]) -> None:
    """Write atomically; OSError when the disk refuses (the caller logs it and keeps going)."""
    data = {"version": VERSION, "ups": {name: asdict(m) for name, m in sorted(models.items())}}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".runtime-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def forget_ups(path: Path, ups: str) -> str:
    """`siaga edge --forget-runtime UPS`: drop one UPS's model; a sentence saying what happened."""
    models, problem = load_models(path)
    if ups not in models:
        return problem or f'{path}: nothing learned for UPS "{ups}"; nothing to forget'
    del models[ups]
    save_models(path, models)
    return f'{path}: forgot the learned runtime of UPS "{ups}"'


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 80 else text[:77] + "..."
