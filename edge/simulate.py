"""Presses drawn from a realistic day, driven through the panel's (mock) pins.

Traffic follows an airport's day in the kiosk's local time: quiet at night, a morning
peak of departures, a lull, an evening peak. A small share of presses are bursts of a
child (or a bored traveller) hammering one button, which the misuse window flags.
"""

import logging
import random
import threading
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from edge.config import SimulationConfig
from protocol.messages import BUTTONS, Button

log = logging.getLogger(__name__)

# Relative press rate for each local hour 00..23 (1.0 = the day's peak).
AIRPORT_DAY: tuple[float, ...] = (
    0.03,
    0.02,
    0.02,
    0.03,
    0.10,
    0.45,
    0.85,
    1.00,
    0.95,
    0.75,
    0.60,
    0.55,
    0.60,
    0.55,
    0.55,
    0.65,
    0.80,
    0.90,
    0.85,
    0.70,
    0.50,
    0.35,
    0.20,
    0.08,
)


class PressSimulator:
    """Runs on its own thread; `pins` maps each button to a gpiozero MockPin."""

    def __init__(
        self,
        config: SimulationConfig,
        pins: dict[Button, Any],
        *,
        day: tuple[float, ...] = AIRPORT_DAY,
    ) -> None:
        self._config = config
        self._pins = pins
        self._day = day
        self._zone = ZoneInfo(config.time_zone)
        self._rng = random.Random(config.seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="press-simulator", daemon=True)
        self.presses = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def rate_per_s(self, now: datetime) -> float:
        hour = now.astimezone(self._zone).hour
        return self._config.peak_presses_per_hour * self._day[hour] * self._config.speed / 3600

    def _run(self) -> None:
        while not self._stop.is_set():
            wait_s = self._rng.expovariate(self.rate_per_s(datetime.now(self._zone)))
            if self._stop.wait(min(wait_s, 3600)):
                return
            button = self._rng.choices(BUTTONS, weights=self._config.mood)[0]
            self.press(button)
            if self._rng.random() < self._config.misuse_share:
                for _ in range(self._rng.randint(2, 6)):
                    if self._stop.wait(self._rng.uniform(0.3, 1.2)):
                        return
                    self.press(button)

    def press(self, button: Button) -> None:
        """One press and release, longer than any debounce."""
        pin = self._pins[button]
        pin.drive_low()
        time.sleep(0.08)
        pin.drive_high()
        self.presses += 1
