"""The last few seconds of readings, and the smoothed one nearest a moment."""

import threading
from collections import deque

from edge.camera.reading import EmotionReading, mean_of


class ReadingHistory:
    """Thread-safe. Keeps readings for `match_within_s + window_s`, so a press looked up a
    little late still finds its face."""

    def __init__(self, *, window_s: float, match_within_s: float) -> None:
        self._half_window_s = window_s / 2
        self._match_within_s = match_within_s
        self._keep_s = match_within_s + window_s
        self._readings: deque[EmotionReading] = deque()
        self._lock = threading.Lock()

    def add(self, reading: EmotionReading) -> None:
        with self._lock:
            self._readings.append(reading)
            while self._readings and self._readings[0].at < reading.at - self._keep_s:
                self._readings.popleft()

    def clear(self) -> None:
        with self._lock:
            self._readings.clear()

    def reading_at(self, t: float) -> EmotionReading | None:
        """The mean of the readings within ±window/2 of the one nearest `t`, if that one is
        within `match_within_s` of `t`."""
        with self._lock:
            readings = list(self._readings)
        if not readings:
            return None
        nearest = min(readings, key=lambda r: abs(r.at - t))
        if abs(nearest.at - t) > self._match_within_s:
            return None
        around = [r for r in readings if abs(r.at - nearest.at) <= self._half_window_s]
        return mean_of(around, nearest)
