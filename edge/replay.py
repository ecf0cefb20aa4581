"""The `replay` edge command (CONTRACT §5.2): republish journal events a dashboard missed.

A dashboard that sees a gap in a site's ``seq`` asks for the events from the first missing one.
This is I/O, not a room decision, so it lives beside the room core, not in it: the bus hands
each replay command here, a worker thread reads the journal and republishes up to
``MAX_EVENTS`` events, oldest first, exactly as they were first published (same seq, ts,
detail), then journals ``replayed``. A worker, not paho's thread: 5,000 publishes must not hold
up the PC statuses and acks the room is waiting for.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable, Protocol

from edge.clock import wall
from protocol.messages import EdgeCommand, EventKind, JournalEvent

logger = logging.getLogger(__name__)

MAX_EVENTS = 5000            # per command (CONTRACT §5.2); a longer gap takes several commands
MAX_PER_MINUTE = 12          # a flood of replays (a looping script, a misbehaving dashboard) ...
QUEUE_SIZE = 4               # ... or a backlog of them is dropped with one log line a minute
LOG_AGAIN_AFTER_S = 60.0

Record = Callable[[str, dict, float], None]


class EventSource(Protocol):
    """What a replay reads: the journal."""

    def last_seq(self) -> int: ...
    def events_from(self, from_seq: int, limit: int) -> list[JournalEvent]: ...


def check_replay(command: EdgeCommand, last_seq: int) -> str | None:
    """Why ``command`` cannot be served (one line), or None when it can."""
    if command.from_seq is None:
        return "replay without from_seq"
    if command.from_seq < 0:
        return f"replay from_seq {command.from_seq} is negative"
    if command.from_seq > last_seq:
        return f"replay from_seq {command.from_seq} is in the future (last seq {last_seq})"
    return None


class Replayer:
    """Serves replay commands on its own thread; ``take`` never blocks the caller."""

    def __init__(self, journal: EventSource, publish: Callable[[JournalEvent], None],
                 record: Record, clock: Callable[[], float] = time.monotonic) -> None:
        self.journal = journal
        self.publish = publish
        self.record = record
        self.clock = clock
        self._queue: queue.Queue[EdgeCommand | None] = queue.Queue(QUEUE_SIZE)
        self._recent: list[float] = []
        self._refused_logged = -LOG_AGAIN_AFTER_S
        self._thread = threading.Thread(target=self._work, name="siaga-replay", daemon=True)
        self._thread.start()

    def take(self, command: EdgeCommand) -> None:
        """Queue one replay command, unless replays are flooding in."""
        now = self.clock()
        self._recent = [t for t in self._recent if now - t < 60.0]
        if len(self._recent) >= MAX_PER_MINUTE:
            self._refuse(now, f"more than {MAX_PER_MINUTE} replays a minute")
            return
        try:
            self._queue.put_nowait(command)
        except queue.Full:
            self._refuse(now, "replays are still being served")
            return
        self._recent.append(now)

    def _refuse(self, now: float, why: str) -> None:
        if now - self._refused_logged >= LOG_AGAIN_AFTER_S:
            self._refused_logged = now
            logger.warning("replay ignored: %s", why)

    def serve(self, command: EdgeCommand) -> int:
        """Republish the events one command asks for and journal ``replayed``; the count sent."""
        problem = check_replay(command, self.journal.last_seq())
        if problem:
            logger.warning("%s; ignored (id %s, by %s)", problem, command.id, command.by or "?")
            return 0
        assert command.from_seq is not None   # check_replay refuses a replay without one
        events = self.journal.events_from(command.from_seq, MAX_EVENTS)
        for event in events:
            self.publish(event)
        if not events:
            return 0
        detail = {"from_seq": events[0].seq, "to_seq": events[-1].seq, "by": command.by}
        self.record(EventKind.REPLAYED.value, detail, wall())
        return len(events)

    def _work(self) -> None:
        while (command := self._queue.get()) is not None:
            try:
                self.serve(command)
            except Exception:  # noqa: BLE001 - a broken replay must not end replays for good
                logger.exception("replay from seq %s failed", command.from_seq)

    def stop(self) -> None:
        """Let the replay under way finish (up to 5 s), then end the worker."""
        try:
            self._queue.put(None, timeout=5)
        except queue.Full:
            return
        self._thread.join(5)
