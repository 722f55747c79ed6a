"""Presses drawn from a realistic day, driven through the panel's (mock) pins.

Traffic follows an airport's day in the kiosk's local time: quiet at night, a morning
peak of departures, a lull, an evening peak. Travellers never press within the kiosk's
response interval of the previous press (the next one steps up after it), so only the
deliberate misuse is flagged: about `misuse_share` of all presses are the repeats of a
child (or a bored traveller) hammering one button, which the misuse window flags.

`press_schedule` is the pure schedule (waits, buttons, which presses are repeats); the
`PressSimulator` plays it on the pins in real time, and the demo replays it over weeks of
history, so both show the same traffic.
"""

import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from edge.config import KioskConfig, SimulationConfig
from edge.followups import FollowUpError, FollowUps, Window
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

DEFAULT_RESPONSE_INTERVAL_S: float = KioskConfig.model_fields["response_interval_s"].default
GAP_MARGIN_S = 0.5
"""A traveller's press comes at least the response interval plus this after the previous
press, so the jitter of threads and callbacks never makes it misuse."""
REPEATS = (2, 6)
"""A hammering burst repeats the press this many times (inclusive), ..."""
REPEAT_GAP_S = (0.3, 1.2)
"""... this many seconds apart."""
MEAN_REPEATS = sum(REPEATS) / 2
MAX_LOAD = 0.9
"""At most this share of a kiosk's time is spent waiting out response intervals: a rate
above `MAX_LOAD / gap` is more than travellers one at a time can press, and is capped."""
MAX_IDLE_STEPS = 10_000


@dataclass(frozen=True)
class ScheduledPress:
    wait_s: float
    """Seconds after the previous press (after the start, for the first)."""
    button: Button
    repeat: bool
    """A deliberate repeat of a hammering burst: misuse, as the kiosk will flag it."""


def burst_chance(misuse_share: float) -> float:
    """The chance that a traveller's press starts a burst, so that `misuse_share` of all
    presses are repeats: p * MEAN_REPEATS / (1 + p * MEAN_REPEATS) = misuse_share."""
    share = min(misuse_share, 0.99)
    return min(1.0, share / (MEAN_REPEATS * (1 - share)))


def press_schedule(
    rng: random.Random,
    *,
    rate_at: Callable[[float], float],
    mood_at: Callable[[float], Sequence[float]],
    misuse_share: float,
    response_interval_s: float = DEFAULT_RESPONSE_INTERVAL_S,
    start_s: float = 0.0,
    step_s: float = 3600.0,
) -> Iterator[ScheduledPress]:
    """An endless schedule of presses from `start_s` (seconds on the caller's clock).

    `rate_at(t)` is the mean rate of presses per second and `mood_at(t)` the weights of
    the four buttons, both constant within each `step_s` of that clock (an hour): arrivals
    are drawn exactly for such a piecewise rate. Each traveller's press comes at least the
    response interval (plus a margin) after the previous press; the wait beyond that is
    exponential, at the rate that keeps the mean at `rate_at` (capped at `MAX_LOAD`).
    """
    gap_s = response_interval_s + GAP_MARGIN_S
    chance = burst_chance(misuse_share)
    previous = earliest = start_s
    while True:
        now, idle_steps = earliest, 0
        while True:  # the next traveller; memoryless, so redrawn at each step's boundary
            rate = min(rate_at(now), MAX_LOAD / gap_s)
            boundary = (now // step_s + 1) * step_s
            if rate > 0:
                wait_s = rng.expovariate(rate / (1 - rate * gap_s))
                if now + wait_s < boundary:
                    now += wait_s
                    break
            idle_steps += 1
            if idle_steps > MAX_IDLE_STEPS:
                raise ValueError(f"no press in {MAX_IDLE_STEPS} steps: is the rate zero?")
            now = boundary
        button = rng.choices(BUTTONS, weights=mood_at(now))[0]
        yield ScheduledPress(now - previous, button, repeat=False)
        previous = now
        if rng.random() < chance:
            for _ in range(rng.randint(*REPEATS)):
                now += rng.uniform(*REPEAT_GAP_S)
                yield ScheduledPress(now - previous, button, repeat=True)
                previous = now
        earliest = previous + gap_s


class PressSimulator:
    """Runs on its own thread; `pins` maps each button to a gpiozero MockPin.

    `response_interval_s` is the kiosk's, so that only the deliberate repeats are misuse."""

    def __init__(
        self,
        config: SimulationConfig,
        pins: dict[Button, Any],
        *,
        day: tuple[float, ...] = AIRPORT_DAY,
        response_interval_s: float = DEFAULT_RESPONSE_INTERVAL_S,
    ) -> None:
        self._config = config
        self._pins = pins
        self._day = day
        self._response_interval_s = response_interval_s
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

    def schedule(self, start: datetime) -> Iterator[ScheduledPress]:
        """The presses from `start` on (the hour's rate on the wall clock, compressed by
        the config's speed), each traveller's at least the response interval after the last."""
        return press_schedule(
            self._rng,
            rate_at=lambda t: self.rate_per_s(datetime.fromtimestamp(t, UTC)),
            mood_at=lambda _t: self._config.mood,
            misuse_share=self._config.misuse_share,
            response_interval_s=self._response_interval_s,
            start_s=start.timestamp(),
        )

    def _run(self) -> None:
        for scheduled in self.schedule(datetime.now(UTC)):
            if self._stop.wait(scheduled.wait_s):
                return
            self.press(scheduled.button)

    def press(self, button: Button) -> None:
        """One press and release, longer than any debounce."""
        pin = self._pins[button]
        pin.drive_low()
        time.sleep(0.08)
        pin.drive_high()
        self.presses += 1


class SimulatedTraveller:
    """Answers the kiosk's follow-ups as travellers do: after a moment's thought, most of
    them, each with an option drawn by the place's `reasons` weights; the rest walk away."""

    def __init__(self, config: SimulationConfig, followups: FollowUps) -> None:
        self._config = config
        self._followups = followups
        self._rng = random.Random(None if config.seed is None else config.seed + 1)
        self._windows: queue.Queue[Window | None] = queue.Queue(maxsize=100)
        self._thread = threading.Thread(target=self._run, name="simulated-traveller", daemon=True)
        followups.add_listener(self._opened)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._windows.put(None)
        if self._thread.is_alive():
            self._thread.join()

    def choose(self, window: Window) -> str | None:
        """The option key this traveller picks, or None: no answer."""
        if self._rng.random() >= self._config.answer_share:
            return None
        keys = [option.key for option in window.follow_up.options]
        weights = [self._config.reasons.get(key, 1.0) for key in keys]
        return self._rng.choices(keys, weights)[0]

    def _opened(self, window: Window) -> None:
        try:
            self._windows.put_nowait(window)
        except queue.Full:
            log.debug("the simulated traveller is behind; a follow-up goes unanswered")

    def _run(self) -> None:
        while (window := self._windows.get()) is not None:
            option = self.choose(window)
            if option is None:
                continue  # the window closes by itself, unanswered
            time.sleep(self._rng.uniform(0.5, min(3.0, window.survey.answer_s / 2)))
            try:
                self._followups.answer(window.event_id, option, window.survey.languages[0])
            except FollowUpError as exc:  # the next press came first
                log.debug("simulated answer not taken: %s", exc)
