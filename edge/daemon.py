"""`siaga edge`: the loop that wires the adapters to the room core. Poll, decide, act, publish.

Two clocks go into the core each tick: the wall clock (journal times, what people read) and the
monotonic clock (every duration: the flicker guard, the wrap-up and shutdown timers, the runtime
estimate), so an NTP step mid-outage changes no stage. A Pi has no real-time clock: until NTP
has synchronised, its wall clock may be days off. ``clock_synced`` in ``edge_started`` tells the
report whether the journal's times can be trusted from that start on (see ``clock_synced``).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import signal
import sqlite3
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from edge import sdnotify
from edge.bus import EdgeBus
from edge.calendar import RoomCalendar
from edge.clock import wall
from edge.homeassistant import Discovery, start_discovery
from edge.indicator import Indicator, IndicatorError
from edge.journal import Journal
from edge.pcs import ACTIVITY_KINDS
from edge.powerdown import PowerdownFlag
from edge.readiness import WATCH_KINDS
from edge.readiness import resume as resume_meetings
from edge.replay import Replayer
from edge.runtime_learner import Learning, learned_counts, learned_runtimes, observe
from edge.runtime_store import load_models, save_models, store_path
from edge.room import Effects, Inputs, RoomState, Rules, step
from edge.room_view import resume, snapshot
from edge.ups import UpsCommandError, UpsReader
from protocol.config import Config, load_config
from protocol.messages import EDGE_COMMAND_MAX_AGE_S, EdgeCommandKind, EventKind, to_dict

logger = logging.getLogger(__name__)

STATE_REFRESH_S = 30.0
# At start, wait at most this long for Home Assistant's old configs to be cleared (the broker
# may be away: the room must not wait for it).
DISCOVERY_CLEAR_WAIT_S = 5.0
SELFTEST_COMMAND = "test.battery.start.quick"
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
RESTARTS_LOOKED_AT = 50   # edge_started events read back to find the boot an outage began in
# A UPS's command list changes only with its driver: ask upsd at start and then rarely (sooner
# while a UPS has not answered).
COMMANDS_REFRESH_S, COMMANDS_RETRY_S = 300.0, 30.0


class StartError(RuntimeError):
    """The daemon cannot start; the message says why."""


class Edge:
    """One room: readers, journal, indicator and bus around the pure core."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.rules = Rules(policy=config.policy, site_id=config.site.id, place=config.site.name,
                           lang=config.site.language, expected_pcs=config.edge.pcs,
                           powerdown=bool(config.edge.powerdown_flag))
        self.readers = [UpsReader(u) for u in config.ups]
        self.powerdown = PowerdownFlag(config.edge.powerdown_flag)
        self.button = threading.Event()
        try:
            self.journal = Journal(config.edge.journal)
        except (OSError, sqlite3.Error) as exc:
            raise StartError(f"cannot open the journal {config.edge.journal}: {exc}") from None
        self.indicator = Indicator(config.gpio, on_button=self.button.set)
        self.bus = EdgeBus(config)
        self.replayer = Replayer(self.journal, self.bus.publish_event, self.record)
        self.bus.on_replay = self.replayer.take
        self.homeassistant: Discovery | None = None
        site = config.site
        self.calendar = RoomCalendar(site.calendar, site.calendar_refresh_s, site.timezone) \
            if site.calendar else None
        self.stopping = asyncio.Event()
        self.state: RoomState | None = None
        self._published: tuple[dict, float] | None = None
        self.selftest: dict[str, bool | None] = {}   # per UPS name: can it run SELFTEST_COMMAND
        self._commands_due = 0.0
        self.runtime_path = store_path(config.edge.journal)
        self.learning = Learning()
        self._runtime_mtime: int | None = -1   # the file's mtime as last read or written
        self.load_runtime()

    def _lost_in_this_boot(self, lost_seq: int) -> bool:
        """Whether the edge that journaled the outage's power_lost (a reading on battery) ran in
        this boot: the last edge_started before it names this boot's id."""
        boot = boot_id()
        if boot is None:
            return False
        for started in self.journal.latest((EventKind.EDGE_STARTED,), RESTARTS_LOOKED_AT):
            if started.seq < lost_seq:
                return started.detail.get("boot") == boot
        return False

    def record(self, kind: str, detail: dict, now: float) -> None:
        """Journal first (it survives power loss), then publish."""
        kind = getattr(kind, "value", kind)  # an EventKind from the core: its wire name
        event = self.journal.append(self.config.site.id, now, kind, detail)
        logger.info("%s %s", kind, detail or "")
        self.bus.publish_event(event)

    async def refresh_commands(self) -> None:
        """Every few minutes: which UPS can run the self-test (for the page's button)."""
        if time.monotonic() < self._commands_due:
            return
        found = await asyncio.gather(*(r.commands() for r in self.readers))
        for ups, commands in zip(self.config.ups, found):
            if commands is not None or ups.name not in self.selftest:
                self.selftest[ups.name] = None if commands is None else SELFTEST_COMMAND in commands
        wait = COMMANDS_RETRY_S if None in found else COMMANDS_REFRESH_S
        self._commands_due = time.monotonic() + wait

    def load_runtime(self) -> None:
        """(Re)read the learned runtimes: at start, and when `siaga edge --forget-runtime`
        rewrote the file under us (one stat per tick). A file that cannot be used: start fresh,
        said once."""
        try:
            mtime: int | None = self.runtime_path.stat().st_mtime_ns
        except OSError:
            mtime = None
        if mtime == self._runtime_mtime:
            return
        starting = self._runtime_mtime == -1
        self._runtime_mtime = mtime
        if mtime is None:  # removed under us: what we hold is written again with the next change
            if starting:
                logger.info("%s: no learned runtimes yet; each UPS is measured from its next cut",
                            self.runtime_path)
            return
        models, problem = load_models(self.runtime_path)
        if problem:
            logger.warning("%s", problem)
        elif not starting:
            logger.info("%s changed on disk: learned runtimes reloaded", self.runtime_path)
        self.learning = replace(self.learning, models=models)

    def learn(self, readings: tuple, now: float, mono: float) -> tuple[dict[str, float], list]:
        """Learn from this tick's readings and save what was learned; (the learned runtimes for
        the room core, the runtime_learned events to journal after the core's own)."""
        self.load_runtime()
        self.learning, out = observe(self.learning, readings, mono, now)
        for note in out.notes:
            logger.info("%s", note)
        if out.changed:
            try:
                save_models(self.runtime_path, self.learning.models)
                self._runtime_mtime = self.runtime_path.stat().st_mtime_ns
            except OSError as exc:  # the room goes on; the models stay in memory
                logger.error("cannot save the learned runtimes to %s: %s", self.runtime_path, exc)
        return learned_runtimes(self.learning, readings), out.events

    async def tick(self) -> None:
        """Poll every UPS, decide, act."""
        # Beside the polls, not before them: a slow answer never delays a reading.
        readings, _ = await asyncio.gather(
            asyncio.gather(*(r.read(wall()) for r in self.readers)), self.refresh_commands())
        assert self.state is not None   # run() resumes it before the first tick
        mono = time.monotonic()
        learned, learned_events = self.learn(tuple(readings), wall(), mono)
        pcs, acks, commands = self.bus.drain()
        self.journal.flush()  # events held while the disk was full or read-only, if any
        pressed = self.button.is_set()
        if pressed:  # clear only what we counted: a press after is_set() waits for the next tick
            self.button.clear()
        cal = self.calendar
        inputs = Inputs(now=wall(), ups=tuple(readings), pcs=pcs, acks=acks, commands=commands,
                        button=pressed, mono=mono, learned=learned,
                        learned_from=learned_counts(self.learning),
                        bookings=cal.bookings() if cal else (),
                        calendar_failing=cal.failing() if cal else None,
                        calendar_read=cal.read if cal else True)
        self.state, effects = step(self.state, inputs, self.rules)
        for kind, detail in [*effects.events, *learned_events]:  # power_restored, then learned
            if kind == EventKind.COMMAND and detail.get("ok") is False:
                logger.warning("ignored an edge command (%s by %s, id %s): sent %d s ago by this "
                               "Pi's clock, more than %d s: held by a broker while the room was "
                               "cut off?", detail["kind"], detail["by"] or "?", detail["id"],
                               detail["age_s"], EDGE_COMMAND_MAX_AGE_S)
            self.record(kind, detail, inputs.now)
        for pc, command in effects.send:
            self.bus.send(pc, command)
        self.indicator.show(effects.led, effects.pattern, effects.buzzer)
        self.powerdown.hold(effects.powerdown)
        for action in effects.actions:
            await self.act(action.kind, inputs.now)
        self.publish(inputs, effects)

    def publish(self, inputs: Inputs, effects: Effects) -> None:
        """The snapshot on every change (ts and last_seen aside) and at least every 30 s."""
        assert self.state is not None   # tick() has just stepped it
        snap = snapshot(self.state, inputs, effects, self.rules, self.selftest)
        key = to_dict(replace(snap, ts=0, pcs=[replace(p, last_seen=None) for p in snap.pcs]))
        # On the monotonic clock: a wall clock stepped back an hour must not stop the refresh.
        due = (self._published is None or inputs.clock - self._published[1] >= STATE_REFRESH_S
               or key != self._published[0])
        if due or self.bus.reconnected.is_set():
            self.bus.reconnected.clear()
            self.bus.publish_state(replace(snap, seq=self.journal.last_seq()))
            self._published = (key, inputs.clock)

    async def act(self, kind: str, now: float) -> None:
        """Edge commands that need I/O: the LED test and the UPS self-test."""
        if kind == EdgeCommandKind.TEST_INDICATOR:
            self.indicator.test_pattern()
            return
        for reader, ups in zip(self.readers, self.config.ups):
            try:
                answer = await reader.instant_command(SELFTEST_COMMAND)
                self.record(EventKind.UPS_SELFTEST, {"ups": ups.name, "ok": True, "detail": answer}, now)
            except UpsCommandError as exc:
                self.record(EventKind.UPS_SELFTEST, {"ups": ups.name, "ok": False, "detail": str(exc)}, now)

    def calendar_said(self) -> bool:
        """The journal's last word on the calendar is ``calendar_unreadable``: a restart neither
        says it again nor forgets to say when it is read again."""
        if self.calendar is None:
            return False
        last = self.journal.latest((EventKind.CALENDAR_UNREADABLE.value,
                                    EventKind.CALENDAR_READABLE.value), 1)
        return bool(last) and last[0].kind == EventKind.CALENDAR_UNREADABLE.value

    async def run(self) -> None:
        """Until SIGTERM/SIGINT: tick every poll_interval_s, ping the watchdog while alive."""
        now = wall()
        open_outage = self.journal.since_last("power_lost", "power_restored")
        self.state = resume(open_outage, now, self.rules, time.monotonic(),
                            self.journal.latest(ACTIVITY_KINDS))
        if self.state.outage is not None and self._lost_in_this_boot(open_outage[0].seq):
            # Only the edge restarted (an update, a crash): the Pi ran through the cut, the UPS
            # was read on battery in this boot. A new boot resumes it as unseen (stages.Outage).
            self.state = replace(self.state, outage=replace(self.state.outage, seen_on_battery=True))
        spoken = resume_meetings(self.journal.latest(WATCH_KINDS, 200))   # each meeting once
        self.state = replace(self.state, meetings=spoken, calendar_said=self.calendar_said())
        if self.calendar is not None:   # its own thread: a slow calendar server never delays a poll
            self.calendar.start()
        self.homeassistant = start_discovery(self.config, tuple(self.journal.sites()))
        if self.config.homeassistant.discovery:   # old configs go before the state changes shape
            await asyncio.to_thread(self.homeassistant.cleared.wait, DISCOVERY_CLEAR_WAIT_S)
        self.bus.start()
        self.record("edge_started", {"resumed_outage": self.state.outage is not None,
                                     "clock_synced": clock_synced(), "boot": boot_id()}, now)
        sdnotify.notify("READY=1")
        interval = self.config.edge.poll_interval_s
        while not self.stopping.is_set():
            started = time.monotonic()
            await self.tick()
            sdnotify.notify("WATCHDOG=1")
            await self._pause(started + interval)

    async def _pause(self, until: float) -> None:
        """Wait for the next poll or a stop; ping the watchdog as often as systemd asks meanwhile
        (poll_interval_s may be longer than WatchdogSec)."""
        ping_every = sdnotify.watchdog_interval()
        while not self.stopping.is_set() and (left := until - time.monotonic()) > 0:
            try:
                await asyncio.wait_for(self.stopping.wait(), min(left, ping_every or left))
            except asyncio.TimeoutError:
                if ping_every:
                    sdnotify.notify("WATCHDOG=1")

    def close(self) -> None:
        """Say offline, release the pins, close the journal."""
        sdnotify.notify("STOPPING=1")
        self.replayer.stop()
        if self.calendar is not None:
            self.calendar.stop()
        if self.homeassistant is not None:
            self.homeassistant.stop()
        self.bus.stop()
        for reader in self.readers:
            reader.close()
        self.indicator.close()
        self.journal.close()


