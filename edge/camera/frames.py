"""The camera's short memory: the last few raw frames, in RAM only, each with its time.

Raw frames live in RAM for at most `keep_s` seconds (and `capacity` frames): an older one
is dropped at the next frame, lookup or health check, and all are dropped when the camera
stops or fails. Nothing here is written, logged or sent; the classifier reads these frames
only at a press.
"""

import math
import threading
from collections import deque
from dataclasses import dataclass

from edge.camera.sources import Frame


@dataclass(frozen=True)
class StampedFrame:
    frame: Frame
    at: float
    """time.monotonic() (or the monitor's clock) when the frame was read."""


MAX_FRAMES = 48
"""At most this many raw frames are held (about 44 MB at 640x480), whatever fps and windows
say: at 30 fps the ring then spans 1.6 s, still more than a press looks at."""


def ring_capacity(*, fps: float, keep_s: float) -> int:
    """Frames read in `keep_s` at `fps`, and one more for the frame being replaced, at most
    MAX_FRAMES."""
    return min(MAX_FRAMES, math.ceil(round(fps * keep_s, 6)) + 1)  # 20 * 0.7 = 14.000000000000002


class FrameRing:
    """Thread-safe: `add` from the camera thread, `around` from a press's thread."""

    def __init__(self, *, keep_s: float, capacity: int) -> None:
        self._keep_s = keep_s
        self._frames: deque[StampedFrame] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def add(self, frame: Frame, at: float) -> None:
        with self._lock:
            self._frames.append(StampedFrame(frame, at))
            self._drop_before(at - self._keep_s)

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()

    def forget_older_than(self, now: float) -> int:
        """Drop the frames more than `keep_s` old at `now`; how many are left."""
        with self._lock:
            self._drop_before(now - self._keep_s)
            return len(self._frames)

    def newest_at(self) -> float | None:
        with self._lock:
            return self._frames[-1].at if self._frames else None

    def stamps(self) -> list[float]:
        with self._lock:
            return [f.at for f in self._frames]

    def around(self, t: float, *, half_window_s: float, within_s: float) -> list[StampedFrame]:
        """The frames within ±`half_window_s` of `t`; if none, the nearest frame if it is
        within `within_s` of `t`; else none."""
        with self._lock:
            frames = list(self._frames)
        window = [f for f in frames if abs(f.at - t) <= half_window_s]
        if window or not frames:
            return window
        nearest = min(frames, key=lambda f: abs(f.at - t))
        return [nearest] if abs(nearest.at - t) <= within_s else []

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)

    def _drop_before(self, oldest: float) -> None:
        while self._frames and self._frames[0].at < oldest:
            self._frames.popleft()
