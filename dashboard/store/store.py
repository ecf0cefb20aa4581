"""The dashboard's memory: the latest state of every site, and events plus history in SQLite.

The feed (dashboard/store/feed.py) puts decoded messages in; pages and the API read. The latest states
live in memory (the overview and /api/sites never touch the disk); events, the charts' history
(dashboard/store/history.py) and the last known state of each site are kept in SQLite so a restart
does not forget a silent site.
Every change bumps a version number, which is what the pages poll to update themselves.

On PostgreSQL (dashboard/store/engine.py) several dashboards share the database: each writes
every state it hears as the site's last one, and takes the states and events the others stored
(``_heard``), so every dashboard's memory holds every site.
"""

from __future__ import annotations

import heapq
import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterator

from dashboard.store import history
from dashboard.store.engine import Engine, is_shared, open_engine
from dashboard.store.entry import SiteEntry
from protocol.messages import (Availability, BadMessage, JournalEvent, StateSnapshot, from_dict,
                               to_dict)

if TYPE_CHECKING:
    from dashboard.store.postgres import Heard

logger = logging.getLogger(__name__)

PRUNE_EVERY_S = 3600
MINUTES_KEEP_S = 8 * 86400   # minutes serve the charts up to 7 days
HOURS_KEEP_S = 31 * 86400    # hours serve the 30-day chart
EVENTS_KEEP_S = 400 * 86400
MAX_SITES = 5000             # a broker full of junk site ids must not exhaust memory
SHARED_MAX_SITES = 50000     # on PostgreSQL: the national view (some 30,000 rooms)
HEARD_CHUNK = 500            # others' states taken per hold of the store's lock
CHANGES_LAG_S = 30.0         # shared: a change may reach one dashboard this much later than another
ISSUED_KEPT = 4096           # shared: versions handed to pages, remembered to answer them exactly
SWEEP_EVERY_S = 0.25         # stale flags looked at no more often than this
FULL_SWEEP_S = 30.0          # ... and every room's, whatever its due time, this often


