"""What the room's LED and buzzer show for each room state: the one table of room looks.

The Pi's core (edge/room.py) drives the indicator from it, the dashboard draws each room's dot
from it and docs/indicator.md is its legend (a test holds all three to it), so the LED drawn on
the page is the LED on the wall. Shared like protocol/messages.py: it imports nothing of the Pi.
"""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple

from protocol.messages import Room


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


class Look(NamedTuple):
    """One room look: LED colour, its pattern, the buzzer."""

    led: Led
    pattern: Pattern
    buzz: Buzz


# Every PC told to shut down is off, the power still out (the room stays `shutdown`, the page
# says `pc_off`): nothing left to hurry, so no fast blink and no beeps.
PC_OFF = "pc_off"
DARK = Look(Led.OFF, Pattern.OFF, Buzz.OFF)   # the Pi is off or Siaga is not running

LOOKS: dict[str, Look] = {
    Room.READY.value: Look(Led.GREEN, Pattern.SOLID, Buzz.OFF),
    Room.ATTENTION.value: Look(Led.AMBER, Pattern.SOLID, Buzz.OFF),
    Room.ON_BATTERY.value: Look(Led.AMBER, Pattern.BLINK, Buzz.OUTAGE),
    Room.WRAPUP.value: Look(Led.RED, Pattern.BLINK, Buzz.WRAPUP),
    Room.SHUTDOWN.value: Look(Led.RED, Pattern.BLINK_FAST, Buzz.SHUTDOWN),
    PC_OFF: Look(Led.RED, Pattern.BLINK, Buzz.OFF),
    Room.FAULT.value: Look(Led.RED, Pattern.SOLID, Buzz.OFF),
}


def look(room: str) -> Look:
    """The look of ``room`` (a room state or ``pc_off``); dark for a word it does not know."""
    return LOOKS.get(str(getattr(room, "value", room)), DARK)

# A one-LED room (gpio.led_kind "single") cannot show a colour: each look gets its own rhythm,
# (on_s, off_s), off_s 0 = steady on. edge/indicator.py drives it, the SOP words it
# (dashboard/report/sop.py) and docs/indicator.md is its legend.
SINGLE_TIMES: dict[tuple[Led, Pattern], tuple[float, float]] = {
    (Led.GREEN, Pattern.SOLID): (1.0, 0.0),    # ready: steady on
    (Led.AMBER, Pattern.SOLID): (0.2, 1.8),    # attention: a short flash every 2 s
    (Led.AMBER, Pattern.BLINK): (0.5, 0.5),    # on battery: 1 Hz
    (Led.RED, Pattern.BLINK): (0.25, 0.25),    # wrap-up (and PC off): 2 Hz
    (Led.RED, Pattern.BLINK_FAST): (0.1, 0.1),  # shutdown: 5 Hz
    (Led.RED, Pattern.SOLID): (1.8, 0.2),      # fault: on, dark for a moment every 2 s
}
