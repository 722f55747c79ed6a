"""The four-button smiley panel and its LEDs: the only module that imports gpiozero.

The pin factory is the seam: on a Pi gpiozero picks the real one (lgpio), in tests and
simulation `mock_pin_factory()` stands in, exactly as gpiozero's own tests do.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from gpiozero import LED, CompositeDevice
from gpiozero import Button as GpioButton
from gpiozero.pins.mock import MockFactory

from edge.config import PanelConfig
from protocol.messages import BUTTONS, Button

log = logging.getLogger(__name__)

PressHandler = Callable[[Button, float], None]
"""Called with the button and the monotonic time of the press, from gpiozero's thread."""


def mock_pin_factory() -> Any:
    return MockFactory()


class SmileyKey(CompositeDevice):  # type: ignore[misc]
    """One smiley: a push button (wired to ground, internal pull-up) and its thank-you LED."""

    def __init__(
        self,
        button_pin: int,
        led_pin: int | None,
        *,
        bounce_s: float | None,
        pin_factory: Any = None,
    ) -> None:
        devices: dict[str, Any] = {
            "button": GpioButton(
                button_pin, pull_up=True, bounce_time=bounce_s, pin_factory=pin_factory
            ),
        }
        if led_pin is not None:
            devices["led"] = LED(led_pin, pin_factory=pin_factory)
        super().__init__(_order=list(devices), pin_factory=pin_factory, **devices)


class SmileyPanel(CompositeDevice):  # type: ignore[misc]
    """The four keys; a press lights its LED at once and is handed to `on_press`.

    Debouncing is done twice: by the pin driver (`bounce_time`) where it supports it, and
    here in software, because some drivers (and the mock pins) do not.
    """

    def __init__(
        self, config: PanelConfig, on_press: PressHandler, *, pin_factory: Any = None
    ) -> None:
        keys = {
            button.value: SmileyKey(
                config.buttons.pin(button),
                config.leds.pin(button) if config.leds else None,
                bounce_s=config.bounce_ms / 1000 or None,
                pin_factory=pin_factory,
            )
            for button in BUTTONS
        }
        super().__init__(_order=[b.value for b in BUTTONS], pin_factory=pin_factory, **keys)
        self._on_press = on_press
        self._bounce_s = config.bounce_ms / 1000
        self._thanks_s = config.thanks_s
        self._last_edge: dict[Button, float] = {}
        self._lock = threading.Lock()
        for button in BUTTONS:
            self.key(button).button.when_pressed = self._handler(button)

    def key(self, button: Button) -> SmileyKey:
        key: SmileyKey = getattr(self, button.value)
        return key

    def _handler(self, button: Button) -> Callable[[], None]:
        def pressed() -> None:
            self._pressed(button)

        return pressed

    def _pressed(self, button: Button) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._last_edge.get(button)
            self._last_edge[button] = now
        if last is not None and now - last < self._bounce_s:
            log.debug("ignored a bounce on %s", button.value)
            return
        self.thank(button)
        self._on_press(button, now)

    def thank(self, button: Button) -> None:
        key = self.key(button)
        if "led" in key.namedtuple._fields:
            key.led.on()  # lit in the edge's own callback; the blink thread only puts it out
            key.led.blink(on_time=self._thanks_s, off_time=0, n=1, background=True)

    def has_leds(self) -> bool:
        return all("led" in self.key(b).namedtuple._fields for b in BUTTONS)

    def light(self, button: Button, on: bool) -> bool:
        """Drive the button's LED; True if its pin reads back the state asked for."""
        led = self.key(button).led
        led.on() if on else led.off()
        return bool(led.is_lit) == on

    def button_pins(self) -> dict[Button, Any]:
        """The pin object behind each button (mock pins can be driven in tests)."""
        return {button: self.key(button).button.pin for button in BUTTONS}


class IndicatorLed:
    """One LED on a pin of its own, such as the light that shows the camera is on."""

    def __init__(self, pin: int, *, pin_factory: Any = None) -> None:
        self._led = LED(pin, pin_factory=pin_factory)

    def show(self, on: bool) -> None:
        self._led.on() if on else self._led.off()

    @property
    def lit(self) -> bool:
        return bool(self._led.is_lit)

    def close(self) -> None:
        self._led.close()
