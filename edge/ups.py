"""The NUT reader: upsd (through aionut) -> one ``UpsReading`` per poll.

``parse_reading`` is pure: it turns the ``dict[str, str]`` of NUT variables into a reading and
throws away values that cannot be believed (runtime 0 or 65535, a charge of 250 %). ``UpsReader``
asks upsd and never raises: every way a UPS can be unreadable becomes ``UpsReading.error`` with
a reason code from ``UNREADABLE_REASONS`` and a sentence for people, never "on battery".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import re

from aionut import (AIONUTClient, NUTCommandError, NUTConnectionClosedError, NUTLoginError,
                    NUTProtocolError, NUTTimeoutError)

from edge.power import UpsReading, believable_runtime
from protocol.config import UpsConfig

logger = logging.getLogger(__name__)

# One poll's cost on loopback against the real upsd (bench/nut_poll.py, Debian 12, NUT 2.8.0,
# aionut 4.3.4, 2 cores, 200 polls): persistent=True p50 44.0 ms / p95 44.2 ms,
# persistent=False p50 0.73 ms / p95 0.91 ms, no failures in either. upsd writes LIST VAR line
# by line; on a reused connection Nagle (upsd's side) waits for our delayed ACK (~40 ms). A
# fresh connection starts in Linux's quick-ACK mode, so one connection per poll is ~60x faster
# and as reliable (and never carries a half-read answer from a timed-out poll into the next).
DEFAULT_PERSISTENT = False

# upsd's "ERR <code>" -> our reason code.
NUT_ERRORS = {
    "UNKNOWN-UPS": "unknown_ups",
    "DRIVER-NOT-CONNECTED": "driver_not_connected",
    "DATA-STALE": "data_stale",
    "ACCESS-DENIED": "access_denied",
    "USERNAME-REQUIRED": "access_denied",
    "PASSWORD-REQUIRED": "access_denied",
    "INVALID-USERNAME": "access_denied",
    "INVALID-PASSWORD": "access_denied",
}

# What people read for each reason code (after 'UPS "meeting" at 127.0.0.1:3493: ').
REASON_TEXT = {
    "refused": "connection refused (is upsd running?)",
    "timeout": "no answer in time",
    "unknown_ups": "upsd does not know this UPS name (see ups.conf)",
    "driver_not_connected": "the UPS driver is not running (check the USB cable and the driver)",
    "data_stale": "the UPS driver stopped sending data (data stale)",
    "starting": "upsd is still waiting for its driver (WAIT)",
    "access_denied": "access denied (check ups.username, ups.password_file and upsd.users)",
    "protocol_error": "upsd gave an answer that is not NUT protocol",
}

_ERR_CODE = re.compile(r"ERR ([A-Z-]+)")

NOMINAL_MAX = 100_000   # W or VA: a room's UPS; beyond this the driver misread something
NUT_DATE_FORMATS = ("%Y/%m/%d", "%Y-%m-%d", "%m/%d/%y", "%m/%d/%Y")
BATTERY_YEARS = (1990, 2099)   # outside: a placeholder or a misread register, not a battery


class UpsCommandError(RuntimeError):
    """An instant command (e.g. the battery self-test) could not be run; the message says why."""


def parse_reading(name: str, variables: dict[str, str], now: float, powers_pc: bool) -> UpsReading:
    """Turn one ``LIST VAR`` answer into a reading; unbelievable values become None."""
    status = " ".join(variables.get("ups.status", "").split())
    if "WAIT" in status.split():
        return _unreadable(name, now, powers_pc, "starting", f'UPS "{name}"')
    if not status:
        return UpsReading(name, now, powers_pc, error="protocol_error",
                          error_detail=f'UPS "{name}": upsd sent no ups.status')
    return UpsReading(
        name=name, ts=now, powers_pc=powers_pc, status=status,
        charge_pct=_number(variables.get("battery.charge"), 0, 100),
        runtime_s=_runtime(variables.get("battery.runtime")),
        load_pct=_number(variables.get("ups.load"), 0, 1000),
        input_voltage=_number(variables.get("input.voltage"), 0, 1000),
        battery_date=_battery_date(variables),
        test_result=variables.get("ups.test.result", "").strip(),
        realpower_nominal=_number(variables.get("ups.realpower.nominal"), 1, NOMINAL_MAX),
        power_nominal=_number(variables.get("ups.power.nominal"), 1, NOMINAL_MAX),
    )


def _battery_date(variables: dict[str, str]) -> str:
    """battery.date, or battery.mfr.date when that is all there is, as "YYYY-MM-DD"; "" when
    neither is a believable date (CyberPower puts "CPS" there, some firmware "2624/00/02")."""
    for key in ("battery.date", "battery.mfr.date"):
        day = nut_date(variables.get(key))
        if day is not None:
            return day.isoformat()
    return ""


def nut_date(text: str | None) -> dt.date | None:
    """A date as UPS firmware writes it ("2022/03/01", "2022-03-01", APC's "03/01/22"), or None."""
    for pattern in NUT_DATE_FORMATS:
        try:
            day = dt.datetime.strptime((text or "").strip(), pattern).date()
        except ValueError:
            continue
        return day if BATTERY_YEARS[0] <= day.year <= BATTERY_YEARS[1] else None
    return None


def _number(text: str | None, low: float, high: float) -> float | None:
    """``text`` as a finite number in [low, high], else None."""
    try:
        value = float((text or "").strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and low <= value <= high else None


def _runtime(text: str | None) -> float | None:
    """battery.runtime in seconds, or None when missing or not believable: 0 or below (APC
    AP9584 says 0 with a full battery), 65535 or above (0xFFFF, 0xFFFFFFFF), over 24 h."""
    return believable_runtime(_number(text, -math.inf, math.inf))


def _unreadable(name: str, now: float, powers_pc: bool, error: str, where: str,
                reason: str = "") -> UpsReading:
    detail = f"{where}: {reason or REASON_TEXT[error]}"
    return UpsReading(name, now, powers_pc, error=error, error_detail=detail)


def classify(exc: BaseException) -> tuple[str, str]:
    """An exception from aionut or asyncio -> (reason code, sentence for people)."""
    if isinstance(exc, (NUTCommandError, NUTLoginError)):
        match = _ERR_CODE.search(str(exc))
        code = match.group(1) if match else ""
        error = "access_denied" if isinstance(exc, NUTLoginError) else NUT_ERRORS.get(code, "")
        if error:
            return error, REASON_TEXT[error]
        return "protocol_error", f"upsd answered ERR {code or '(no code)'}"
    if isinstance(exc, (NUTTimeoutError, TimeoutError)):
        return "timeout", REASON_TEXT["timeout"]
    cause = exc.__cause__ or exc
    if isinstance(cause, ConnectionRefusedError):
        return "refused", REASON_TEXT["refused"]
    if isinstance(cause, UnicodeError):
        return "protocol_error", "upsd sent bytes that are not ASCII (not NUT protocol)"
    if isinstance(cause, OSError):
        return "refused", f"cannot connect: {cause.strerror or cause}"
    if isinstance(exc, NUTConnectionClosedError):
        return "protocol_error", "upsd closed the connection"
    if isinstance(exc, NUTProtocolError):
        return "protocol_error", f"{REASON_TEXT['protocol_error']}: {_short(str(exc))}"
    return "protocol_error", f"{REASON_TEXT['protocol_error']} ({type(exc).__name__})"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."


class UpsReader:
    """Reads one UPS from upsd; ``read`` never raises."""

    def __init__(self, config: UpsConfig, timeout: float = 2.0,
                 persistent: bool = DEFAULT_PERSISTENT) -> None:
        self.config = config
        self.timeout = timeout
        self.persistent = persistent
        self._client: AIONUTClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def where(self) -> str:
        """'UPS "meeting" at 127.0.0.1:3493', the start of every sentence about this UPS."""
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        return f'UPS "{self.config.name}" at {host}:{self.config.port}'

    async def read(self, now: float) -> UpsReading:
        """Poll upsd once; an unreadable UPS is a reading with ``error`` set."""
        name, powers_pc = self.config.name, self.config.powers_pc
        try:
            async with asyncio.timeout(self.timeout):
                variables = await self._reading_client().list_vars(name)
        except asyncio.CancelledError:
            self.close()
            raise
        except Exception as exc:  # noqa: BLE001 - any failure is an unreadable UPS, never a crash
            self.close()
            error, reason = classify(exc)
            logger.debug("%s: %s (%r)", self.where, error, exc)
            return _unreadable(name, now, powers_pc, error, self.where, reason)
        if not self.persistent:
            self.close()
        reading = parse_reading(name, variables, now, powers_pc)
        if reading.error:
            return _unreadable(name, now, powers_pc, reading.error, self.where,
                               reading.error_detail.split(": ", 1)[-1])
        return reading

    def _reading_client(self) -> AIONUTClient:
        """The client for polls, made anew when none is open or the event loop changed."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            try:
                self.close()
            except RuntimeError:  # a persistent connection of an event loop that has ended
                self._client = self._loop = None
            # No login for reading: upsd serves LIST VAR to anyone its LISTEN lets in.
            self._client = AIONUTClient(self.config.host, self.config.port, timeout=self.timeout,
                                        persistent=self.persistent)
            self._loop = loop
        return self._client

    async def commands(self) -> frozenset[str] | None:
        """The instant commands upsd offers for this UPS (LIST CMD, no login); None if unknown."""
        client = AIONUTClient(self.config.host, self.config.port, timeout=self.timeout,
                              persistent=False)
        try:
            async with asyncio.timeout(self.timeout):
                return frozenset(await client.list_commands(self.config.name))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - unknown is an answer, never a crash
            logger.debug("%s: no command list: %r", self.where, exc)
            return None
        finally:
            _close_client(client)

    async def instant_command(self, command: str) -> str:
        """Run a NUT instant command (e.g. "test.battery.start.quick"); UpsCommandError on failure."""
        cfg = self.config
        if not cfg.username or not cfg.password:
            raise UpsCommandError(f'{self.where}: cannot run "{command}": set ups.username and '
                                  "ups.password_file in siaga.toml (a upsd.users user with "
                                  "instcmds)")
        client = AIONUTClient(cfg.host, cfg.port, username=cfg.username, password=cfg.password,
                              timeout=self.timeout, persistent=False)
        try:
            async with asyncio.timeout(self.timeout * 2):
                answer = await client.run_command(cfg.name, command)
        except Exception as exc:  # noqa: BLE001 - every failure becomes one sentence
            raise UpsCommandError(f'{self.where}: cannot run "{command}": '
                                  f"{_command_reason(exc)}") from None
        finally:
            _close_client(client)
        logger.info("%s: %s -> %s", self.where, command, answer)
        return answer

    def close(self) -> None:
        """Close the connection (a later ``read`` opens a new one).

        With ``persistent=True`` call it inside the event loop that read, before that loop ends.
        """
        if self._client is not None:
            _close_client(self._client)
            self._client = None
            self._loop = None


def _command_reason(exc: BaseException) -> str:
    """Why an instant command failed, for people."""
    match = _ERR_CODE.search(str(exc))
    code = match.group(1) if match else ""
    if code == "CMD-NOT-SUPPORTED":
        return "the UPS (or its driver) does not support this command"
    if code == "INVALID-ARGUMENT":
        return "upsd rejected the command as invalid"
    if code == "ACCESS-DENIED" or isinstance(exc, NUTLoginError):
        return ("access denied (the upsd.users user needs the right password and "
                "instcmds = ALL or this command)")
    return classify(exc)[1]


def _close_client(client: AIONUTClient) -> None:
    """Shut the client down and close its socket even when login failed half-way."""
    client.shutdown()
    # aionut only closes a connection it marked connected; a login answered with ERR leaves
    # the socket open, and an unclosed transport is a ResourceWarning: close it ourselves.
    writer = getattr(client, "_writer", None)
    if writer is not None:
        writer.close()
        client._writer = None  # noqa: SLF001
        client._reader = None  # noqa: SLF001


def reading_summary(reading: UpsReading) -> str:
    """'OL CHRG, charge 100 %, runtime 30 min': one reading for people (siaga check, logs)."""
    if reading.error:
        return reading.error_detail
    parts = [reading.status]
    if reading.charge_pct is not None:
        parts.append(f"charge {reading.charge_pct:g} %")
    if reading.runtime_s is not None:
        parts.append(f"runtime {reading.runtime_s / 60:.0f} min")
    return ", ".join(parts)


__all__ = ["UpsReader", "UpsCommandError", "parse_reading", "classify", "reading_summary",
           "DEFAULT_PERSISTENT"]
