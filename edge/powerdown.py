"""NUT's POWERDOWNFLAG, held by the edge: this Pi powers off and the UPS cuts its outlets.

The room core decides when (``edge.stages.powerdown_due``: a real outage, after the PCs); this
adapter only makes the file exist or not. On a Pi, ``siaga-poweroff.path`` powers the Pi off
when the file appears, and NUT's shutdown hook (``upsmon -K`` reads upsmon.conf's POWERDOWNFLAG)
then runs ``upsdrvctl shutdown``. upsmon itself only watches: it believes FSD on mains.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

# What `upsmon -K` looks for at the start of the file (NUT's SDMAGIC): anything else is refused.
SDMAGIC = "upsmon-shutdown-file"


class PowerdownFlag:
    """The flag at ``path`` ("" = this edge never powers the Pi off)."""

    def __init__(self, path: str) -> None:
        self.path = Path(path) if path else None
        self._failed = False

    def hold(self, wanted: bool) -> None:
        """Write the flag while the core wants the Pi off, remove it otherwise: a flag that
        outlived its outage would cut the room's power at the next ordinary shutdown."""
        if self.path is None or self.path.exists() == wanted:
            return
        try:
            if wanted:
                tmp = self.path.with_name(self.path.name + ".tmp")
                tmp.write_text(SDMAGIC + "\n")
                os.replace(tmp, self.path)  # whole or absent: systemd acts as soon as it appears
                logger.warning("wrote %s: this Pi powers off, then the UPS cuts its outlets",
                               self.path)
            else:
                self.path.unlink()
                logger.info("removed %s: no outage needs the Pi off", self.path)
            self._failed = False
        except OSError as exc:
            if not self._failed:
                logger.error("cannot %s the power-down flag %s: %s",
                             "write" if wanted else "remove", self.path, exc)
            self._failed = True
