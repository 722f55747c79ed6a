"""A frame in, the biggest face's reading out: real BlazeFace, real ONNX Runtime."""

from dataclasses import fields
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from edge.camera.classifier import EmotionClassifier
from edge.camera.detector import FaceBox, MediaPipeFaceDetector
from edge.camera.faces import face_on_background
from edge.camera.pipeline import FramePipeline, face_crop
from edge.camera.reading import EmotionReading


@pytest.fixture(scope="module")
def pipeline(tiny_manifest: Path, mediapipe_detector: MediaPipeFaceDetector) -> FramePipeline:
    return FramePipeline(
        mediapipe_detector, EmotionClassifier.from_manifest(tiny_manifest), min_face_px=40
    )


def test_a_face_gives_a_reading_of_numbers_only(
    pipeline: FramePipeline, face_frame: npt.NDArray[np.uint8]
) -> None:
    result = pipeline.process(face_frame, at=12.5)

    reading = result.reading
    assert reading is not None
    assert (len(reading.emotions), len(reading.vad), reading.faces, reading.at) == (26, 3, 1, 12.5)
    assert reading.expressions is not None and len(reading.expressions) == 7
    assert all(0 <= v <= 1 for v in (*reading.emotions, *reading.vad, reading.face_score))
    assert {f.name for f in fields(EmotionReading)} == {
        "emotions",
        "vad",
        "expressions",
        "face_score",
        "at",
        "faces",
    }


def test_no_face_no_reading(pipeline: FramePipeline) -> None:
    result = pipeline.process(np.full((480, 640, 3), 128, np.uint8), at=0)

    assert result == result.__class__([], None)


def test_the_biggest_face_is_the_one_read(
    pipeline: FramePipeline, fer_val: npt.NDArray[np.uint8]
) -> None:
    big, small = face_on_background(fer_val[1], side=240), face_on_background(fer_val[3], side=120)
    frame = big.copy()
    frame[20:140, 20:140] = small[180:300, 260:380]

    result = pipeline.process(frame, at=0)

    assert result.reading is not None and result.reading.faces == 2
    biggest = max(result.faces, key=lambda f: f.area)
    alone = pipeline.classifier.classify([face_crop(frame, biggest)])
    np.testing.assert_allclose(result.reading.emotions, alone.emotions[0], rtol=1e-6)


def test_faces_smaller_than_min_face_px_are_ignored(
    tiny_manifest: Path,
    mediapipe_detector: MediaPipeFaceDetector,
    face_frame: npt.NDArray[np.uint8],
) -> None:
    strict = FramePipeline(
        mediapipe_detector, EmotionClassifier.from_manifest(tiny_manifest), min_face_px=400
    )

    assert strict.process(face_frame, at=0).reading is None


def test_the_crop_is_a_square_with_margin_clipped_to_the_frame() -> None:
    frame = np.zeros((480, 640, 3), np.uint8)

    assert face_crop(frame, FaceBox(200, 100, 100, 80, 0.9)).shape == (125, 125, 3)
    assert face_crop(frame, FaceBox(0, 0, 100, 100, 0.9)).shape == (113, 113, 3)
