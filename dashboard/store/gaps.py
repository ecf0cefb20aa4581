"""Missing journal events: find each site's gaps in ``seq`` and ask the edge to replay them.

CONTRACT §5.2. Per site the dashboard keeps the highest contiguous ``seq`` it holds and the seqs
it holds above it. A gap is a seq missing below the newest event held or below the ``seq`` of
the latest state. Once a gap has stood for ``GRACE_S`` (events from one sender can arrive a
little out of order, e.g. while a replay is under way) a ``replay`` from the first missing seq
is sent; while the gap stays it is asked again, each time waiting longer (a site whose journal
cannot fill the gap must not be asked every few seconds forever). Sends are rate-limited for
the whole dashboard, so 5,000 sites coming back at once do not flood the broker.

Several dashboards on one database (``adaptive``): each takes a share of every site's events, so
a gap here is mostly an event another dashboard took and has not stored yet. Under a burst
those dashboards fall seconds behind and a 2 s grace asks rooms for events they already sent
(hundreds in a 30,000-room blackout, docs/fleet.md). There the grace is twice the longest a gap
took to fill by itself in the last minute, from 2 s up to 30 s.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable

from dashboard.store.engine import DatabaseUnavailable

logger = logging.getLogger(__name__)

GRACE_S = 2.0                # a gap younger than this may still fill by itself
MAX_GRACE_S = 30.0           # adaptive: the longest a gap waits before it is first asked for
FILLS_KEPT_S = 60.0          # adaptive: how long a slow fill keeps the grace long
RETRY_FIRST_S = 10.0         # the same gap is asked again after 10 s, 20 s, 40 s ... 10 min
RETRY_MAX_S = 600.0
SENDS_PER_S = 20.0           # replay commands per second, for all sites together
BURST = 50
BACKFILL = 1000              # a site seen for the first time: ask for at most this many older events
KNOWN_WINDOW = 1000          # stored seqs read back at start to learn what is already held
MAX_SITES = 10000            # junk site ids on the broker must not grow this without bound

Send = Callable[[str, int], bool]          # (site, from_seq) -> handed to the broker?
Known = Callable[[str], Iterable[int]]     # site -> seqs already stored, newest first


@dataclass
class SiteSeq:
    """What one site's events look like from here."""

    contiguous: int                              # every seq up to this one is held
    above: set[int] = field(default_factory=set)  # seqs held beyond a gap
    latest: int = 0                              # highest seq heard of (event or state)
    gap_since: float | None = None
    asked_from: int | None = None
    asked_at: float = 0.0
    attempts: int = 0

    def add(self, seq: int) -> None:
        """One more seq held."""
        self.latest = max(self.latest, seq)
        if seq <= self.contiguous:
            return
        self.above.add(seq)
        while self.contiguous + 1 in self.above:
            self.contiguous += 1
            self.above.discard(self.contiguous)

    @property
    def first_missing(self) -> int | None:
        """The first seq to ask for, or None when nothing is missing."""
        return self.contiguous + 1 if self.latest > self.contiguous else None


def start_from(known: list[int], heard: int) -> SiteSeq:
    """A site's record from the seqs already stored (newest first) and the first seq heard now."""
    if len(known) >= KNOWN_WINDOW:
        base = known[-1] - 1          # the window is full: take what is older as held
    else:
        first = min(known, default=heard + 1)
        base = max(0, min(first, heard) - BACKFILL)
    seqs = SiteSeq(contiguous=base)
    for seq in known:
        seqs.add(seq)
    return seqs


