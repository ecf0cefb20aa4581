"""The indicator on gpiozero's mock pins: what a person in the room would see and hear."""

import dataclasses
import threading
import time

import pytest
from gpiozero import Device

from edge.indicator import (OUTAGE_BURST, OUTAGE_REPEAT, TEST_PATTERN_S, Indicator, IndicatorError,
                            outage_values)
from edge.room import Buzz, Led, Pattern
from protocol.config import GpioConfig

RGB = GpioConfig(pin_factory="mock", led_kind="rgb", led_pins=(17, 27, 22), buzzer_pin=23,
                 button_pin=24)
TRAFFIC = dataclasses.replace(RGB, led_kind="traffic", led_pins=(5, 6, 13))
SINGLE = dataclasses.replace(RGB, led_kind="single", led_pins=(17,))


@pytest.fixture
def make(mock_factory):
    made = []

    def build(gpio=RGB, on_button=lambda: None):
        made.append(Indicator(gpio, on_button))
        return made[-1]

    yield build
    for ind in made:
        ind.close()


def states(factory, pins) -> tuple:
    return tuple(round(float(factory.pin(p).state), 2) for p in pins)


def changes(factory, pin: int, seconds: float) -> list:
    """The pin's value now and every change in the next ``seconds``, from gpiozero's own record of
    the mock pin ((seconds since the previous change, value)): a busy machine that wakes a poller
    late would miss a 5 Hz blink's edges, the record does not."""
    mock = factory.pin(pin)
    mock.clear_states()
    time.sleep(seconds)
    return list(mock.states)


def samples(factory, pin: int, seconds: float) -> list[float]:
    """The pin's value now and after each change in the next ``seconds``."""
    return [float(change.state) for change in changes(factory, pin, seconds)]


def edges(values: list[float]) -> int:
    return sum(1 for a, b in zip(values, values[1:]) if (a > 0) != (b > 0))


def beeps(values: list[float]) -> int:
    """How many times the buzzer started sounding."""
    return (values[0] > 0) + sum(1 for a, b in zip(values, values[1:]) if a == 0 and b > 0)


@pytest.mark.parametrize("gpio, pins, expected", [
    (RGB, (17, 27, 22), {Led.GREEN: (0, 1, 0), Led.AMBER: (1, 0.25, 0), Led.RED: (1, 0, 0),
                         Led.OFF: (0, 0, 0)}),
    (TRAFFIC, (5, 6, 13), {Led.GREEN: (0, 0, 1), Led.AMBER: (0, 1, 0), Led.RED: (1, 0, 0),
                           Led.OFF: (0, 0, 0)}),
])
def test_each_kind_shows_each_colour(make, mock_factory, gpio, pins, expected):
    ind = make(gpio)
    for led, want in expected.items():
        ind.show(led, Pattern.SOLID, Buzz.OFF)
        assert states(mock_factory, pins) == want, led


def test_single_led_tells_states_apart_by_rhythm(make, mock_factory):
    ind = make(SINGLE)
    ind.show(Led.GREEN, Pattern.SOLID, Buzz.OFF)
    assert set(samples(mock_factory, 17, 0.3)) == {1.0}          # ready: steady on
    ind.show(Led.RED, Pattern.BLINK_FAST, Buzz.OFF)                # shutdown: 5 Hz
    fast = edges(samples(mock_factory, 17, 1.0))
    ind.show(Led.AMBER, Pattern.BLINK, Buzz.OFF)                   # on battery: 1 Hz
    slow = edges(samples(mock_factory, 17, 1.0))
    assert 7 <= fast <= 11 and 1 <= slow <= 3
    ind.show(Led.OFF, Pattern.OFF, Buzz.OFF)
    assert set(samples(mock_factory, 17, 0.1)) == {0.0}


@pytest.mark.parametrize("pattern, low, high", [(Pattern.BLINK, 2, 4), (Pattern.BLINK_FAST, 9, 14)])
def test_blink_toggles_the_pin_over_time(make, mock_factory, pattern, low, high):
    ind = make()
    ind.show(Led.RED, pattern, Buzz.OFF)
    red = samples(mock_factory, 17, 1.6)
    assert low <= edges(red) <= high
    assert set(states(mock_factory, (27, 22))) == {0}  # only red blinks


def test_show_again_does_not_restart_the_blink(make, mock_factory):
    ind = make()
    ind.show(Led.AMBER, Pattern.BLINK, Buzz.WRAPUP)
    # The daemon calls show every tick; a restart would keep the LED on (blink starts on).
    values = []
    for _ in range(40):
        ind.show(Led.AMBER, Pattern.BLINK, Buzz.WRAPUP)
        values.append(float(mock_factory.pin(17).state))
        time.sleep(0.05)
    assert 0.0 in values and 1.0 in values
    assert ind.current() == (Led.AMBER, Pattern.BLINK, Buzz.WRAPUP)


def test_traffic_blinks_only_its_colour(make, mock_factory):
    ind = make(TRAFFIC)
    ind.show(Led.AMBER, Pattern.BLINK_FAST, Buzz.OFF)
    assert edges(samples(mock_factory, 6, 1.0)) >= 5
    assert states(mock_factory, (5, 13)) == (0, 0)


def test_restored_beeps_once(make, mock_factory):
    ind = make()
    ind.show(Led.GREEN, Pattern.SOLID, Buzz.RESTORED)
    record = changes(mock_factory, 23, 2.2)
    buzz = [float(change.state) for change in record]
    assert buzz[0] == 1.0 and buzz[-1] == 0.0 and beeps(buzz) == 1
    on_for = record[buzz.index(0.0)].timestamp   # ~1.5 s: from the start of the record to silence
    assert 1.2 <= on_for <= 1.6
    ind.show(Led.GREEN, Pattern.SOLID, Buzz.RESTORED)  # the core repeats it: no second beep
    assert set(samples(mock_factory, 23, 0.3)) == {0.0}


