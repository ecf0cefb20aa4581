"""Alerts to IT (CONTRACT §5.5): the rules' alerts go through an outbox in SQLite to Apprise.

Two threads. The watcher takes what the store hears (``hear``: events, states), runs the pure
rules (dashboard/alerts/rules.py) and writes each alert to the outbox before anything is sent.
The sender sends the outbox in order, per URL, and retries a URL that failed with a growing
wait (the uplink is often down exactly while the power is). A row remembers which URLs took
it, so a retry or a restart never sends it twice where it already arrived. A crash between
the receiver's answer and that write is the one case that can repeat an alert: no outbox can
know whether a dead sender's request arrived, and a page twice beats none. The row says a
delivery was under way (``trying``), so the repeat goes out marked "[Mungkin ganda]".
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from typing import Any, Callable
from zoneinfo import ZoneInfo

from dashboard.alerts.rules import (LATE_AFTER_S, NOTIFY_TYPES, Alert, AlertKind, Rules, Stale,
                                    Tick, held, react, seed, still_off)
from dashboard.alerts.targets import Target, send
from dashboard.alerts.texts import late_title, render, repeat_title
from dashboard.store.engine import DatabaseUnavailable, Engine
from dashboard.store.gaps import MAX_GRACE_S, RETRY_FIRST_S
from dashboard.web.overview import expected_sites
from protocol.config import Config
from protocol.messages import JournalEvent

logger = logging.getLogger(__name__)

TICK_S = 1.0
# An event heard after a gap in its site's seq waits this long for the missing ones before the
# rules go on without them: past the replay's first ask and its first retry (dashboard/store/
# gaps.py: a busy shared database asks after up to MAX_GRACE_S, again RETRY_FIRST_S later), with
# time for the edge's answer to come back. 30 s ran out as a busy dashboard first asked.
GAP_WAIT_S = MAX_GRACE_S + RETRY_FIRST_S + 20.0     # 60 s
SEED_LOOKBACK_S = 2 * 86400      # an outage that paged IT longer ago than this is not resumed
TAKEOVER_LOOKBACK_S = 600        # events a dashboard taking over the rules goes through again
OUTAGE_EVENTS = 1000             # a site's newest events read back for an outage still open
SEEN_EVENTS = 100_000            # (site, seq) remembered so an event is never judged twice
KEEP_SENT_S = 90 * 86400
BATCH = 500


def backoff_s(failures: int, most: float) -> float:
    """Seconds to wait after ``failures`` failures in a row: 1, 2, 4, ... up to ``most``."""
    return min(most, 2.0 ** min(failures - 1, 30))


class InOrder:
    """Each site's journal events in seq order. The rules keep an outage's story (which stages
    paged IT, whether its end is news), so they must hear it as the journal tells it; the
    dashboard hears it as the network delivers it: an event lost live (an edge SIGKILLed with a
    publish in flight, a broker restart) comes later by replay, after newer ones. An event after
    a gap is held until the gap is filled, or for ``wait_s`` at most (an event that never comes
    must not hold up the alerts). ``last``: each site's highest seq the database held when the
    dashboard started (those were judged before); a site never heard of starts at seq 1, so a
    new dashboard that hears a live event before the replay of the outage before it judges them
    in order too. An event that comes after its turn (waited out) goes on at once."""

    def __init__(self, wait_s: float, last: dict[str, int] | None = None) -> None:
        self.wait_s = wait_s
        self.next = {site: seq + 1 for site, seq in (last or {}).items()}   # the seq expected next
        self.held: dict[str, dict[int, tuple[JournalEvent, float]]] = {}

    def put(self, event: JournalEvent, mono: float) -> list[JournalEvent]:
        """The events to hand the rules now, in order."""
        want = self.next.get(event.site, 1)
        if event.seq < want:
            return [event]
        if event.seq > want:
            self.held.setdefault(event.site, {})[event.seq] = (event, mono)
            return []
        self.next[event.site] = event.seq + 1
        return [event] + self._release(event.site)

    def _release(self, site: str) -> list[JournalEvent]:
        out, held = [], self.held.get(site, {})
        while self.next[site] in held:
            out.append(held.pop(self.next[site])[0])
            self.next[site] += 1
        if not held:
            self.held.pop(site, None)
        return out

    def due(self, mono: float) -> list[JournalEvent]:
        """Held events whose wait is over, with those behind them, in order (the gap skipped)."""
        out = []
        for site in list(self.held):
            held = self.held[site]
            if min(at for _, at in held.values()) <= mono - self.wait_s:
                self.next[site] = min(held)
                out += self._release(site)
        return out


class LeadLost(Exception):
    """This dashboard no longer runs the alert rules (``Alerter.stored``)."""


class Judged:
    """The (site, seq) of the events already judged, so none is judged twice.

    Per site a run of seqs [low, high] and the few judged outside it (after a gap, before the
    replay fills it): events come in seq order, so this stays a few numbers a site however long
    the dashboard runs (a set of every (site, seq) grew by ~190 bytes an event). At most
    ``limit`` seqs outside the runs are kept; past that the lowest is forgotten."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.runs: dict[str, list[int]] = {}        # site -> [low, high]
        self.outside: dict[str, set[int]] = {}
        self.count = 0                              # seqs in the sets of ``outside``

    def add(self, site: str, seq: int) -> bool:
        """Note the event; False when it was judged already."""
        run = self.runs.get(site)
        if run is None:
            self.runs[sys.intern(site)] = [seq, seq]
            return True
        extra = self.outside.get(site, set())
        if run[0] <= seq <= run[1] or seq in extra:
            return False
        if seq == run[1] + 1:
            run[1] = seq
        elif seq == run[0] - 1:
            run[0] = seq
        else:
            self.outside.setdefault(sys.intern(site), extra).add(seq)
            self.count += 1
            if self.count > self.limit:
                self._forget()
            return True
        while run[1] + 1 in extra or run[0] - 1 in extra:   # the run has reached some of them
            near = run[1] + 1 if run[1] + 1 in extra else run[0] - 1
            extra.discard(near)
            self.count -= 1
            run[0], run[1] = min(run[0], near), max(run[1], near)
        if site in self.outside and not extra:
            del self.outside[site]
        return True

    def _forget(self) -> None:
        site = max(self.outside, key=lambda s: len(self.outside[s]))
        extra = self.outside[site]
        extra.discard(min(extra))
        self.count -= 1
        if not extra:
            del self.outside[site]


