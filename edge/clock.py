"""The edge's wall clock: ``time.time()``, unless a test steps it.

The fault matrix (tests/test_faults_matrix.py) must step the wall clock of a running
``siaga edge`` by +/- 1 h, and a shared machine's real clock cannot be stepped. When (and only
when) ``SIAGA_CLOCK_OFFSET_FILE`` is set in the daemon's environment, the number of seconds in
that file is added to ``time.time()``; the file is re-read when its mtime changes. Durations
never use this clock (they use ``time.monotonic()``), exactly as with a real NTP step.
"""

from __future__ import annotations

import logging
import os
import time

logger = logging.getLogger(__name__)

_OFFSET_FILE = os.environ.get("SIAGA_CLOCK_OFFSET_FILE", "")
_cache: tuple[float, float] = (-1.0, 0.0)   # (mtime, offset)


def wall() -> float:
    """Seconds since the epoch, as the daemon sees them."""
    if not _OFFSET_FILE:
        return time.time()
    return time.time() + _offset()


def _offset() -> float:
    global _cache
    try:
        mtime = os.stat(_OFFSET_FILE).st_mtime
        if mtime != _cache[0]:
            with open(_OFFSET_FILE, encoding="ascii") as f:
                _cache = (mtime, float(f.read().strip() or 0))
            logger.warning("test clock: wall clock offset %+.0f s (%s)", _cache[1], _OFFSET_FILE)
    except (OSError, ValueError):
        return _cache[1]
    return _cache[1]