@pytest.mark.parametrize("buzz, seconds, count", [
    (Buzz.OUTAGE, 2.0, {3}),       # three beeps, then silence until the minute's chirp
    (Buzz.SHUTDOWN, 1.4, {3}),     # 0.2 s on / 0.3 s off
    (Buzz.WRAPUP, 2.0, {1}),       # one beep, the next after 10 s
])
def test_buzzer_patterns(make, mock_factory, buzz, seconds, count):
    ind = make()
    ind.show(Led.RED, Pattern.BLINK, buzz)
    sound = samples(mock_factory, 23, seconds)
    assert sound[0] == 1.0 and beeps(sound) in count
    ind.show(Led.RED, Pattern.BLINK, Buzz.OFF)
    assert set(samples(mock_factory, 23, 0.3)) == {0.0}


def test_outage_chirps_each_minute():
    values = outage_values()
    burst = [next(values) for _ in range(12)]
    assert burst == [1, 1, 0, 0] * 3
    minute = [next(values) for _ in range(600)]
    assert sum(minute) == 1 and minute[-1] == 1
    assert [next(values) for _ in range(600)] == minute
    assert sum(s for _, s in OUTAGE_REPEAT) == 60.0
    assert len(OUTAGE_BURST) == 6


def test_button_press_calls_back(make, mock_factory):
    pressed = threading.Event()
    make(on_button=pressed.set)
    mock_factory.pin(24).drive_low()
    assert pressed.wait(2)
    mock_factory.pin(24).drive_high()


def test_button_callback_exception_is_logged(mock_factory, caplog):
    called = threading.Event()

    def broken():
        called.set()
        raise ValueError("boom")

    ind = Indicator(RGB, broken)
    try:
        mock_factory.pin(24).drive_low()
        assert called.wait(2)
        time.sleep(0.05)
        assert "silence button handler failed" in caplog.text
        ind.show(Led.GREEN, Pattern.SOLID, Buzz.OFF)  # still works
        assert states(mock_factory, (17, 27, 22)) == (0, 1, 0)
    finally:
        ind.close()


def test_test_pattern_cycles_then_restores_the_current_show(make, mock_factory):
    ind = make()
    ind.show(Led.AMBER, Pattern.SOLID, Buzz.OFF)
    ind.test_pattern()
    seen, buzzed = set(), False
    deadline = time.monotonic() + TEST_PATTERN_S - 0.2
    while time.monotonic() < deadline:
        seen.add(states(mock_factory, (17, 27, 22)))
        buzzed |= mock_factory.pin(23).state > 0
        time.sleep(0.02)
    assert {(0, 1, 0), (1, 0.25, 0), (1, 0, 0)} <= seen and buzzed
    assert ind.current() == (Led.AMBER, Pattern.SOLID, Buzz.OFF)
    time.sleep(0.4)
    assert states(mock_factory, (17, 27, 22)) == (1, 0.25, 0)
    # A show() during the test is kept for its end (the daemon's ticks go on meanwhile).
    ind.test_pattern()
    ind.show(Led.RED, Pattern.SOLID, Buzz.OFF)
    assert ind.current() == (Led.RED, Pattern.SOLID, Buzz.OFF)
    time.sleep(TEST_PATTERN_S + 0.3)
    assert states(mock_factory, (17, 27, 22)) == (1, 0, 0)


def test_no_buzzer_no_button(make, mock_factory):
    ind = make(dataclasses.replace(SINGLE, buzzer_pin=0, button_pin=0))
    ind.show(Led.RED, Pattern.BLINK, Buzz.SHUTDOWN)
    ind.test_pattern()
    assert "no buzzer, no button" in ind.describe()


def test_mock_without_test_factory_makes_its_own():
    saved = Device.pin_factory
    Device.pin_factory = None
    try:
        ind = Indicator(RGB, lambda: None)
        ind.show(Led.GREEN, Pattern.SOLID, Buzz.OFF)
        assert ind.describe() == "rgb on 17,27,22, buzzer 23, button 24 (mock)"
        ind.close()
    finally:
        Device.pin_factory = saved


def test_no_factory_error_names_the_setting(monkeypatch):
    monkeypatch.setattr(Device, "pin_factory", None)
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "nosuch")  # gpiozero's default: nothing loads
    with pytest.raises(IndicatorError) as info:
        Indicator(dataclasses.replace(RGB, pin_factory=""), lambda: None)
    message = str(info.value)
    assert message.startswith('gpio.pin_factory = "":') and 'gpio.pin_factory = "mock"' in message
    with pytest.raises(IndicatorError, match='gpio.pin_factory = "pigpio": .*pigpio'):
        Indicator(dataclasses.replace(RGB, pin_factory="pigpio"), lambda: None)


@pytest.mark.parametrize("gpio, match", [
    (dataclasses.replace(RGB, led_pins=(17,)), 'led_kind "rgb" needs 3 pin'),
    (dataclasses.replace(RGB, buzzer_pin=17), "cannot set up"),
])
def test_bad_pins_are_a_clear_error(mock_factory, gpio, match):
    with pytest.raises(IndicatorError, match=match):
        Indicator(gpio, lambda: None)
    ind = Indicator(RGB, lambda: None)  # nothing was left reserved
    ind.close()
