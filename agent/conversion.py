"""Is a recording being converted: the converter's process runs and works (CPU).

A converter left idle (hung, or waiting for a user's answer) is not converting; one that reads
its input between bursts of CPU is, so the CPU has to stay quiet for ``QUIET_INTERVALS`` status
intervals in a row before the conversion counts as over. A process whose CPU cannot be read
(another user's, on Windows) counts by its presence alone, as before.
"""

from __future__ import annotations

from typing import Mapping

import psutil

BUSY_CPU_PCT = 2.0      # of one core; an idle converter sits at 0.0-0.3 %
QUIET_INTERVALS = 3


def next_quiet(running: bool, busy: bool, quiet: int) -> int:
    """Quiet intervals in a row after this one (``QUIET_INTERVALS`` or more: not converting)."""
    if not running:
        return QUIET_INTERVALS
    return 0 if busy else quiet + 1


class ConverterWatch:
    """Follows the converter processes' CPU between status intervals."""

    def __init__(self) -> None:
        self._procs: dict[int, psutil.Process] = {}
        self.quiet = QUIET_INTERVALS

    def converting(self, pids: Mapping[int, str]) -> bool:
        """True while a converter process (``pids``: PID -> name) runs and has worked lately."""
        for gone in self._procs.keys() - pids.keys():
            del self._procs[gone]
        busy = any(self._busy(pid) for pid in pids)
        self.quiet = next_quiet(bool(pids), busy, self.quiet)
        return self.quiet < QUIET_INTERVALS

    def _busy(self, pid: int) -> bool:
        proc = self._procs.get(pid)
        try:
            if proc is None:   # first sight: the measurement starts now; a new converter works
                proc = self._procs[pid] = psutil.Process(pid)
                proc.cpu_percent(None)
                return True
            return proc.cpu_percent(None) >= BUSY_CPU_PCT
        except psutil.AccessDenied:
            return True
        except psutil.Error:
            return False
