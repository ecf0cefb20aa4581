"""The room core: what happens on power loss, in one pure module.

Given what the UPSes and PCs report, the time, and the previous room state, ``step`` decides the
room's state, what the LED and buzzer do, which commands go to which PC and which events enter
the journal. No I/O, no clock, no threads: the daemon passes the time in and carries the effects
out.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Led(str, Enum):
    """The LED's colour."""

    OFF = "off"
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class Pattern(str, Enum):
    """How the LED shows its colour."""

    OFF = "off"
    SOLID = "solid"
    BLINK = "blink"
    BLINK_FAST = "fast_blink"


class Buzz(str, Enum):
    """What the buzzer does (see docs/indicator.md for the timings)."""

    OFF = "off"
    OUTAGE = "outage"        # a short burst, then a chirp each minute
    WRAPUP = "wrapup"        # a beep every 10 s
    SHUTDOWN = "shutdown"    # fast beeps
    RESTORED = "restored"    # one long beep, once


UNREADABLE_REASONS = ("refused", "timeout", "unknown_ups", "driver_not_connected", "data_stale",
                      "starting", "access_denied", "protocol_error")


@dataclass(frozen=True)
class UpsReading:
    """One poll of one UPS. ``error`` non-empty means it could not be read: never "on battery"."""

    name: str
    ts: float
    powers_pc: bool = True
    error: str = ""            # "" or one of UNREADABLE_REASONS
    error_detail: str = ""     # a sentence for people: 'connection refused by 127.0.0.1:3493'
    status: str = ""           # ups.status as upsd said it, e.g. "OB DISCHRG"
    charge_pct: float | None = None
    runtime_s: float | None = None   # None when missing or not believable (65535, negative)
    load_pct: float | None = None
    input_voltage: float | None = None
    battery_date: str = ""
    test_result: str = ""

    @property
    def reachable(self) -> bool:
        """True when the reading holds real values."""
        return not self.error

    @property
    def flags(self) -> frozenset[str]:
        """The words of ups.status."""
        return frozenset(self.status.split())

    @property
    def on_battery(self) -> bool:
        """OB: the UPS runs from its battery."""
        return "OB" in self.flags

    @property
    def low_battery(self) -> bool:
        """LB: the UPS says its battery is low."""
        return "LB" in self.flags

    @property
    def forced_shutdown(self) -> bool:
        """FSD: upsmon's primary ordered a shutdown."""
        return "FSD" in self.flags

    @property
    def self_test(self) -> bool:
        """CAL or a test in progress: OB then is a test, not an outage."""
        return "CAL" in self.flags or "progress" in self.test_result.lower()

    @property
    def replace_battery(self) -> bool:
        """RB: the battery needs replacing."""
        return "RB" in self.flags

    @property
    def overload(self) -> bool:
        """OVER: the load is above what the UPS can carry."""
        return "OVER" in self.flags
