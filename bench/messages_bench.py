"""Reading and writing the MQTT payloads (protocol/messages.py), the dashboard's cost per message:
every room's state is read (decode: JSON, then every field checked) and turned back into a dict
(to_dict) for the pages. Prints microseconds per call for a room's state during an outage and for
a journal event, and dataclasses.asdict beside to_dict for comparison.

Usage: python bench/messages_bench.py [--n 20000]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from protocol.messages import JournalEvent, StateSnapshot, decode, to_dict, to_json  # noqa: E402
from tests.dashboard_support import outage_events, outage_snapshot  # noqa: E402


def per_call(n: int, call) -> float:
    t = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - t) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000)
    n = ap.parse_args().n
    now = time.time()
    for cls, message in ((StateSnapshot, outage_snapshot("kantor-001-001", now)),
                         (JournalEvent, outage_events("kantor-001-001", now)[0])):
        raw = to_json(message)
        print(f"{cls.__name__} ({len(raw)} bytes of JSON): decode {per_call(n, lambda: decode(cls, raw)):.1f} us, "
              f"to_dict {per_call(n, lambda: to_dict(message)):.1f} us "
              f"(dataclasses.asdict {per_call(n, lambda: dataclasses.asdict(message)):.1f} us)")


if __name__ == "__main__":
    main()
