"""Footfall: distinct faces passing the kiosk, from a small IoU tracker.

A face is counted once it has been seen in `min_hits` frames, so a single false detection
counts nothing; a track ends after `max_gap_s` unseen.
"""

import threading
from collections import deque
from dataclasses import dataclass

from edge.camera.detector import FaceBox

COUNT_KEPT_S = 3600.0


@dataclass
class _Track:
    box: FaceBox
    last_seen: float
    hits: int


def iou(a: FaceBox, b: FaceBox) -> float:
    width = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
    height = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
    overlap = max(0, width) * max(0, height)
    union = a.area + b.area - overlap
    return overlap / union if union else 0.0


class FootfallCounter:
    """Thread-safe: `update` from the camera thread, `count_since` from anywhere."""

    def __init__(self, *, min_iou: float = 0.3, max_gap_s: float = 1.0, min_hits: int = 2):
        self._min_iou = min_iou
        self._max_gap_s = max_gap_s
        self._min_hits = min_hits
        self._tracks: list[_Track] = []
        self._counted_at: deque[float] = deque()
        self._total = 0
        self._lock = threading.Lock()

    def update(self, faces: list[FaceBox], at: float) -> None:
        self._tracks = [t for t in self._tracks if at - t.last_seen <= self._max_gap_s]
        unmatched = list(self._tracks)
        for face in sorted(faces, key=lambda f: f.area, reverse=True):
            track = max(unmatched, key=lambda t: iou(t.box, face), default=None)
            if track is None or iou(track.box, face) < self._min_iou:
                self._tracks.append(track := _Track(face, at, 0))
            else:
                unmatched.remove(track)
            track.box, track.last_seen, track.hits = face, at, track.hits + 1
            if track.hits == self._min_hits:
                self._count(at)

    def count_since(self, since: float) -> int:
        with self._lock:
            return sum(1 for t in self._counted_at if t >= since)

    def total(self) -> int:
        """Every face counted since the counter was made."""
        with self._lock:
            return self._total

    def _count(self, at: float) -> None:
        with self._lock:
            self._total += 1
            self._counted_at.append(at)
            while self._counted_at[0] < at - COUNT_KEPT_S:
                self._counted_at.popleft()
