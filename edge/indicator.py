"""The room's LED, buzzer and silence button (gpiozero), built with an explicit pin factory.

``show(led, pattern, buzzer)`` is what the core decided; calling it again with the same values
changes nothing (a blink is never restarted). Blinking and beeping run in gpiozero's own
background threads (``blink``, ``beep``, ``source``). docs/indicator.md is the legend for staff.

LED kinds (``gpio.led_kind``):
- ``rgb``: one RGB LED on led_pins R, G, B; amber is red with a little green (PWM), or red+green
  when the pins cannot do PWM.
- ``traffic``: three LEDs, red, amber, green, in led_pins order; the one of the colour lights.
- ``single``: one LED; the state is told by how it blinks (protocol/looks.py SINGLE_TIMES), not
  by colour.
"""

from __future__ import annotations

import logging
import threading
import warnings
from importlib.metadata import entry_points
from itertools import chain, cycle, repeat
from typing import Any, Callable, Iterator

from gpiozero import LED, RGBLED, Button, Buzzer, Device, TrafficLights
from gpiozero.exc import GPIOZeroError, PinPWMUnsupported
from gpiozero.pins import Factory
from gpiozero.pins.mock import MockFactory, MockPWMPin

from protocol.config import GpioConfig
from protocol.looks import SINGLE_TIMES, Buzz, Led, Pattern

logger = logging.getLogger(__name__)

Timing = tuple[float, float] | None  # (on_s, off_s); off_s == 0 is steady on; None is dark
Colour = float | tuple[float, float, float]  # a gpiozero value: one LED, or (red, amber/green, ...)

# rgb and traffic: the colour says the state, the pattern how urgent it is.
PATTERN_TIMES: dict[Pattern, Timing] = {
    Pattern.OFF: None, Pattern.SOLID: (1.0, 0.0),
    Pattern.BLINK: (0.5, 0.5),          # ~1 Hz
    Pattern.BLINK_FAST: (0.125, 0.125),  # ~4 Hz
}
BUZZ_TICK_S = 0.1
# OUTAGE: three short beeps, then one chirp a minute (a gpiozero ``source`` of 0/1 per tick).
OUTAGE_BURST = ((1, 0.2), (0, 0.2)) * 3
OUTAGE_REPEAT = ((0, 59.9), (1, 0.1))
# The others fit Buzzer.beep(on_time, off_time, n).
BEEPS: dict[Buzz, tuple[float, float, int | None]] = {
    Buzz.WRAPUP: (0.2, 9.8, None),     # one beep every 10 s
    Buzz.SHUTDOWN: (0.2, 0.3, None),   # fast beeps
    Buzz.RESTORED: (1.5, 0.1, 1),      # one long beep, once
}
TEST_STEP_S = 0.25
TEST_SEQUENCE = (Led.GREEN,) * 3 + (Led.OFF,) + (Led.AMBER,) * 3 + (Led.OFF,) + (Led.RED,) * 3 + (Led.OFF,)
TEST_PATTERN_S = TEST_STEP_S * len(TEST_SEQUENCE)  # 3 s
BUTTON_BOUNCE_S = 0.05


class IndicatorError(GPIOZeroError, RuntimeError):
    """The LED, buzzer or button cannot be set up; the message says which setting to change."""


def ticks(segments: Iterator[tuple[int, float]], tick: float = BUZZ_TICK_S) -> Iterator[int]:
    """(value, seconds) segments as one value per ``tick``, for a gpiozero ``source``."""
    for value, seconds in segments:
        yield from repeat(value, max(1, round(seconds / tick)))


def outage_values() -> Iterator[int]:
    """The OUTAGE buzzer: the burst, then a chirp each minute, forever."""
    return ticks(chain(OUTAGE_BURST, cycle(OUTAGE_REPEAT)))


def load_pin_factory(name: str) -> tuple[Factory, bool]:
    """The pin factory for ``gpio.pin_factory``, and whether we made it (and must close it)."""
    if name == "mock":
        if isinstance(Device.pin_factory, MockFactory):
            return Device.pin_factory, False  # the tests' (or the demo's) own mock pins
        return MockFactory(pin_class=MockPWMPin), True
    with warnings.catch_warnings(record=True) as fallbacks:
        warnings.simplefilter("always")
        try:
            if not name:
                Device.ensure_pin_factory()
                return Device.pin_factory, False
            return _named_factory(name), True
        except Exception as exc:  # noqa: BLE001 - any import/hardware error means "no GPIO"
            tried = "; ".join(str(w.message) for w in fallbacks) or f"{type(exc).__name__}: {exc}"
            raise IndicatorError(_no_factory_message(name, tried)) from None