class Store:
    """Latest state per site in memory, events and history in SQLite; safe across threads."""

    def __init__(self, database: str | Engine, *, stale_after_s: float = 90.0,
                 sites: str | tuple[str, ...] = "+", clock: Callable[[], float] = time.time) -> None:
        self.stale_after_s = stale_after_s
        self.sites_filter = sites
        self.clock = clock
        self.db: Engine = open_engine(database) if isinstance(database, str) else database
        self.shared = self.db.shared
        self.max_sites = SHARED_MAX_SITES if self.shared else MAX_SITES
        self.stats: dict[str, int] = dict.fromkeys(
            ("state", "event", "availability", "bad", "duplicate", "ignored"), 0)
        self._lock = threading.RLock()
        self._entries: dict[str, SiteEntry] = {}
        self._availability: dict[str, str] = {}
        self._minutes: dict[str, history.Minute] = {}     # each site's current minute
        self._battery: dict[str, tuple[float, float]] = {}  # open on-battery span: (start, last seen)
        self._removed: dict[str, int] = {}
        self._version = 0
        self._issued: set[int] = set()   # shared: the versions this dashboard handed to pages
        self._writes = 0          # every new state, even one that only repeats (its ts is new)
        self._pruned = 0.0
        self._pending: list[Callable[[], None]] = []   # writes made after the lock is released
        self._full_logged = False
        # Called with each new state and each newly kept event (the alerts listen); they run
        # under the store's lock, so they must only hand the item on.
        self.listeners: list[Callable[[StateSnapshot | JournalEvent], None]] = []
        # Called with the (site, seq) of the events other dashboards stored (the replays' gaps).
        self.event_hooks: list[Callable[[list[tuple[str, int]]], None]] = []
        self._order: list[str] | None = None   # sorted site ids, made again when sites change
        self.roster = 0                         # bumped whenever a site comes or goes
        self._swept = self._swept_all = float("-inf")
        # When each fresh site's state turns stale, earliest first (a site's state may have been
        # renewed since: looked at when due). A sweep pops only the due ones, not every room.
        self._due: list[tuple[float, str]] = []
        self._watched: set[str] = set()
        self._load()
        if is_shared(self.db):   # the other dashboards' states and events (dashboard/store/postgres.py)
            self.db.on_heard = self._heard
            self.db.want_events = lambda: bool(self.listeners) and self.db.leading(look=False)

    def _load(self) -> None:
        self._battery = {site: (start, start) for site, start in self.db.open_battery_spans().items()}
        for site, raw in self.db.latest_states():
            try:
                state = from_dict(StateSnapshot, json.loads(raw))
            except (BadMessage, ValueError) as exc:
                logger.warning("saved state of %s cannot be read (%s); skipped", site, exc)
                continue
            if self.wants(site) and state.site == site:
                self._bump()
                self._new_roster()
                self._entries[site] = SiteEntry(state=state, data=to_dict(state), availability=None,
                                                version=self._version)
        self.sweep()

    def wants(self, site: str) -> bool:
        """True when dashboard.sites includes ``site``."""
        return self.sites_filter == "+" or site in self.sites_filter

    def count(self, what: str) -> None:
        """Count one message of a kind (state, event, bad, ...) for /metrics."""
        with self._lock:
            self.stats[what] = self.stats.get(what, 0) + 1

    def counters(self) -> dict[str, int]:
        """A copy of the message counters."""
        with self._lock:
            return dict(self.stats)

    def put_state(self, state: StateSnapshot) -> bool:
        """Take a new snapshot; False when it was dropped (too many sites)."""
        now = self.clock()
        with self._lock:
            old = self._entries.get(state.site)
            if self.shared and old is not None and old.ts > state.ts:
                # Shared subscriptions hand a room's states to several dashboards: this one can
                # hear (from PostgreSQL) the state another dashboard took, and only then take
                # the room's state before it from its own queue. The database keeps the newer
                # (the newest ts wins); so do this page and the alerts, or they would show the
                # older state until the room's next one (up to a state period: "ready" in a cut).
                self.count("older")
                return True
            entry = self._take(state, old, now)
            if entry is None:
                return False
            self.count("state")
            self._record(entry, room_changed=old is None or old.state.room != state.room)
            self._prune(now)
            self._tell(state)
        self._write_pending()
        return True

    def _take(self, state: StateSnapshot | None, old: SiteEntry | None, now: float,
              data: dict[str, Any] | None = None, raw: str | None = None) -> SiteEntry | None:
        """Make ``state`` the site's entry (under the lock); None when there are too many sites.
        A state another dashboard stored comes as ``data`` (and its JSON): not built until asked."""
        if old is None and len(self._entries) >= self.max_sites:
            if not self._full_logged:
                logger.warning("more than %d sites: states of new sites are dropped", self.max_sites)
                self._full_logged = True
            return None
        data = to_dict(state) if data is None else data
        changed = old is None or old.stale or _data_differs(old.data, data)
        if changed:
            self._bump()
        version = self._version if changed or old is None else old.version
        site = data["site"]
        self._removed.pop(site, None)
        entry = SiteEntry(state=state,  # type: ignore[arg-type]  # None: built from data when read
                          data=data, availability=self._availability.get(site), version=version, raw=raw)
        entry.stale = self._is_stale(entry, now)
        if old is None:
            self._new_roster()
        self._entries[site] = entry
        self._watch(site, entry)
        self._writes += 1
        return entry

    def _heard(self, heard: Heard) -> None:
        """What other dashboards stored (a shared engine's Heard): their states become entries
        here, their events change the cards; the listeners (the alerts) hear both."""
        now = self.clock()
        states = []
        for site, raw in heard.states:    # written by a dashboard that checked it: JSON only
            try:
                data = json.loads(raw)
            except ValueError:
                continue
            if (self.wants(site) and isinstance(data, dict) and data.get("site") == site
                    and isinstance(data.get("ts"), (int, float))):
                states.append((data, raw))
        # The alerts' rules run here (only a shared engine hears of the others' events).
        tell = bool(self.listeners) and is_shared(self.db) and self.db.want_events()
        for start in range(0, len(states), HEARD_CHUNK):   # the pages wait for the lock: let them in
            with self._lock:
                for data, raw in states[start:start + HEARD_CHUNK]:
                    old = self._entries.get(data["site"])
                    if old is not None and old.ts > data["ts"]:
                        continue
                    entry = self._take(None, old, now, data=data, raw=raw)
                    if entry is not None and tell:
                        self._heard_state(entry)
        with self._lock:
            for site in heard.forgotten:
                if self._entries.pop(site, None) is not None:
                    self._new_roster()
                    self._bump()
                    self._removed[site] = self._version
            for site in {site for site, _ in heard.events}:
                entry = self._entries.get(site)
                if entry is not None:
                    self._bump()
                    entry.version = self._version
            for event in heard.full:
                self._tell(event)
        if heard.events:
            for hook in self.event_hooks:
                hook(heard.events)

    def _later(self, write: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """Do a database write once the store's lock is released: the pages and /api/sites
        wait for that lock, and a write (or SQLite's WAL checkpoint) can take milliseconds."""
        self._pending.append(lambda: write(*args, **kwargs))

    def _write_pending(self) -> None:
        with self._lock:
            todo, self._pending = self._pending, []
        for write in todo:     # in order; the database has its own lock for its writer
            write()

    def put_event(self, event: JournalEvent) -> bool:
        """Keep one journal event; False when (site, seq) was already kept. On a shared engine
        the event goes with the next burst's transaction: True, and a duplicate is counted then."""
        self.count("event")
        if is_shared(self.db):
            self.db.queue_event(event, self._kept, lambda e: self.count("duplicate"))
            return True
        if not self.db.add_event(event):     # outside the store's lock (see _later)
            self.count("duplicate")
            return False
        self._kept(event)
        return True

    def _kept(self, event: JournalEvent) -> None:
        """A new event is stored: its site's card changes; the listeners hear of it."""
        with self._lock:
            entry = self._entries.get(event.site)
            if entry is not None:
                self._bump()
                entry.version = self._version
            self._tell(event)

    def _heard_state(self, entry: SiteEntry) -> None:
        try:
            state = entry.state
        except BadMessage as exc:
            logger.warning("a state another dashboard stored cannot be read (%s)", exc)
            return
        self._tell(state)

    def _tell(self, item: StateSnapshot | JournalEvent) -> None:
        for listener in self.listeners:
            listener(item)

    def put_availability(self, site: str, value: str | None) -> None:
        """The edge's retained ``online``/``offline``; None when the retained message was cleared."""
        with self._lock:
            self.count("availability")
            if value is None:
                self._availability.pop(site, None)
            else:
                self._availability[site] = value
            entry = self._entries.get(site)
            if entry is not None and entry.availability != value:
                entry.availability = value
                self._bump()
                entry.version = self._version
                entry.stale = self._is_stale(entry, self.clock())
                self._watch(site, entry)

    def forget(self, site: str) -> None:
        """Drop a site from the overview (its retained state was cleared); events stay."""
        with self._lock:
            if self._entries.pop(site, None) is not None:
                self._new_roster()
                self._bump()
                self._removed[site] = self._version
                self.db.forget_state(site)
                logger.info("site %s removed: its retained state was cleared", site)

    def _new_roster(self) -> None:
        """A site came or went (under the lock): the sorted ids are made again when asked."""
        self._order = None
        self.roster += 1

    def sweep(self) -> None:
        """Mark sites stale or fresh as time passes; a flip counts as a change. At most every
        SWEEP_EVERY_S (every page and API call sweeps), and only the sites whose state has come
        due: at 30,000 rooms a look at every room is a loop of some 30 ms, done every
        FULL_SWEEP_S (or when the clock went back) to catch anything else."""
        now = self.clock()
        if 0 <= now - self._swept < SWEEP_EVERY_S:
            return
        self._swept = now
        with self._lock:
            if not 0 <= now - self._swept_all < FULL_SWEEP_S:
                self._swept_all = now
                for site, entry in self._entries.items():
                    self._flip(entry, now)
                    self._watch(site, entry)
                return
            due = self._due
            while due and due[0][0] < now:
                _, site = heapq.heappop(due)
                self._watched.discard(site)
                found = self._entries.get(site)
                if found is not None and not found.stale and not self._flip(found, now):
                    self._watch(site, found)    # a newer state came meanwhile: due later

    def _flip(self, entry: SiteEntry, now: float) -> bool:
        """Set the entry's stale flag for ``now`` (under the lock); True when it is stale."""
        stale = self._is_stale(entry, now)
        if stale != entry.stale:
            entry.stale = stale
            self._bump()
            entry.version = self._version
        return stale

    def _watch(self, site: str, entry: SiteEntry) -> None:
        """Look at a fresh site again when its state turns stale (under the lock)."""
        if not entry.stale and site not in self._watched:
            self._watched.add(site)
            heapq.heappush(self._due, (max(entry.ts + self.stale_after_s, self._swept), site))

    def _is_stale(self, entry: SiteEntry, now: float) -> bool:
        return entry.availability == Availability.OFFLINE or now - entry.ts > self.stale_after_s

    def entries(self) -> list[SiteEntry]:
        """Every site, by id, with its stale flag up to date."""
        self.sweep()
        with self._lock:
            if self._order is None:
                self._order = sorted(self._entries)
            return [self._entries[k] for k in self._order]

    @property
    def site_count(self) -> int:
        """How many sites have a state."""
        return len(self._entries)

    def entries_of(self, sites: list[str]) -> list[SiteEntry]:
        """The entries of ``sites`` (in that order) that exist, stale flags up to date."""
        self.sweep()
        with self._lock:
            return [self._entries[s] for s in sites if s in self._entries]

    def entry(self, site: str) -> SiteEntry | None:
        """One site, or None when it has never sent a state."""
        self.sweep()
        with self._lock:
            return self._entries.get(site)

    def _bump(self) -> None:
        """One more change (under the lock). Shared: the version is this dashboard's clock in
        microseconds (one more when that is not later), so that a page polling through a load
        balancer can hand one dashboard's version to another (``changes``)."""
        if self.shared:
            self._version = max(self._version + 1, int(self.clock() * 1_000_000))
        else:
            self._version += 1

    def _issue(self, version: int) -> int:
        """``version``, remembered as handed to a page (shared; under the lock)."""
        if self.shared:
            if len(self._issued) >= ISSUED_KEPT:
                self._issued.clear()
            self._issued.add(version)
        return version

    def changes(self, since: int, site: str | None = None) -> tuple[int, list[str], bool]:
        """(version now, sites changed after ``since``, reload): what a page must redraw.

        Shared, ``since`` may be another dashboard's version (a load balancer sends each poll
        anywhere): those are times too, and a change reaches the dashboards up to CHANGES_LAG_S
        apart, so every site changed since then (less that lag) is redrawn, never a reload (the
        page reloaded every other poll). A version older than this dashboard redraws every site."""
        self.sweep()
        with self._lock:
            after = since
            if self.shared and since not in self._issued and since >= 0:
                after = since - int(CHANGES_LAG_S * 1_000_000)
            elif since > self._version or since < 0:
                return self._issue(self._version), [], True
            changed = [s for s, e in self._entries.items() if e.version > after]
            changed += [s for s, v in self._removed.items() if v > after]
            if site is not None:
                changed = [s for s in changed if s == site]
            return self._issue(self._version), sorted(changed), False

    @property
    def freshness(self) -> tuple[int, int]:
        """(version, states taken): changes when anything /api/sites shows may have changed."""
        return self._version, self._writes

    @property
    def version(self) -> int:
        """The number of changes so far (shared: the time of the last one, in microseconds)."""
        with self._lock:
            return self._issue(self._version)

    def has_site(self, site: str) -> bool:
        """True when the site has a state or at least one stored event."""
        with self._lock:
            if site in self._entries:
                return True
        return self.db.has_events(site)

    def events(self, site: str, limit: int = 50, before: int | None = None) -> list[JournalEvent]:
        """Events of a site, newest first."""
        return self.db.events(site, limit, before)

    def recent_seqs(self, sites: list[str], window: int) -> dict[str, list[int]]:
        """site -> its newest ``window`` stored seqs, newest first (one query for many sites)."""
        return self.db.recent_seqs(sites, window)

    def iter_events(self, site: str) -> Iterator[JournalEvent]:
        """Every stored event of a site, oldest first (for CSV)."""
        return self.db.iter_events(site)

    def history(self, site: str, range_name: str) -> dict[str, Any]:
        """The charts' data of ``site`` over ``range_name`` (6h, 24h, 7d, 30d): CONTRACT §5.6."""
        now = self.clock()
        with self._lock:
            live = self._minutes.get(site)
            live = None if live is None else history.Minute(site, live.start, dict(live.stats))
        first = self.db.first_data(site)
        if live is not None and (first is None or live.start < first):
            first = live.start
        start, bucket_s, count = history.window(range_name, now, first)
        end = start + bucket_s * count
        rows = self.db.history_rows(site, start, end, bucket_s)
        if live is not None:
            rows.append(live.row()[1:])
        buckets = history.merge_buckets(rows, start, bucket_s, count)
        spans = self.db.battery_spans(site, start, end)
        cuts = self.db.cut_spans(site, start, end, spans)
        return history.as_json(range_name, start, bucket_s, buckets, spans, now, cuts)

    def secret_key(self) -> str:
        """The key that signs login cookies; made once, kept in the database."""
        return self.db.secret_key()

    def flush(self) -> None:
        """Wait until every write asked for so far is in the database (a shared engine batches)."""
        self._write_pending()
        self.db.flush()

    def close(self) -> None:
        """Write the minutes in progress and close the database."""
        self._write_pending()
        with self._lock:
            for minute in self._minutes.values():
                self.db.add_minute(minute)
            self._minutes.clear()
        self.db.close()

    def _record(self, entry: SiteEntry, room_changed: bool) -> None:
        """Sum the state into its minute; keep it as the last known state once a minute and at
        every room change; open or close the on-battery span."""
        state = entry.state
        start = history.floor_to(state.ts, history.MINUTE)
        minute = self._minutes.get(state.site)
        if minute is not None and minute.start != start:
            self._later(self.db.add_minute, minute)
            minute = None
        if minute is None:
            minute = self._minutes[state.site] = history.Minute(state.site, start)
        # Shared: every state, the other dashboards show what this one heard (and when).
        if minute.stats == dict.fromkeys(history.METRICS) or room_changed or self.shared:
            self._later(self.db.save_state, state.site, entry.json(), state.ts)
        minute.add(history.values_of(state))
        self._track_battery(state)

    def _track_battery(self, state: StateSnapshot) -> None:
        span = self._battery.get(state.site)
        if history.on_battery(state):
            # The outage's own start when the edge says it; else from the first state on battery.
            start = state.outage.started if state.outage is not None else span[0] if span else state.ts
            if span is None or start > span[0] + 1:   # a new outage (the end of the last one was missed)
                self._later(self.db.battery_span, state.site, start=start, stop=span[1] if span else None)
                span = (start, start)
            self._battery[state.site] = (span[0], max(span[1], state.ts))
        elif span is not None:
            self._later(self.db.battery_span, state.site, stop=state.ts)
            del self._battery[state.site]

    def _prune(self, now: float) -> None:
        if now - self._pruned >= PRUNE_EVERY_S:
            self._pruned = now
            self._later(self.db.prune, now - MINUTES_KEEP_S, now - HOURS_KEEP_S, now - EVENTS_KEEP_S)


def _data_differs(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """True when more than the timestamp changed (the edge repeats its state every 30 s)."""
    return {**old, "ts": 0} != {**new, "ts": 0}
