"""`siaga agent -c FILE`: the meeting-PC agent (CONTRACT.md §2 agent file, §3 PC topics).

It publishes the PC's telemetry (retained, every ``interval_s``, with an ``online``/``offline``
availability), and obeys the edge's commands: the ack goes out at once from the MQTT thread,
then a worker thread shows the banner and starts the wrap-up or the shutdown. Handled command
ids are kept in the state file (``agent.state_file``; default ``<config name>-state.json`` next
to the config file), so a command resent after a reconnect or a restart is acked but not
acted on again. A shutdown waiting out its grace is kept there too: an agent restarted inside the
grace (an update, a crash) goes on with it, unless its command has expired or the PC has
restarted since. A shutdown command that leaves the PC up is acked a second time, ``ok`` false,
with the reason: the edge journals it and the dashboard shows that the PC did not shut down.
"""

from __future__ import annotations

import dataclasses
import logging
import logging.handlers
import queue
import re
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

from agent import single
from agent.actions import Actions, Ran
from agent.banner import Banner
from agent.banner_only import BannerOnly
from agent.commands import HandledIds, judge
from agent.disk_history import DiskHistory
from agent.telemetry import Telemetry
from agent.texts import banner_view, not_off_view
from agent.views import RESTORED_CLOSE_S, NewestOutage, command_view, shutdown_grace_s
from protocol.config import AgentConfig, ConfigError, load_agent_config
from protocol.messages import Ack, AckCode, PcCommand, PcCommandKind, Topics, to_json
from protocol.mqtt import MqttLink

logger = logging.getLogger(__name__)

BROKER_WARN_AFTER_S = 10.0
RESUME_MIN_S = 10.0        # a shutdown resumed after a restart waits this at least (for a cancel)
# What Actions.wrapup answers when it starts nothing: the ack's code for it.
WRAPUP_NOT_STARTED = {"no wrapup_command configured": AckCode.NO_WRAPUP_COMMAND,
                      "wrap-up already running": AckCode.WRAPUP_RUNNING}


def state_path(config: AgentConfig) -> Path:
    """Where handled command ids are kept: ``agent.state_file`` (relative to the config file)."""
    base = Path(config.path).resolve().parent
    if config.agent.state_file:
        path = Path(config.agent.state_file).expanduser()
        return path if path.is_absolute() else base / path
    return base / f"{Path(config.path).stem}-state.json"


