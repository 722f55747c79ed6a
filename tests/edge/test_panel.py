"""The smiley panel on gpiozero's mock pins: press callbacks, LEDs, debouncing."""

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from edge.config import ButtonPins, PanelConfig
from edge.panel import SmileyPanel, mock_pin_factory
from protocol.messages import BUTTONS, Button

BOUNCE_MS = 30
BOUNCE_S = BOUNCE_MS / 1000

MakePanel = Callable[..., tuple[SmileyPanel, list[tuple[Button, float]]]]


@pytest.fixture
def make_panel() -> Iterator[MakePanel]:
    """make_panel(**config) -> (a panel on fresh mock pins, the presses it reported)."""
    panels: list[SmileyPanel] = []

    def make(**config: Any) -> tuple[SmileyPanel, list[tuple[Button, float]]]:
        presses: list[tuple[Button, float]] = []
        panel = SmileyPanel(
            PanelConfig(**{"bounce_ms": BOUNCE_MS, **config}),
            lambda button, at: presses.append((button, at)),
            pin_factory=mock_pin_factory(),
        )
        panels.append(panel)
        return panel, presses

    yield make
    for panel in panels:
        panel.close()


def press(panel: SmileyPanel, button: Button) -> None:
    """Press and release: the button shorts its pulled-up pin to ground."""
    pin = panel.button_pins()[button]
    pin.drive_low()
    pin.drive_high()


def test_a_press_calls_on_press_with_the_button(make_panel: MakePanel) -> None:
    panel, presses = make_panel()
    before = time.monotonic()

    press(panel, Button.UNHAPPY)

    assert [button for button, _ in presses] == [Button.UNHAPPY]
    assert before <= presses[0][1] <= time.monotonic()


def test_release_alone_is_not_a_press(make_panel: MakePanel) -> None:
    panel, presses = make_panel()
    pin = panel.button_pins()[Button.HAPPY]

    pin.drive_low()
    presses.clear()
    pin.drive_high()

    assert presses == []


def test_a_press_lights_only_that_buttons_led(make_panel: MakePanel) -> None:
    panel, _ = make_panel()

    press(panel, Button.HAPPY)

    lit = {button for button in BUTTONS if panel.key(button).led.value}
    assert lit == {Button.HAPPY}


def test_the_led_is_lit_before_the_press_is_handed_on() -> None:
    """The kiosk hands presses to its recorder, so the LED never waits for the outbox."""
    lit_when_handed_on: list[bool] = []

    def on_press(button: Button, _at: float) -> None:
        lit_when_handed_on.append(bool(panel.key(button).led.is_lit))

    panel = SmileyPanel(PanelConfig(), on_press, pin_factory=mock_pin_factory())
    try:
        press(panel, Button.HAPPY)
    finally:
        panel.close()

    assert lit_when_handed_on == [True]


def test_led_goes_out_after_thanks_s(make_panel: MakePanel) -> None:
    panel, _ = make_panel(thanks_s=0.05)

    press(panel, Button.VERY_HAPPY)
    deadline = time.monotonic() + 2
    while panel.key(Button.VERY_HAPPY).led.value and time.monotonic() < deadline:
        time.sleep(0.01)

    assert not panel.key(Button.VERY_HAPPY).led.value


def test_a_second_press_within_bounce_ms_is_ignored(make_panel: MakePanel) -> None:
    panel, presses = make_panel()

    press(panel, Button.HAPPY)
    press(panel, Button.HAPPY)

    assert [button for button, _ in presses] == [Button.HAPPY]


def test_a_second_press_after_bounce_ms_counts(make_panel: MakePanel) -> None:
    panel, presses = make_panel()

    press(panel, Button.HAPPY)
    time.sleep(BOUNCE_S * 1.5)
    press(panel, Button.HAPPY)

    assert [button for button, _ in presses] == [Button.HAPPY, Button.HAPPY]


def test_presses_on_different_buttons_are_not_debounced_together(make_panel: MakePanel) -> None:
    panel, presses = make_panel()

    for button in BUTTONS:
        press(panel, button)

    assert [button for button, _ in presses] == list(BUTTONS)


def test_bounce_ms_zero_counts_every_press(make_panel: MakePanel) -> None:
    panel, presses = make_panel(bounce_ms=0)

    press(panel, Button.HAPPY)
    press(panel, Button.HAPPY)

    assert len(presses) == 2


def test_panel_without_leds_reports_presses(make_panel: MakePanel) -> None:
    panel, presses = make_panel(leds=None)

    press(panel, Button.VERY_UNHAPPY)

    assert [button for button, _ in presses] == [Button.VERY_UNHAPPY]
    assert "led" not in panel.key(Button.VERY_UNHAPPY).namedtuple._fields


def test_button_pins_follow_the_config(make_panel: MakePanel) -> None:
    buttons = ButtonPins(very_happy=2, happy=3, unhappy=4, very_unhappy=17)
    panel, _ = make_panel(buttons=buttons)

    pins = panel.button_pins()

    assert {button: pins[button].info.name for button in BUTTONS} == {
        Button.VERY_HAPPY: "GPIO2",
        Button.HAPPY: "GPIO3",
        Button.UNHAPPY: "GPIO4",
        Button.VERY_UNHAPPY: "GPIO17",
    }
