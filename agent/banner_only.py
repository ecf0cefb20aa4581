"""`siaga agent --banner-only`: the banner in the user's desktop session, and nothing else.

On Windows the agent itself runs at startup as SYSTEM (``--no-banner``), so a PC booted after an
outage reports and obeys a shutdown before anyone logs on; but a SYSTEM process cannot draw on a
user's desktop. This second process starts at logon in the user's session, listens to the same
PC commands and shows their banners. It never acks, acts, or publishes: the agent does that.
It hears the agent's acks too: when the shutdown it counted down for fails (the agent's second
ack, ``ok`` false), the countdown gives way to "shut it down by hand now".
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from typing import Callable

from agent.banner import Banner
from agent.commands import HandledIds, judge
from agent.texts import not_off_view
from agent.views import RESTORED_CLOSE_S, NewestOutage, command_view, shutdown_grace_s
from protocol.config import AgentConfig
from protocol.messages import NOT_OFF_CODES, Ack, BadMessage, PcCommand, PcCommandKind, Topics, decode
from protocol.mqtt import MqttLink

logger = logging.getLogger(__name__)


class BannerOnly:
    """Listens to this PC's commands and shows each one's banner once."""

    def __init__(self, config: AgentConfig, *, banner: Banner | None = None,
                 restored_close_s: float = RESTORED_CLOSE_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        pc_id = config.agent.pc_id
        topics = Topics(config.mqtt.topic_prefix, config.site.id)
        self.topic, self.ack_topic = topics.pc(pc_id, "command"), topics.pc(pc_id, "ack")
        self.banner = banner or Banner(True)
        self.restored_close_s = restored_close_s
        self.clock = clock
        self.handled = HandledIds(None)      # in memory: a resend is shown once
        self._countdown_until = 0.0          # a resent shutdown must not restart the countdown
        self._newest = NewestOutage()
        self._counted: set[str] = set()     # the shutdowns whose countdown this banner showed
        self._inbox: queue.Queue[PcCommand | Ack | None] = queue.Queue()
        self._thread = threading.Thread(target=self._show_loop, name="banner-only", daemon=True)
        # A client id of its own: Task Scheduler starts one per logged-on user, and two with one
        # id would drop each other from the broker every second, each missing banners.
        self.link = MqttLink(config.mqtt, f"siaga-banner-{config.site.id}-{pc_id}-{uuid.uuid4().hex[:8]}",
                             subscriptions=(self.topic, self.ack_topic),
                             on_message=self._on_message)

    def start(self) -> None:
        """Connect and start showing banners."""
        if not self.banner.available:
            logger.warning("banner-only: no display in this session; banners are only logged")
        self._thread.start()
        self.link.start()

    def stop(self) -> None:
        """Disconnect and close the banner."""
        self.link.stop()
        self._inbox.put(None)
        self._thread.join(5)
        self.banner.stop()

    def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        if topic == self.ack_topic:
            self._on_ack(payload)
            return
        if topic != self.topic:
            return
        now = self.clock()
        # The same key as the service: a banner must never show a forged "power is back" while
        # the service, refusing that cancel, shuts the PC down (or a forged countdown).
        verdict = judge(payload, now, self.handled, self.config.agent.command_key,
                        broker_fresh=bool(self.link.expiry_left))
        if not verdict.act:
            logger.debug("banner-only: command not shown: %s", verdict.reason)
            return
        assert verdict.command is not None   # judge() sets it when it acts
        self.handled.add(verdict.command.id, verdict.command.expires, now, save=False)
        self._inbox.put(verdict.command)

    def _on_ack(self, payload: bytes) -> None:
        """The agent's second ack of a shutdown, ``ok`` false: its command left the PC up."""
        try:
            ack = decode(Ack, payload)
        except BadMessage:
            return
        if ack.kind == PcCommandKind.SHUTDOWN and not ack.ok and ack.code in NOT_OFF_CODES:
            self._inbox.put(ack)

    def _show_loop(self) -> None:
        while (cmd := self._inbox.get()) is not None:
            try:
                self._show(cmd)
            except Exception:  # noqa: BLE001 - the next banner must still be shown
                logger.exception("banner-only: showing the %s banner failed", cmd.kind)

    def _show(self, cmd: PcCommand | Ack) -> None:
        if isinstance(cmd, Ack):   # only for a countdown shown here, once (an ack may be repeated)
            if cmd.id in self._counted:
                self._counted.discard(cmd.id)
                self._countdown_until = 0.0
                self.banner.show(not_off_view(self.config.site.language))
            return
        now = self.clock()
        if cmd.kind == PcCommandKind.SHUTDOWN:
            if now < self._countdown_until:
                return
            self._countdown_until = now + shutdown_grace_s(self.config.agent, cmd)
            self._counted.add(cmd.id)
        elif cmd.kind == PcCommandKind.CANCEL:
            self._countdown_until = 0.0
        if not self._newest.shows(cmd):
            return
        self.banner.show(command_view(cmd, self.config.site.language, self.config.agent,
                                      self.restored_close_s))
