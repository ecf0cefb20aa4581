"""What one NUT poll costs with aionut on loopback: a reused connection vs one per poll.

Starts its own upsd + dummy-ups (siaga.servers) in a temporary directory, then times
``UpsReader.read`` (LIST VAR of one UPS) with ``persistent=True`` and ``persistent=False``
and prints p50/p95/max in milliseconds. Run: ``.venv/bin/python bench/nut_poll.py [polls]``.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge.ups import UpsReader  # noqa: E402
from protocol.config import UpsConfig  # noqa: E402
from siaga.servers import Upsd  # noqa: E402


async def time_polls(config: UpsConfig, persistent: bool, polls: int) -> tuple[list[float], int]:
    """Milliseconds per poll, and how many polls failed."""
    reader = UpsReader(config, timeout=2.0, persistent=persistent)
    times, failures = [], 0
    await reader.read(time.time())  # warm-up (first connection, imports)
    for _ in range(polls):
        start = time.perf_counter()
        reading = await reader.read(time.time())
        times.append((time.perf_counter() - start) * 1000)
        failures += bool(reading.error)
    reader.close()
    return times, failures


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    """Start upsd, time both modes, print the figures."""
    polls = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as tmp:
        upsd = Upsd(Path(tmp) / "nut").start()
        try:
            config = UpsConfig(name="meeting", host="127.0.0.1", port=upsd.port)
            print(f"aionut LIST VAR on loopback, {polls} polls each")
            for persistent in (True, False):
                times, failures = asyncio.run(time_polls(config, persistent, polls))
                print(f"persistent={persistent!s:5}  p50 {statistics.median(times):6.2f} ms  "
                      f"p95 {percentile(times, 0.95):6.2f} ms  max {max(times):6.2f} ms  "
                      f"failures {failures}")
        finally:
            upsd.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