def _named_factory(name: str) -> Factory:
    for ep in entry_points(group="gpiozero_pin_factories"):
        if ep.name == name:
            return ep.load()()
    raise LookupError(f"gpiozero has no pin factory {name!r}")


def _no_factory_message(name: str, tried: str) -> str:
    return (f'gpio.pin_factory = "{name}": no GPIO pin factory could be loaded ({tried}). On a '
            "Raspberry Pi install python3-lgpio (or `pip install lgpio`) and run as a user in "
            'the gpio group; on a machine without GPIO set gpio.pin_factory = "mock".')


class _Light:
    """The LED hardware of one ``led_kind``: solid colours, blinks, a test sequence."""

    def __init__(self, kind: str, pins: tuple[int, ...], factory: Factory) -> None:
        need = 1 if kind == "single" else 3
        if len(pins) != need:
            raise IndicatorError(f'gpio.led_pins: led_kind "{kind}" needs {need} pin(s), '
                                 f"got {len(pins)}")
        self.kind = kind
        self.colours: dict[Led, Colour]
        if kind == "rgb":
            self.device, pwm = _rgb(pins, factory)
            amber = (1, 0.25, 0) if pwm else (1, 1, 0)
            self.colours = {Led.RED: (1, 0, 0), Led.AMBER: amber, Led.GREEN: (0, 1, 0)}
        elif kind == "traffic":
            self.device = TrafficLights(*pins, pin_factory=factory)
            self.colours = {Led.RED: (1, 0, 0), Led.AMBER: (0, 1, 0), Led.GREEN: (0, 0, 1)}
        else:
            self.device = LED(pins[0], pin_factory=factory)
            self.colours = {Led.RED: 1, Led.AMBER: 1, Led.GREEN: 1}
        self.dark = (0, 0, 0) if kind != "single" else 0

    def timing(self, led: Led, pattern: Pattern) -> Timing:
        """How long on and off for this colour and pattern; None = dark."""
        if led not in self.colours or pattern == Pattern.OFF:
            return None
        if self.kind == "single":
            return SINGLE_TIMES.get((led, pattern), PATTERN_TIMES.get(pattern))
        return PATTERN_TIMES.get(pattern)

    def show(self, led: Led, pattern: Pattern) -> None:
        """Light ``led`` with ``pattern`` (stops whatever ran before)."""
        self.device.source = None
        timing = self.timing(led, pattern)
        if timing is None:
            self.device.off()
        elif timing[1] == 0:
            self.device.value = self.colours[led]
        elif self.kind == "rgb":
            self.device.blink(*timing, on_color=self.colours[led])
        elif self.kind == "traffic":
            self.device.off()
            name = {Led.RED: "red", Led.AMBER: "amber", Led.GREEN: "green"}[led]
            getattr(self.device, name).blink(*timing)
        else:
            self.device.blink(*timing)

    def test_sequence(self) -> None:
        """Green, amber, red with a dark step after each, in gpiozero's source thread."""
        self.device.off()
        self.device.source_delay = TEST_STEP_S
        self.device.source = [self.colours.get(led, self.dark) for led in TEST_SEQUENCE]


def _rgb(pins: tuple[int, ...], factory: Factory) -> tuple[RGBLED, bool]:
    """An RGB LED with PWM (for a true amber), or without when the pins cannot do PWM."""
    try:
        return RGBLED(*pins, pwm=True, pin_factory=factory), True
    except PinPWMUnsupported:
        logger.info("GPIO pins without PWM: amber is shown as red+green")
        return RGBLED(*pins, pwm=False, pin_factory=factory), False


