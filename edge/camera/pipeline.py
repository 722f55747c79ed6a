"""The models on frames: `faces` runs the face detector only (ambient counting); `read`
runs the detector and the emotion classifier, and is called only at a press. Nothing of a
frame is kept here.

Thread-safe: the camera thread (ambient counting) and a press's thread share the models,
one call at a time.
"""

import threading
from collections.abc import Sequence

from edge.camera.classifier import EmotionClassifier
from edge.camera.detector import FaceBox, FaceDetector
from edge.camera.frames import StampedFrame
from edge.camera.reading import EmotionReading, mean_of
from edge.camera.sources import Frame

FACE_MARGIN = 0.25
"""Detector boxes hug the face; training crops (FER2013) show about a quarter more around it."""


def face_crop(frame: Frame, face: FaceBox, margin: float = FACE_MARGIN) -> Frame:
    """A square around the face, `margin` wider than its box, clipped to the frame."""
    side = round(max(face.width, face.height) * (1 + margin))
    left = round(face.x + face.width / 2 - side / 2)
    top = round(face.y + face.height / 2 - side / 2)
    height, width = frame.shape[:2]
    right, bottom = min(width, left + side), min(height, top + side)
    left, top = max(0, left), max(0, top)
    return frame[top:bottom, left:right]


class FramePipeline:
    def __init__(
        self, detector: FaceDetector, classifier: EmotionClassifier, *, min_face_px: int
    ) -> None:
        self.detector = detector
        self.classifier = classifier
        self._min_face_px = min_face_px
        self._lock = threading.Lock()
        self._closed = False

    def faces(self, frame: Frame) -> list[FaceBox]:
        """The faces at least `min_face_px` wide in the frame: the detector only, no emotion."""
        with self._lock:
            return [] if self._closed else self._faces(frame)

    def read(self, frames: Sequence[StampedFrame], at: float) -> EmotionReading | None:
        """The biggest face of each frame classified, averaged over the frames that have one
        and stamped with the one nearest `at`; None if no frame has a face."""
        with self._lock:
            if self._closed:
                return None
            readings = self._readings(frames)
        if not readings:
            return None
        return mean_of(readings, min(readings, key=lambda r: abs(r.at - at)))

    def close(self) -> None:
        """Free the models; `faces` and `read` find nothing from now on."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self.detector.close()

    def _faces(self, frame: Frame) -> list[FaceBox]:
        return [
            face
            for face in self.detector.detect(frame)
            if min(face.width, face.height) >= self._min_face_px
        ]

    def _readings(self, frames: Sequence[StampedFrame]) -> list[EmotionReading]:
        """One reading per frame with a face: its biggest face, the crops in one batch."""
        found = [(stamped, self._faces(stamped.frame)) for stamped in frames]
        found = [(stamped, faces) for stamped, faces in found if faces]
        if not found:
            return []
        biggest = [max(faces, key=lambda face: face.area) for _stamped, faces in found]
        crops = [face_crop(s.frame, face) for (s, _faces), face in zip(found, biggest, strict=True)]
        scores = self.classifier.classify(crops)
        return [
            EmotionReading(
                emotions=tuple(float(v) for v in scores.emotions[row]),
                vad=tuple(float(v) for v in scores.vad[row]),
                expressions=(
                    None
                    if scores.expressions is None
                    else tuple(float(v) for v in scores.expressions[row])
                ),
                face_score=face.score,
                at=stamped.at,
                faces=len(faces),
            )
            for row, ((stamped, faces), face) in enumerate(zip(found, biggest, strict=True))
        ]