class _Timex(ctypes.Structure):
    """The head of Linux's struct timex (the kernel's NTP state); the rest is padding."""

    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                ("rest", ctypes.c_char * 256)]


TIME_ERROR = 5      # adjtimex's answer when the clock is not synchronised
STA_UNSYNC = 0x0040


def boot_id() -> str | None:
    """This boot's id (Linux's random boot_id, new at each boot); None where there is none."""
    try:
        return BOOT_ID.read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def clock_synced() -> bool | None:
    """Whether the kernel says the wall clock is NTP-synchronised; None when it cannot tell.

    The same test systemd's ``timedatectl show -p NTPSynchronized`` makes: adjtimex(2) with
    no changes (modes 0, allowed without privileges) answers TIME_ERROR or sets STA_UNSYNC
    until an NTP client (systemd-timesyncd, chrony) has disciplined the clock.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        timex = _Timex()
        state = libc.adjtimex(ctypes.byref(timex))
    except (OSError, AttributeError) as exc:
        logger.warning("cannot tell whether the clock is synchronised: %s", exc)
        return None
    if state < 0:
        logger.warning("cannot tell whether the clock is synchronised: adjtimex errno %d",
                       ctypes.get_errno())
        return None
    return state != TIME_ERROR and not timex.status & STA_UNSYNC


async def _main(config: Config) -> int:
    try:
        edge = Edge(config)
    except (IndicatorError, StartError) as exc:
        print(f"siaga edge: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:  # e.g. mqtt.tls without usable CA certificates
        print(f"siaga edge: cannot start: {exc}", file=sys.stderr)
        return 1
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, edge.stopping.set)
    try:
        await edge.run()
    finally:
        edge.close()
    return 0


def run(path: str) -> int:
    """Entry point of `siaga edge -c FILE`."""
    config = load_config(path)
    return asyncio.run(_main(config))