class Alerter:
    """The outbox and its two threads; ``entries`` gives the sites (for the stale check)."""

    def __init__(self, config: Config, db: Engine, targets: list[Target],
                 entries: Callable[[], list[Any]] = list, clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic):
        self.settings, self.site = config.alerts, config.site
        self.zone = ZoneInfo(config.site.timezone)   # checked when the config was loaded
        self.public_url = config.dashboard.public_url
        self.rules = Rules(min_room=config.alerts.min_room)
        self.db, self.targets, self.entries, self.clock = db, targets, entries, clock
        self.db.open_outbox()
        self._recall()
        self._inbox: queue.Queue[Any] = queue.Queue()
        self._stop, self._wake = threading.Event(), threading.Event()
        self._failures: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}
        self._threads: list[threading.Thread] = []
        self.in_order = InOrder(GAP_WAIT_S, db.last_seqs())
        self.monotonic = monotonic
        self._seen = Judged(SEEN_EVENTS)
        self._retake = False   # an alert was left to the next leader: take over even if it is us
        # The rooms the config names (they page IT when they never report) and since when.
        self.expected = frozenset(expected_sites(config.dashboard.sites, config.dashboard.groups))
        self.started = clock()

    def hear(self, item: Any) -> None:
        """What the store just took (a new journal event or a state); called on the MQTT thread.
        On a shared database only the dashboard that leads runs the rules: the others drop it."""
        if self.db.leading(look=False):
            self._inbox.put(item)

    def start(self) -> None:
        """Start the watcher and the sender."""
        self.db.lead_alerts()
        for name, run in (("siaga-alerts-watch", self._watch), ("siaga-alerts-send", self._send)):
            thread = threading.Thread(target=run, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop both threads (a send in progress is finished); unsent alerts stay in the outbox."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def queue_test(self, by: str) -> int | None:
        """Queue a test alert to every URL; its outbox id."""
        alert = Alert(self.site.id, AlertKind.TEST, self.site.name or self.site.id,
                      detail={"by": by}, at=self.clock())
        return self.queue(alert)

    def queue(self, alert: Alert, judged: bool = False) -> int | None:
        """Write one alert to the outbox (unless a repeat is held back) and wake the sender.
        ``judged``: made by the rules. On a shared database, when it cannot be written because
        the server went away and this dashboard lost the rules' lock with it, it is left to the
        dashboard that leads next (``take_over`` judges the event again): written by both, it
        would go out twice."""
        now = self.clock()
        title, body = render(alert, self.settings.language, self.zone, self.public_url, now)
        quiet = self.settings.quiet_repeat_s
        lead = (lambda: self.db.leading()) if judged and self.db.shared else None
        try:
            alert_id = self.stored(lambda: self.db.add_alert(
                alert.site, alert.kind.value, now, title, body, quiet,
                lambda last: held(last, now, quiet, alert.kind)), lead)
        except LeadLost:
            logger.info("alert %s for %s left to the dashboard that runs the rules next",
                        alert.kind.value, alert.site)
            self._retake = True
            return None
        if alert_id is None:
            logger.info("alert %s for %s held back: the same went out less than %g s ago",
                        alert.kind.value, alert.site, quiet)
            return None
        logger.info("alert %d queued: %s for %s", alert_id, alert.kind.value, alert.site)
        self._wake.set()
        return alert_id

    def stored(self, write: Callable[[], Any], lead: Callable[[], bool] | None = None) -> Any:
        """``write()``, again every second while the database is away (PostgreSQL restarting):
        an alert the rules made, or a delivery made, must not be lost or sent twice for it (the
        engine's writes are idempotent for a retry). DatabaseUnavailable only when the dashboard
        stops meanwhile; LeadLost when ``lead()`` says this dashboard no longer runs the rules."""
        while True:
            try:
                return write()
            except DatabaseUnavailable:
                if lead is not None and not lead():
                    raise LeadLost() from None
                if self._stop.wait(1.0):
                    raise

    # ---- the watcher ------------------------------------------------------------------------

    def _watch(self) -> None:
        ticked, led = 0.0, True
        while not self._stop.is_set():
            leads = self.db.leading()
            if leads and (not led or self._retake):   # another led until now: take up from there
                self._retake = False
                try:
                    self.take_over()
                except DatabaseUnavailable:   # gone again: taken over at the next look
                    leads = False
            led = leads
            if not leads:
                self._stop.wait(TICK_S)
                continue
            try:
                self.offer(self._inbox.get(timeout=TICK_S))
            except queue.Empty:
                pass
            except DatabaseUnavailable:   # (only while stopping: ``stored`` waits for it)
                pass
            except Exception:  # a bug in one rule must not end alerting for every site
                logger.exception("alert rules failed; the item was skipped")
            if time.monotonic() - ticked >= TICK_S:
                ticked = time.monotonic()
                self.tick()

    def take_over(self) -> None:
        """Run the rules from where the dashboard that led before stopped (shared database): the
        memory from the outbox and the open outages' events (``_recall``), then the recent
        events newer than each site's newest alert (the ones the old leader may have heard but
        not judged when it died)."""
        last = self._recall()
        newest: dict[str, float] = {}
        for site, _, created in last:
            newest[site] = max(created, newest.get(site, created))
        events = self.db.recent_events(self.clock() - TAKEOVER_LOOKBACK_S)
        todo = [e for e in events if e.ts > newest.get(e.site, float("-inf"))]
        logger.info("this dashboard runs the alert rules now; %d recent events judged again", len(todo))
        self._seen = Judged(SEEN_EVENTS)   # judged here before, their alerts maybe never written
        for event in todo:
            self.take(event)
        # While another led, this one dropped what it heard: expect each site's next seq after
        # what the database holds now, or every site's next event would wait out GAP_WAIT_S.
        self.in_order = InOrder(GAP_WAIT_S, self.db.last_seqs())

    def _recall(self) -> list[tuple[str, str, float]]:
        """The rules' memory from the outbox's newest alerts (``rules.seed``), and for an outage
        still open the PCs its events switched off; those outbox rows."""
        last = self.db.last_alerts(self.clock() - SEED_LOOKBACK_S)
        self.memory = {site: still_off(mem, self.db.events(site, OUTAGE_EVENTS))
                       for site, mem in seed(last).items()}
        return last

    def take(self, item: Any) -> None:
        """Run the rules on one item and queue what they say."""
        if isinstance(item, JournalEvent):
            if not self._seen.add(item.site, item.seq):
                return
        self.memory, alerts = react(self.memory, item, self.clock(), self.rules)
        for alert in alerts:
            self.queue(alert, judged=True)

    def offer(self, item: Any) -> None:
        """An item as heard: a journal event goes to the rules in its site's seq order (see
        InOrder); anything else at once."""
        if not isinstance(item, JournalEvent):
            self.take(item)
            return
        for event in self.in_order.put(item, self.monotonic()):
            self.take(event)

    def tick(self) -> None:
        """Timers, events that waited long enough for a gap, sites that went stale or fresh."""
        for event in self.in_order.due(self.monotonic()):
            self.take(event)
        entries = self.entries()
        unseen = self.expected.difference(e.site for e in entries) if self.expected else frozenset()
        self.take(Tick(unseen, self.started))
        for entry in entries:
            known = self.memory.get(entry.site)
            if known is None or known.stale != entry.stale:
                self.take(Stale(entry.site, entry.stale))

    # ---- the sender -------------------------------------------------------------------------

    def _send(self) -> None:
        next_prune, sent = 0.0, 1
        while not self._stop.is_set():
            if not sent:  # after a busy pass, straight on: a backlog drains without pauses
                self._wake.wait(TICK_S)
            self._wake.clear()
            try:
                sent = self.send_due()
                if time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + 3600
                    self.db.prune_alerts(self.clock() - KEEP_SENT_S)
            except DatabaseUnavailable:   # the engine said so; the rows wait in the outbox
                sent = 0
                self._stop.wait(TICK_S)
            except Exception:  # the database or Apprise failing in a way we did not foresee
                logger.exception("sending alerts failed; trying again")
                sent = 0

    def send_due(self) -> int:
        """Send what is due, oldest first per URL; the number of deliveries that succeeded.

        Each URL has its own queue (the rows it has not taken): a URL that stays broken holds up
        only itself, however many alerts wait for it."""
        count = 0
        for target in self.targets:
            if self._retry_at.get(target.key, 0.0) > time.monotonic():
                continue
            for row in self.db.unsent_alerts(target.key, BATCH):
                if self._stop.is_set():
                    return count
                # Still being tried to this URL: whoever tried died before recording the answer.
                repeat = row[10] == target.key
                held = self.stored(lambda: self.db.alert_trying(row[0], target.key))
                if held is None:   # another dashboard took it while this one waited: it goes on
                    break          # with it and the younger ones (sent here too, they came twice)
                error = self._deliver(target, self._title(row, repeat), row[5], row[2])
                done = set(held.split()) | ({target.key} if error is None else set())
                complete = all(t.key in done for t in self.targets)
                # Sent but not recorded would be sent again: recorded once the database is back.
                self.stored(lambda: self.db.alert_tried(row[0], " ".join(sorted(done)),
                                                        self.clock() if complete else None, error))
                if error is not None:
                    break
                count += 1
        return count

    def _title(self, row: tuple, repeat: bool = False) -> str:
        """The stored title; marked late when the alert waited in the outbox (the body already
        says when it happened), and as a possible duplicate when it may have arrived before."""
        lang = self.settings.language
        waited = self.clock() - row[3] > LATE_AFTER_S
        title = late_title(row[4], lang) if waited else row[4]
        return repeat_title(title, lang) if repeat else title

    def _deliver(self, target: Target, title: str, body: str, kind: str) -> str | None:
        """Send to one URL: None when it arrived, else why not; a failure delays that URL."""
        reason = send(target.notifier, title, body, NOTIFY_TYPES.get(kind, "info"))
        where = f"line {target.line} ({target.scheme})"
        if reason is None:
            if self._failures.pop(target.key, 0):
                logger.info("alerts reach URL %s again", where)
            self._retry_at.pop(target.key, None)
            return None
        failures = self._failures[target.key] = self._failures.get(target.key, 0) + 1
        self._retry_at[target.key] = time.monotonic() + backoff_s(failures,
                                                                  self.settings.retry_max_s)
        if failures == 1:
            logger.warning("alert not sent to URL %s: %s; retrying with growing waits", where, reason)
        return f"{where}: {reason}"