class Indicator:
    """LED, buzzer and silence button of one room; ``show`` is idempotent."""

    def __init__(self, gpio: GpioConfig, on_button: Callable[[], None]) -> None:
        self.gpio = gpio
        self._on_button = on_button
        self._factory, self._own_factory = load_pin_factory(gpio.pin_factory)
        self._lock = threading.RLock()
        self._current = (Led.OFF, Pattern.OFF, Buzz.OFF)
        self._restore_timer: threading.Timer | None = None
        self._devices: list[Any] = []
        try:
            self._light = self._add(lambda: _Light(gpio.led_kind, gpio.led_pins, self._factory))
            self._buzzer = self._add(lambda: Buzzer(gpio.buzzer_pin, pin_factory=self._factory)
                                     ) if gpio.buzzer_pin else None
            self._button = self._add(lambda: Button(
                gpio.button_pin, pull_up=True, bounce_time=BUTTON_BOUNCE_S,
                pin_factory=self._factory)) if gpio.button_pin else None
        except GPIOZeroError as exc:
            self.close()
            if isinstance(exc, IndicatorError):
                raise
            raise IndicatorError(f"gpio: cannot set up {self.describe()}: {exc}") from None
        if self._button is not None:
            self._button.when_pressed = self._pressed

    def _add(self, build: Callable[[], Any]) -> Any:
        device = build()
        self._devices.append(device.device if isinstance(device, _Light) else device)
        return device

    def describe(self) -> str:
        """'rgb on 17,27,22, buzzer 23, button 24 (mock)' for logs and `siaga check`."""
        g = self.gpio
        text = f"{g.led_kind} on {','.join(map(str, g.led_pins))}"
        text += f", buzzer {g.buzzer_pin}" if g.buzzer_pin else ", no buzzer"
        text += f", button {g.button_pin}" if g.button_pin else ", no button"
        return f"{text} ({type(self._factory).__name__.removesuffix('Factory').lower()})"

    def show(self, led: Led, pattern: Pattern, buzzer: Buzz) -> None:
        """Show what the core decided; the same values again change nothing."""
        with self._lock:
            old_led, old_pattern, old_buzzer = self._current
            self._current = (led, pattern, buzzer)
            if self._restore_timer is not None:
                return  # the test pattern runs; its end shows the new values
            if (led, pattern) != (old_led, old_pattern):
                self._light.show(led, pattern)
            if buzzer != old_buzzer:
                self._sound(buzzer)

    def current(self) -> tuple[Led, Pattern, Buzz]:
        """What ``show`` was last told (also while the test pattern runs)."""
        return self._current

    def _sound(self, buzz: Buzz) -> None:
        if self._buzzer is None:
            return
        self._buzzer.source = None
        self._buzzer.off()
        if buzz == Buzz.OUTAGE:
            self._buzzer.source_delay = BUZZ_TICK_S
            self._buzzer.source = outage_values()
        elif buzz in BEEPS:
            self._buzzer.beep(*BEEPS[buzz])
        elif buzz != Buzz.OFF:
            logger.warning("unknown buzzer pattern %r: buzzer off", buzz)

    def test_pattern(self) -> None:
        """Green, amber, red and one beep over ~3 s, then back to the current show."""
        with self._lock:
            if self._restore_timer is not None:
                return  # already running
            self._light.test_sequence()
            if self._buzzer is not None:
                self._buzzer.source = None
                self._buzzer.beep(0.3, 0.1, 1)
            # gpiozero has no "when done" for a source: a timer puts the show back.
            self._restore_timer = threading.Timer(TEST_PATTERN_S, self._restore)
            self._restore_timer.daemon = True
            self._restore_timer.start()

    def _restore(self) -> None:
        with self._lock:
            if self._restore_timer is None:
                return  # closed meanwhile
            self._restore_timer = None
            led, pattern, buzzer = self._current
            self._light.show(led, pattern)
            # A long "restored" beep is not worth hearing twice.
            self._sound(Buzz.OFF if buzzer == Buzz.RESTORED else buzzer)

    def _pressed(self) -> None:
        """gpiozero's button thread: tell the daemon; an error is logged, never raised."""
        try:
            self._on_button()
        except Exception:  # noqa: BLE001 - the button thread must survive the callback
            logger.exception("silence button handler failed")

    def close(self) -> None:
        """Stop blinking and beeping, release the pins."""
        with self._lock:
            if self._restore_timer is not None:
                self._restore_timer.cancel()
                self._restore_timer = None
            for device in reversed(self._devices):
                device.close()
            self._devices = []
            if self._own_factory:
                self._factory.close()
                self._own_factory = False
