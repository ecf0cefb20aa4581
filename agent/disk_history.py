"""The recordings disk over the last 14 days: how many GB it fills per day (CONTRACT §6.2).

One number per local day (the disk's used GB, last seen that day) in a small JSON file beside
the agent's state file, so a restart or a reboot keeps the history. ``gb_per_day`` is the mean
growth per day between the known days; a day the disk shrank (recordings moved or deleted)
counts as no growth, because the report asks how soon the disk fills if nobody cleans it up.
The file also names the disk the days were read on (its device number): read on another disk
(``recordings_dir`` moved, or its drive mounted after the agent started), the days of two disks
would make a growth of nothing real, so the history starts again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

KEEP_DAYS = 14


def gb_per_day(days: dict[str, float]) -> float | None:
    """Mean daily growth (GB/day) over the known days; None until two days are known."""
    known = sorted((dt.date.fromisoformat(d), gb) for d, gb in days.items())
    if len(known) < 2:
        return None
    grown = sum(max(0.0, b - a) for (_, a), (_, b) in zip(known, known[1:]))
    span = (known[-1][0] - known[0][0]).days
    return round(grown / span, 2) if span > 0 else None


class DiskHistory:
    """Today's used GB remembered per day; the file is written when a day's value changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.disk: int | None = None          # the device the days were read on (None: unknown)
        self.days: dict[str, float] = self._load()

    def record(self, day: dt.date, used_gb: float, disk: int | None = None) -> float | None:
        """Note the use of ``disk`` on ``day``; return GB per day over the last 14 days."""
        key = day.isoformat()
        used = round(used_gb, 1)
        if disk is not None and disk != self.disk:
            if self.disk is not None and self.days:
                logger.info("the recordings are on another disk now; its growth per day is "
                            "counted from today")
                self.days = {}
            self.disk = disk
            self.days.pop(key, None)          # written below, with the disk
        if self.days.get(key) != used:
            self.days[key] = used
            oldest = (day - dt.timedelta(days=KEEP_DAYS)).isoformat()
            self.days = {d: v for d, v in sorted(self.days.items()) if oldest <= d <= key}
            self._save()
        return gb_per_day(self.days)

    def _load(self) -> dict[str, float]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            days = {str(d): float(v) for d, v in data.get("days", {}).items()}
            for d in days:
                dt.date.fromisoformat(d)
            disk = data.get("disk")
            self.disk = disk if isinstance(disk, int) and not isinstance(disk, bool) else None
            return days
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            logger.warning("disk history %s unreadable (%s); starting a new one", self.path, exc)
            return {}

    def _save(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            tmp.write_text(json.dumps({"disk": self.disk, "days": self.days}), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            logger.warning("cannot write the disk history %s: %s", self.path, exc)
