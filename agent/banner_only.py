"""`siaga agent --banner-only`: the banner in the user's desktop session, and nothing else.

On Windows the agent itself runs at startup as SYSTEM (``--no-banner``), so a PC booted after an
outage reports and obeys a shutdown before anyone logs on; but a SYSTEM process cannot draw on a
user's desktop. This second process starts at logon in the user's session, listens to the same
PC commands and shows their banners. It never acks, acts, or publishes: the agent does that.
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
from agent.views import RESTORED_CLOSE_S, NewestOutage, command_view, shutdown_grace_s
from protocol.config import AgentConfig
from protocol.messages import PcCommand, PcCommandKind, Topics
from protocol.mqtt import MqttLink

logger = logging.getLogger(__name__)


class BannerOnly:
    """Listens to this PC's commands and shows each one's banner once."""

    def __init__(self, config: AgentConfig, *, banner: Banner | None = None,
                 restored_close_s: float = RESTORED_CLOSE_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        pc_id = config.agent.pc_id
        self.topic = Topics(config.mqtt.topic_prefix, config.site.id).pc(pc_id, "command")
        self.banner = banner or Banner(True)
        self.restored_close_s = restored_close_s
        self.clock = clock
        self.handled = HandledIds(None)      # in memory: a resend is shown once
        self._countdown_until = 0.0          # a resent shutdown must not restart the countdown
        self._newest = NewestOutage()
        self._inbox: queue.Queue[PcCommand | None] = queue.Queue()
        self._thread = threading.Thread(target=self._show_loop, name="banner-only", daemon=True)
        # A client id of its own: Task Scheduler starts one per logged-on user, and two with one
        # id would drop each other from the broker every second, each missing banners.
        self.link = MqttLink(config.mqtt, f"siaga-banner-{config.site.id}-{pc_id}-{uuid.uuid4().hex[:8]}",
                             subscriptions=(self.topic,), on_message=self._on_message)

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

    def _show_loop(self) -> None:
        while (cmd := self._inbox.get()) is not None:
            try:
                self._show(cmd)
            except Exception:  # noqa: BLE001 - the next banner must still be shown
                logger.exception("banner-only: showing the %s banner failed", cmd.kind)

    def _show(self, cmd: PcCommand) -> None:
        now = self.clock()
        if cmd.kind == PcCommandKind.SHUTDOWN:
            if now < self._countdown_until:
                return
            self._countdown_until = now + shutdown_grace_s(self.config.agent, cmd)
        elif cmd.kind == PcCommandKind.CANCEL:
            self._countdown_until = 0.0
        if not self._newest.shows(cmd):
            return
        self.banner.show(command_view(cmd, self.config.site.language, self.config.agent,
                                      self.restored_close_s))