class Agent:
    """The agent's parts wired together; ``start`` returns at once, ``stop`` ends it cleanly."""

    def __init__(self, config: AgentConfig, *, banner: Banner | None = None,
                 restored_close_s: float = RESTORED_CLOSE_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.pc_id = config.agent.pc_id
        self.topics = Topics(config.mqtt.topic_prefix, config.site.id)
        self.banner = banner or Banner(config.agent.banner)
        self.actions = Actions(config.agent, language=config.site.language,
                               on_shutdown_start=lambda: self.handled.set_shutdown(None))
        self.handled = HandledIds(state_path(config))
        self.telemetry = Telemetry(self.pc_id, config.agent, disk_history=DiskHistory(
            state_path(config).with_name(f"{Path(config.path).stem}-disk.json")))
        self.restored_close_s = restored_close_s
        self.clock = clock
        self._inbox: queue.Queue[PcCommand | None] = queue.Queue()
        self._ack_later: set[str] = set()   # OBS wrap-ups: acked once OBS has saved the file
        self._newest = NewestOutage()        # a late cancel of an earlier outage shows no banner
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self.link = MqttLink(
            config.mqtt, f"siaga-agent-{config.site.id}-{self.pc_id}",
            availability_topic=self.topic("availability"), subscriptions=(self.topic("command"),),
            on_message=self._on_message, on_connected=self._wake.set)

    def topic(self, leaf: str) -> str:
        """``P/pc/{pc_id}/{leaf}`` of this PC."""
        return self.topics.pc(self.pc_id, leaf)

    def start(self) -> None:
        """Connect and start the telemetry and action threads."""
        self.link.start()
        for target, name in ((self._telemetry_loop, "telemetry"), (self._act_loop, "actions")):
            thread = threading.Thread(target=target, name=f"agent-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop the threads, forget a pending shutdown, close the banner, say offline."""
        self._stop.set()
        self._wake.set()
        self._inbox.put(None)
        for thread in self._threads:
            thread.join(5)
        self.actions.stop()
        self.banner.stop()
        self.link.stop()
        self.handled.save()

    def publish_status(self) -> None:
        """Publish the PC's telemetry now (retained)."""
        status = self.telemetry.collect()
        self.link.publish(self.topic("status"), to_json(status), retain=True)

    def _telemetry_loop(self) -> None:
        interval = self.config.agent.interval_s
        started = next_at = time.monotonic()
        warned = False
        while not self._stop.is_set():
            if self.link.connected.is_set():
                warned = False
                try:
                    self.publish_status()
                except Exception:  # noqa: BLE001 - one bad reading must not end the telemetry
                    logger.exception("telemetry failed; trying again in %g s", interval)
            elif not warned and time.monotonic() - started > BROKER_WARN_AFTER_S:
                logger.warning("MQTT broker %s:%s not reachable yet; still trying",
                               self.config.mqtt.host, self.config.mqtt.port)
                warned = True
            next_at += interval
            now = time.monotonic()
            if next_at <= now:  # fell behind (a slow scan, a suspended PC): no burst to catch up
                next_at = now + interval
            if self._wake.wait(next_at - now):  # (re)connected: report now, count from now
                self._wake.clear()
                next_at = time.monotonic() - interval

    def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        """A command arrived (paho's thread): judge it, ack at once, queue the action."""
        if topic != self.topic("command"):
            return
        now = self.clock()
        fresh = bool(self.link.expiry_left)   # the broker vouches: within its 120 s life
        verdict = judge(payload, now, self.handled, self.config.agent.command_key, fresh)
        if not verdict.act and verdict.command is not None and verdict.command.id in self._ack_later:
            # A resend while OBS saves: an "already handled" ack now would be journaled instead
            # of the saved file's name, which follows.
            logger.info("wrap-up %s resent while OBS saves the recording; its ack follows",
                        verdict.command.id)
            return
        if not verdict.act:
            if verdict.ack is not None:
                self._ack(verdict.ack)
            repeat = verdict.ack is not None and verdict.ack.ok
            logger.log(logging.INFO if repeat else logging.WARNING, "command ignored: %s",
                       verdict.reason)
            return
        cmd = verdict.command
        assert cmd is not None and verdict.ack is not None   # judge() sets both when it acts
        if cmd.kind == PcCommandKind.WRAPUP and self.config.agent.obs is not None:
            self._ack_later.add(cmd.id)
        else:
            detail, code, args = self._plan(cmd)
            self._ack(dataclasses.replace(verdict.ack, detail=detail, code=code, args=args))
        self.handled.add(cmd.id, cmd.expires, now, save=False)   # the file is written by the worker
        logger.info("command %s received (id %s)", cmd.kind, cmd.id)
        self._inbox.put(cmd)

    def _ack(self, ack: Ack) -> None:
        self.link.publish(self.topic("ack"), to_json(ack))

    def _plan(self, cmd: PcCommand) -> tuple[str, AckCode, dict[str, Any]]:
        """What the agent is about to do: (the ack's ``detail`` in a few words, its code, the
        code's arguments)."""
        if cmd.kind == PcCommandKind.SHUTDOWN:
            if self.actions.shutdown_pending:
                return "shutdown already pending", AckCode.SHUTDOWN_PENDING, {}
            grace = self.grace_s(cmd)
            return f"shutdown in {grace:g} s", AckCode.SHUTDOWN_IN, {"seconds": grace}
        if cmd.kind == PcCommandKind.WRAPUP:
            if self.config.agent.wrapup_command:
                return "wrap-up command started", AckCode.WRAPUP_STARTED, {}
            return "no wrapup_command configured", AckCode.NO_WRAPUP_COMMAND, {}
        if cmd.kind == PcCommandKind.CANCEL:
            if self.actions.shutdown_pending:
                return "shutdown cancelled", AckCode.SHUTDOWN_CANCELLED, {}
            return "nothing to cancel", AckCode.NOTHING_TO_CANCEL, {}
        if self.banner.available:
            return "banner", AckCode.BANNER, {}
        if self.banner.enabled:
            return "no display: logged only", AckCode.NO_DISPLAY_LOGGED, {}
        return "banner off: logged only", AckCode.BANNER_OFF_LOGGED, {}

    def grace_s(self, cmd: PcCommand) -> float:
        """How long a shutdown waits: the shorter of this PC's ``shutdown_grace_s`` and the edge's."""
        return shutdown_grace_s(self.config.agent, cmd)

    def _act_loop(self) -> None:
        try:
            self._resume_shutdown()
        except Exception:  # noqa: BLE001 - the commands must still be handled
            logger.exception("resuming the pending shutdown failed")
        while (cmd := self._inbox.get()) is not None:
            try:
                self.handled.save()
                self._act(cmd)
            except Exception:  # noqa: BLE001 - the next command must still be handled
                logger.exception("acting on the %s command %s failed", cmd.kind, cmd.id)

    def _act(self, cmd: PcCommand) -> None:
        if cmd.kind == PcCommandKind.SHUTDOWN:
            if self.actions.shutdown_requested:
                return
            grace = self.grace_s(cmd)
            now = self.clock()
            self.handled.set_shutdown({"id": cmd.id, "since": now, "at": now + grace,
                                       "until": max(cmd.expires, now + grace)})
            self.actions.shutdown(grace, on_failed=self._shutdown_failed(cmd.id))
        elif cmd.kind == PcCommandKind.WRAPUP:
            self._wrapup(cmd)
        elif cmd.kind == PcCommandKind.CANCEL:
            self.actions.cancel()
            self.handled.set_shutdown(None)
            if self._newest.shows(cmd):   # an earlier outage's late cancel leaves this wrap-up be
                self.actions.stop_wrapup()
        if not self._newest.shows(cmd):
            logger.info("cancel %s is an earlier outage's: no 'power restored' banner", cmd.id)
            return
        self.banner.show(command_view(cmd, self.config.site.language, self.config.agent,
                                      self.restored_close_s))

    def _wrapup(self, cmd: PcCommand) -> None:
        """Start the wrap-up; with OBS its ack says where the recording was saved, or why not."""
        if cmd.id not in self._ack_later:
            self.actions.wrapup()
            return

        def ack(ok: bool, detail: str, code: str, args: dict[str, Any]) -> None:
            self._ack_later.discard(cmd.id)
            self._ack(Ack(id=cmd.id, kind=cmd.kind, ok=ok, ts=self.clock(), detail=detail,
                          code=code, args=args))

        started = self.actions.wrapup(
            on_obs=lambda result: ack(result.ok, result.detail, result.code, result.args))
        if started != "wrap-up started":
            ack(True, started, WRAPUP_NOT_STARTED.get(started, ""), {})

    def _shutdown_failed(self, cid: str) -> Callable[[Ran], None]:
        """What tells the edge that shutdown ``cid`` left the PC up (its second ack, ok false),
        and the room: the banner's countdown gives way to "shut it down by hand now"."""
        def ack(ran: Ran) -> None:
            try:
                self.banner.show(not_off_view(self.config.site.language))
            finally:
                self._ack(failed_shutdown_ack(cid, ran, self.actions.shutdown_argv(), self.clock()))
        return ack

    def _resume_shutdown(self) -> None:
        """Go on with the shutdown that was waiting out its grace when the agent last stopped."""
        record = self.handled.shutdown
        if record is None:
            return
        now = self.clock()
        try:
            cid = str(record["id"])
            since, at, until = (float(record[k]) for k in ("since", "at", "until"))
            fresh = now < until and since > self.telemetry.boot_time
        except (KeyError, TypeError, ValueError):
            fresh = False
        if not fresh:
            logger.info("the shutdown pending when the agent stopped is over (expired, or the PC "
                        "has restarted since): dropped")
            self.handled.set_shutdown(None)
            return
        grace = max(at - now, RESUME_MIN_S)
        logger.warning("shutdown %s was waiting out its grace when the agent stopped; going on", cid)
        self.actions.shutdown(grace, on_failed=self._shutdown_failed(cid))
        cmd = PcCommand(id=cid, ts=since, expires=until, kind=PcCommandKind.SHUTDOWN.value)
        self.banner.show(banner_view(cmd, self.config.site.language, countdown_s=grace))


def failed_shutdown_ack(cid: str, ran: Ran, argv: list[str], now: float) -> Ack:
    """The ack of shutdown ``cid`` whose command ``argv`` ran as ``ran`` and left the PC up."""
    command = " ".join([re.split(r"[\\/]", argv[0])[-1], *argv[1:]])[:120] if argv else "?"
    output: dict[str, Any] = {"output": ran.said}
    args: dict[str, Any]
    if ran.error:
        code, args = AckCode.SHUTDOWN_NOT_RUN, {"command": command, "error": ran.error}
    elif ran.timeout_s is not None:
        code, args = AckCode.SHUTDOWN_TIMEOUT, {"command": command, "seconds": ran.timeout_s, **output}
    else:
        code, args = AckCode.SHUTDOWN_FAILED, {"command": command, "status": ran.status, **output}
    said = f": {ran.said}" if ran.said else ""
    return Ack(id=cid, kind=PcCommandKind.SHUTDOWN.value, ok=False, ts=now,
               detail=f"did not shut down: {ran.detail}{said}"[:300], code=code, args=args)


def _log_to_file_when_no_console(config_path: str, suffix: str = "") -> bool:
    """Under pythonw.exe (no console) the log goes to agent.log next to the config file."""
    if sys.stderr is not None:
        return False
    path = Path(config_path).resolve()
    try:
        handler = logging.handlers.RotatingFileHandler(
            path.with_name(f"{path.stem}{suffix}.log"), maxBytes=1_000_000, backupCount=3,
            encoding="utf-8")
    except OSError:
        return False   # its folder is missing or read-only: there is nowhere to say anything
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return True


def run(path: str, mode: str = "all") -> int:
    """Run the agent until SIGTERM or Ctrl+C; a bad config raises ConfigError (exit 2).

    ``mode``: "all" (everything), "service" (everything but the banner: Windows' SYSTEM task) or
    "banner" (only the banner, in the user's session: Windows' logon task)."""
    to_file = _log_to_file_when_no_console(path, "-banner" if mode == "banner" else "")
    try:
        config = load_agent_config(path)
    except ConfigError as exc:
        if to_file:   # under pythonw nobody sees stderr: the log file is the only place to say it
            logger.error("%s", exc)
        raise
    stop = threading.Event()
    for name in ("SIGTERM", "SIGINT", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), lambda *_: stop.set())
    if mode == "service":
        config = dataclasses.replace(config, agent=dataclasses.replace(config.agent, banner=False))
    held = None   # one agent per PC (agent/single.py); the banner-only process runs beside it
    if mode != "banner":
        try:
            held = single.claim_within(single.name_of(config.site.id, config.agent.pc_id,
                                                      config.mqtt.host, config.mqtt.port))
        except OSError as exc:   # cannot tell: running is better than leaving the PC unwatched
            logger.warning("cannot check for another agent on this PC: %s", exc)
            held = True
        if held is None:
            logger.error("%s", single.refusal(config.site.id, config.agent.pc_id,
                                              config.site.language))
            return 1
    program: Agent | BannerOnly = BannerOnly(config) if mode == "banner" else Agent(config)
    program.start()
    logger.info("siaga agent%s for PC %s of site %s started; broker %s:%s",
                {"service": " (no banner)", "banner": " (banner only)"}.get(mode, ""),
                config.agent.pc_id, config.site.id, config.mqtt.host, config.mqtt.port)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        program.stop()
        logger.info("siaga agent stopped")
    del held   # the claim ends with the process; kept referenced until here
    return 0
