"""One frame in, the faces and the biggest face's reading out. Nothing of the frame is kept."""

from dataclasses import dataclass

from edge.camera.classifier import EmotionClassifier
from edge.camera.detector import FaceBox, FaceDetector
from edge.camera.reading import EmotionReading
from edge.camera.sources import Frame

FACE_MARGIN = 0.25
"""Detector boxes hug the face; training crops (FER2013) show about a quarter more around it."""


@dataclass(frozen=True)
class FrameResult:
    faces: list[FaceBox]
    reading: EmotionReading | None


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

    def process(self, frame: Frame, at: float) -> FrameResult:
        faces = [
            face
            for face in self.detector.detect(frame)
            if min(face.width, face.height) >= self._min_face_px
        ]
        if not faces:
            return FrameResult(faces, None)
        biggest = max(faces, key=lambda face: face.area)
        scores = self.classifier.classify([face_crop(frame, biggest)])
        reading = EmotionReading(
            emotions=tuple(float(v) for v in scores.emotions[0]),
            vad=tuple(float(v) for v in scores.vad[0]),
            expressions=(
                None
                if scores.expressions is None
                else tuple(float(v) for v in scores.expressions[0])
            ),
            face_score=biggest.score,
            at=at,
            faces=len(faces),
        )
        return FrameResult(faces, reading)

    def close(self) -> None:
        self.detector.close()