class Gaps:
    """Tracks every site's seqs and sends replay commands for the gaps that stay."""

    def __init__(self, send: Send, known: Known, clock: Callable[[], float] = time.monotonic,
                 max_sites: int | None = None,
                 known_many: Callable[[list[str]], dict[str, list[int]]] | None = None,
                 adaptive: bool = False) -> None:
        self.send = send
        self.adaptive = adaptive
        # (when, seconds a gap took to fill by itself): the slowest first, each later one faster
        # than the one before it, so the front is the longest of the last FILLS_KEPT_S
        self._fills: deque[tuple[float, float]] = deque()
        self.known_many = known_many or (lambda sites: {s: list(known(s)) for s in sites})
        self._notes: list[tuple[str, int, bool]] = []
        self.max_sites = max_sites or MAX_SITES
        self.known = known
        self.clock = clock
        self._sites: dict[str, SiteSeq] = {}
        self._lock = threading.Lock()
        self._tokens = float(BURST)
        self._filled = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def saw_event(self, site: str, seq: int) -> None:
        """An event of ``site`` is now stored (or was already)."""
        self._see(site, seq, held=True)

    def note(self, site: str, seq: int | None, held: bool) -> None:
        """An event stored (``held``) or a state's seq, taken in the next ``ask`` with the others
        (a shared database: the MQTT thread never waits for the query a new site needs)."""
        if seq is not None:
            with self._lock:
                self._notes.append((site, seq, held))

    def _take_notes(self) -> None:
        with self._lock:
            notes, self._notes = self._notes, []
        if notes:
            self.saw_events([(site, seq) for site, seq, _ in notes], self.known_many,
                            held=[held for _, _, held in notes])

    def saw_events(self, keys: list[tuple[str, int]],
                   known_many: Callable[[list[str]], dict[str, list[int]]],
                   held: list[bool] | None = None) -> None:
        """Many events stored at once (by other dashboards); the seqs already stored of the
        sites seen for the first time are read with one query (``known_many``). ``held``: per
        key, False for a state's seq."""
        with self._lock:
            new = sorted({site for site, _ in keys if site not in self._sites})
        room = max(0, self.max_sites - len(self._sites))
        if new and room:
            stored = known_many(new[:room])
            first: dict[str, int] = {}
            for site, seq in keys:
                first.setdefault(site, seq)
            with self._lock:
                for site in new[:room]:
                    self._sites.setdefault(site, start_from(sorted(stored.get(site, ()), reverse=True),
                                                            first[site]))
        for n, (site, seq) in enumerate(keys):
            self._see(site, seq, held=True if held is None else held[n])

    def saw_state(self, site: str, seq: int | None) -> None:
        """A state of ``site`` says its journal reached ``seq`` (None: an older edge)."""
        if seq is not None:
            self._see(site, seq, held=False)

    def _see(self, site: str, seq: int, held: bool) -> None:
        with self._lock:
            seqs = self._sites.get(site)
        if seqs is None and len(self._sites) >= self.max_sites:
            return
        if seqs is None:  # read the store outside the lock: it is a query
            seqs = start_from(sorted(self.known(site), reverse=True), seq)
            with self._lock:
                seqs = self._sites.setdefault(site, seqs)
        with self._lock:
            if held:
                seqs.add(seq)
            else:
                seqs.latest = max(seqs.latest, seq)
            if seqs.gap_since is None and seqs.first_missing is not None:
                seqs.gap_since = self.clock()
            elif seqs.gap_since is not None and seqs.first_missing is None and seqs.asked_from is None:
                now = self.clock()    # filled by itself, never asked for: how long that took
                if self.adaptive:
                    took = now - seqs.gap_since
                    while self._fills and self._fills[-1][1] <= took:
                        self._fills.pop()
                    self._fills.append((now, took))
                seqs.gap_since = None

    def grace(self) -> float:
        """How long a new gap waits before it is asked for (see the module's text)."""
        if not self.adaptive:
            return GRACE_S
        now = self.clock()
        with self._lock:
            while self._fills and self._fills[0][0] < now - FILLS_KEPT_S:
                self._fills.popleft()
            longest = self._fills[0][1] if self._fills else 0.0
        return min(MAX_GRACE_S, max(GRACE_S, 2 * longest))

    def attempts(self, site: str) -> int:
        """How often the current gap of ``site`` was asked for."""
        with self._lock:
            seqs = self._sites.get(site)
            return 0 if seqs is None else seqs.attempts

    def contiguous(self, site: str) -> int | None:
        """The highest seq of ``site`` up to which every event is held."""
        with self._lock:
            seqs = self._sites.get(site)
            return None if seqs is None else seqs.contiguous

    def due(self) -> list[tuple[str, int]]:
        """(site, from_seq) of every gap to ask for now (``ask`` marks the ones it sent)."""
        grace = self.grace()
        now, out = self.clock(), []  # (a retry?, waiting since, site, first missing)
        with self._lock:
            for site, seqs in self._sites.items():
                first = seqs.first_missing
                if first is None:
                    seqs.gap_since, seqs.asked_from, seqs.attempts = None, None, 0
                    continue
                if seqs.asked_from != first:   # a new gap, or the old one moved on: progress
                    if seqs.asked_from is not None:
                        seqs.gap_since, seqs.asked_from, seqs.attempts = now, None, 0
                    seqs.gap_since = now if seqs.gap_since is None else seqs.gap_since
                    if now - seqs.gap_since < grace:
                        continue
                elif now - seqs.asked_at < min(RETRY_MAX_S, RETRY_FIRST_S * 2 ** (seqs.attempts - 1)):
                    continue
                retry = seqs.asked_from is not None
                out.append((retry, seqs.asked_at if retry else seqs.gap_since, site, first))
        # Under the rate limit: gaps never asked for first (oldest first), then the retries, so
        # sites asking again and again cannot starve one that came later.
        return [(site, first) for _, _, site, first in sorted(out)]

    def ask(self) -> int:
        """Send the replays that are due, within the rate limit; the number sent."""
        self._take_notes()
        sent = 0
        for site, first in self.due():
            if not self._take_token():
                break
            if self.send(site, first):
                with self._lock:
                    seqs = self._sites[site]
                    seqs.asked_from, seqs.asked_at = first, self.clock()
                    seqs.attempts += 1
                sent += 1
                logger.debug("asked %s to replay its events from seq %d", site, first)
        return sent

    def _take_token(self) -> bool:
        now = self.clock()
        self._tokens = min(BURST, self._tokens + (now - self._filled) * SENDS_PER_S)
        self._filled = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def start(self, every_s: float = 1.0) -> None:
        """Look for gaps every ``every_s`` on a background thread."""
        def loop() -> None:
            while not self._stop.wait(every_s):
                try:
                    self.ask()
                except DatabaseUnavailable:   # (the engine said so) looked for again next pass
                    pass
                except Exception:  # noqa: BLE001 - the gap watch must outlive any one failure
                    logger.exception("looking for missing events failed")

        self._thread = threading.Thread(target=loop, name="siaga-gaps", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the background thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
