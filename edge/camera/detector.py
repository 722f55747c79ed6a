"""Face detection: MediaPipe's BlazeFace (Tasks API), or OpenCV's Haar cascade as a fallback."""

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
from cv2 import data as cv2_data

from edge.camera.errors import ModelError
from edge.camera.paths import DETECTOR_FILE, HAAR_CASCADE_FILE, find_model
from edge.camera.sources import Frame

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaceBox:
    """A face's bounding box in frame pixels, clipped to the frame."""

    x: int
    y: int
    width: int
    height: int
    score: float

    @property
    def area(self) -> int:
        return self.width * self.height


class FaceDetector(Protocol):
    name: str

    def detect(self, frame: Frame) -> list[FaceBox]: ...

    def close(self) -> None: ...


def _clipped(
    x: float, y: float, width: float, height: float, frame: Frame
) -> tuple[int, int, int, int]:
    frame_height, frame_width = frame.shape[:2]
    left, top = max(0, round(x)), max(0, round(y))
    right, bottom = min(frame_width, round(x + width)), min(frame_height, round(y + height))
    return left, top, max(0, right - left), max(0, bottom - top)


class MediaPipeFaceDetector:
    """BlazeFace short range (faces within about 2 m), one frame at a time (IMAGE mode)."""

    name = "mediapipe"

    def __init__(self, model: Path, min_score: float) -> None:
        import mediapipe as mp  # noqa: PLC0415 (optional: the loader falls back without it)
        from mediapipe.tasks.python import vision  # noqa: PLC0415
        from mediapipe.tasks.python.core.base_options import BaseOptions  # noqa: PLC0415

        options = vision.FaceDetectorOptions(
            base_options=BaseOptions(model_asset_path=str(model)),
            running_mode=vision.RunningMode.IMAGE,
            min_detection_confidence=min_score,
        )
        self._mp = mp
        self._detector = vision.FaceDetector.create_from_options(options)

    def detect(self, frame: Frame) -> list[FaceBox]:
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        result = self._detector.detect(
            self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        )
        faces = []
        for detection in result.detections:
            box = detection.bounding_box
            x, y, width, height = _clipped(box.origin_x, box.origin_y, box.width, box.height, frame)
            faces.append(FaceBox(x, y, width, height, float(detection.categories[0].score)))
        return [face for face in faces if face.area > 0]

    def close(self) -> None:
        self._detector.close()


class HaarFaceDetector:
    """OpenCV's frontal-face cascade: no model download, more misses and false faces.

    The cascade gives no calibrated confidence, so its faces score 1.0.
    """

    name = "haar"

    def __init__(self, cascade: Path, min_face_px: int) -> None:
        self._cascade = cv2.CascadeClassifier(str(cascade))
        if self._cascade.empty():
            raise ModelError(f"{cascade}: not a readable Haar cascade")
        self._min_size = (min_face_px, min_face_px)

    def detect(self, frame: Frame) -> list[FaceBox]:
        gray = cv2.equalizeHist(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
        boxes = self._cascade.detectMultiScale(
            gray, scaleFactor=1.1, minNeighbors=5, minSize=self._min_size
        )
        return [FaceBox(*_clipped(x, y, w, h, frame), score=1.0) for x, y, w, h in boxes]

    def close(self) -> None:
        """Nothing to release."""


def haar_cascade() -> Path | None:
    """OpenCV 4 wheels ship the cascade in cv2.data; OpenCV 5 wheels do not, so models/ and
    $SEED_MODELS_DIR are searched too."""
    bundled = Path(cv2_data.haarcascades) / HAAR_CASCADE_FILE
    return bundled if bundled.is_file() else find_model(None, HAAR_CASCADE_FILE)


def load_detector(configured: Path | None, *, min_score: float, min_face_px: int) -> FaceDetector:
    """BlazeFace if MediaPipe and its model file are there, else the Haar cascade (warned)."""
    model = find_model(configured, DETECTOR_FILE)
    if model is None or not model.is_file():
        problem = f"no face detector model at {model}" if model else f"{DETECTOR_FILE} not found"
    else:
        try:
            return MediaPipeFaceDetector(model, min_score)
        except ImportError:
            problem = "mediapipe is not installed"
        except (RuntimeError, ValueError) as exc:
            problem = f"MediaPipe cannot load {model}: {exc}"
    cascade = haar_cascade()
    if cascade is None:
        raise ModelError(
            f"no face detector: {problem} (run scripts/fetch_models.py), and no "
            f"{HAAR_CASCADE_FILE} to fall back on (in cv2.data, models/ or $SEED_MODELS_DIR)"
        )
    log.warning("%s; falling back to OpenCV's Haar cascade, which misses more faces", problem)
    return HaarFaceDetector(cascade, min_face_px)
