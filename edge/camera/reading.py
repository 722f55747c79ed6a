"""What the camera tells the kiosk: numbers about a face, never the face."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

CameraState = Literal["off", "starting", "ok", "fault"]


@dataclass(frozen=True)
class EmotionReading:
    """The biggest face's emotions at a press; no pixels, crops or embeddings, ever."""

    emotions: tuple[float, ...]
    """26 probabilities, in protocol.emotions.EMOTIC_CATEGORIES order."""
    vad: tuple[float, ...]
    """Valence, arousal, dominance, each in [0, 1]."""
    expressions: tuple[float, ...] | None
    """7 probabilities in protocol.emotions.EXPRESSIONS order, if the model gives them."""
    face_score: float
    at: float
    """time.monotonic() of the frame (the one nearest the press, for an average)."""
    faces: int
    """Faces in the frame."""


@dataclass(frozen=True)
class CameraHealth:
    state: CameraState
    reason: str
    """Why the camera is in a fault (empty otherwise): a short text, never image data."""
    detector: str
    frames: int
    """Frames read since the monitor was made."""
    presses: int
    """Presses looked up (each runs the classifier on the frames around it)."""
    readings: int
    """Presses that got a reading (a face was near them)."""
    faults: int
    buffered: int
    """Raw frames in RAM now (the last few seconds' worth at most)."""


def mean_of(readings: Sequence[EmotionReading], nearest: EmotionReading) -> EmotionReading:
    """The average of `readings`, stamped with the time and face count of `nearest`."""

    def mean(rows: list[tuple[float, ...]]) -> tuple[float, ...]:
        return tuple(float(v) for v in np.mean(np.asarray(rows, np.float64), axis=0))

    expressions = [r.expressions for r in readings if r.expressions is not None]
    return EmotionReading(
        emotions=mean([r.emotions for r in readings]),
        vad=mean([r.vad for r in readings]),
        expressions=mean(expressions) if len(expressions) == len(readings) else None,
        face_score=float(np.mean([r.face_score for r in readings])),
        at=nearest.at,
        faces=nearest.faces,
    )
