"""The dashboard's MQTT side: edge states, events and availability in, edge commands out.

Every payload is decoded with the shared types of protocol/messages.py; anything else is logged (at
most once a minute per topic, so a noisy sender cannot flood the log) and dropped.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid

from dashboard.store.gaps import MAX_SITES as GAP_SITES, Gaps, KNOWN_WINDOW
from dashboard.store.store import Store
from protocol.config import Config, ID_PATTERN
from protocol.messages import (AVAILABILITY, EDGE_COMMAND_MAX_AGE_S, BadMessage, EdgeCommand,
                               EdgeCommandKind, JournalEvent, StateSnapshot, Topics, decode,
                               parse_topic, to_json)
from protocol.mqtt import MqttLink

logger = logging.getLogger(__name__)

LEAVES = ("state", "event", "availability")
SHARE = "$share/siaga-dashboard/"   # MQTT v5 shared subscription of the dashboards on PostgreSQL
LOG_AGAIN_AFTER_S = 60.0
MAX_SEQ = 2**63 - 1      # SQLite's largest integer


def subscriptions(prefix: str, shared: bool) -> tuple[str, ...]:
    """The feed's topic filters. Shared (several dashboards on PostgreSQL, CONTRACT §6.5): the
    broker hands each state and event to one of them; availability (rare, retained, kept in
    memory only) still reaches every dashboard."""
    share = SHARE if shared else ""
    return (f"{share}{prefix}/+/edge/state", f"{share}{prefix}/+/edge/event",
            f"{prefix}/+/edge/availability")


class Feed:
    """Subscribes to ``{prefix}/+/edge/{state,event,availability}`` and fills the store."""

    def __init__(self, config: Config, store: Store, client_id: str = "") -> None:
        self.prefix = config.mqtt.topic_prefix
        self.store = store
        self._logged: dict[str, float] = {}
        client_id = client_id or f"siaga-dashboard-{socket.gethostname()}-{os.getpid()}"
        self.link = MqttLink(config.mqtt, client_id[:64],
                             subscriptions=subscriptions(self.prefix, store.shared),
                             on_message=self.on_message)
        self.gaps = Gaps(self._ask_replay, lambda site: [e.seq for e in store.events(site, KNOWN_WINDOW)],
                         max_sites=max(GAP_SITES, store.max_sites),
                         known_many=lambda sites: store.recent_seqs(sites, KNOWN_WINDOW),
                         adaptive=store.shared)
        for_gaps = self.gaps.note if store.shared else None   # shared: queued, read in batches
        self._saw_event = (lambda s, q: for_gaps(s, q, True)) if for_gaps else self.gaps.saw_event
        self._saw_state = (lambda s, q: for_gaps(s, q, False)) if for_gaps else self.gaps.saw_state
        store.event_hooks.append(self._saw_stored)

    def _saw_stored(self, keys: list[tuple[str, int]]) -> None:
        """The (site, seq) of events other dashboards stored."""
        for site, seq in keys:
            self.gaps.note(site, seq, True)

    def _ask_replay(self, site: str, first: int) -> bool:
        """Ask ``site`` to replay from ``first``; on a shared database only the dashboard that
        claims this gap (and this attempt) asks, the others count it as asked. Shared, the gap is
        looked for in the database first: another dashboard may have stored it meanwhile."""
        if self.store.shared:
            held = [seq for seq in self.store.recent_seqs([site], KNOWN_WINDOW)[site] if seq >= first]
            if first in held:
                self.gaps.saw_events([(site, seq) for seq in held], lambda sites: {})
                return True
        if not self.store.db.claim_replay(site, first, self.gaps.attempts(site) + 1):
            return True
        return self.send_command(site, EdgeCommandKind.REPLAY, "dashboard", first) is not None

    def start(self) -> None:
        """Connect in the background."""
        self.link.start()
        self.gaps.start()

    def stop(self) -> None:
        """Disconnect."""
        self.gaps.stop()
        self.link.stop()

    @property
    def connected(self) -> bool:
        """True while the broker connection is up."""
        return self.link.connected.is_set()

    def on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        """Route one message to the store; bad ones are logged and dropped."""
        parsed = parse_topic(self.prefix, topic)
        if parsed is None or len(parsed[1]) != 2 or parsed[1][0] != "edge":
            return
        site, (_, leaf) = parsed
        if leaf not in LEAVES:
            return
        if not ID_PATTERN.fullmatch(site):
            self._drop(topic, "the site id is not a valid id")
            return
        if not self.store.wants(site):
            self.store.count("ignored")
            return
        try:
            getattr(self, f"_{leaf}")(site, payload)
        except BadMessage as exc:
            self._drop(topic, str(exc))

    def _state(self, site: str, payload: bytes) -> None:
        if not payload:
            self.store.forget(site)
            return
        state = decode(StateSnapshot, payload)
        if state.site != site:
            raise BadMessage(f"site {state.site!r} in the payload differs from the topic")
        if self.store.put_state(state):
            self._saw_state(site, state.seq)

    def _event(self, site: str, payload: bytes) -> None:
        event = decode(JournalEvent, payload)
        if event.site != site:
            raise BadMessage(f"site {event.site!r} in the payload differs from the topic")
        if not 0 <= event.seq <= MAX_SEQ:
            raise BadMessage(f"seq: must be >= 0 and <= {MAX_SEQ}, got {event.seq}")
        self.store.put_event(event)
        self._saw_event(site, event.seq)

    def _availability(self, site: str, payload: bytes) -> None:
        value = payload.decode("utf-8", "replace").strip()
        if value and value not in AVAILABILITY:
            raise BadMessage(f"expected online or offline, got {value[:40]!r}")
        self.store.put_availability(site, value or None)

    def _drop(self, topic: str, reason: str) -> None:
        self.store.count("bad")
        now = time.monotonic()
        if now - self._logged.get(topic, -LOG_AGAIN_AFTER_S) >= LOG_AGAIN_AFTER_S:
            if len(self._logged) > 10000:
                self._logged.clear()
            self._logged[topic] = now
            logger.warning("dropped a message on %s: %s", topic[:200], reason)

    def send_command(self, site: str, kind: str, by: str, from_seq: int | None = None) -> str | None:
        """Publish an edge command; its id, or None when it could not be handed to the broker."""
        command = EdgeCommand(id=uuid.uuid4().hex, ts=time.time(), kind=kind, by=by,
                              from_seq=from_seq)
        if not self.connected:
            return None
        # A person's command expires (MQTT 5) if the room is cut off longer than the edge would
        # still act on it; a replay fills a gap whenever it arrives.
        expiry = None if kind == EdgeCommandKind.REPLAY else EDGE_COMMAND_MAX_AGE_S
        info = self.link.publish(Topics(self.prefix, site).edge("command"), to_json(command),
                                 expiry_s=expiry)
        if info is None or info.rc != 0:
            return None
        logger.info("sent %s to %s (id %s, by %s)", kind, site, command.id, by)
        return command.id
