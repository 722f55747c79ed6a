"""Faces found (the detector only), and a press's frames read (the detector and the
classifier, the biggest face of each frame, averaged): real BlazeFace, real ONNX Runtime."""

from dataclasses import fields
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from edge.camera.classifier import EmotionClassifier
from edge.camera.detector import FaceBox, MediaPipeFaceDetector
from edge.camera.faces import face_on_background
from edge.camera.frames import StampedFrame
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
    reading = pipeline.read([StampedFrame(face_frame, 12.5)], at=12.6)

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
    blank = np.full((480, 640, 3), 128, np.uint8)

    assert pipeline.faces(blank) == []
    assert pipeline.read([StampedFrame(blank, 0.0), StampedFrame(blank, 0.2)], at=0.1) is None
    assert pipeline.read([], at=0.1) is None


def test_the_frames_with_a_face_are_averaged_and_stamped_with_the_nearest(
    pipeline: FramePipeline, fer_val: npt.NDArray[np.uint8]
) -> None:
    frames = [
        StampedFrame(face_on_background(fer_val[1]), 10.0),
        StampedFrame(np.full((480, 640, 3), 128, np.uint8), 10.2),  # nobody: left out
        StampedFrame(face_on_background(fer_val[3]), 10.4),
    ]
    alone = [pipeline.read([f], at=f.at) for f in frames]
    assert alone[0] is not None and alone[1] is None and alone[2] is not None

    reading = pipeline.read(frames, at=10.3)

    assert reading is not None and reading.at == 10.4
    expected = (np.asarray(alone[0].emotions) + np.asarray(alone[2].emotions)) / 2
    np.testing.assert_allclose(reading.emotions, expected, rtol=1e-6)


def test_the_biggest_face_is_the_one_read(
    pipeline: FramePipeline, fer_val: npt.NDArray[np.uint8]
) -> None:
    big, small = face_on_background(fer_val[1], side=240), face_on_background(fer_val[3], side=120)
    frame = big.copy()
    frame[20:140, 20:140] = small[180:300, 260:380]

    faces = pipeline.faces(frame)
    reading = pipeline.read([StampedFrame(frame, 0.0)], at=0)

    assert reading is not None and reading.faces == len(faces) == 2
    biggest = max(faces, key=lambda f: f.area)
    alone = pipeline.classifier.classify([face_crop(frame, biggest)])
    np.testing.assert_allclose(reading.emotions, alone.emotions[0], rtol=1e-6)


def test_faces_smaller_than_min_face_px_are_ignored(
    tiny_manifest: Path,
    mediapipe_detector: MediaPipeFaceDetector,
    face_frame: npt.NDArray[np.uint8],
) -> None:
    strict = FramePipeline(
        mediapipe_detector, EmotionClassifier.from_manifest(tiny_manifest), min_face_px=400
    )

    assert strict.faces(face_frame) == []
    assert strict.read([StampedFrame(face_frame, 0.0)], at=0) is None


def test_the_crop_is_a_square_with_margin_clipped_to_the_frame() -> None:
    frame = np.zeros((480, 640, 3), np.uint8)

    assert face_crop(frame, FaceBox(200, 100, 100, 80, 0.9)).shape == (125, 125, 3)
    assert face_crop(frame, FaceBox(0, 0, 100, 100, 0.9)).shape == (113, 113, 3)


def test_a_closed_pipeline_finds_nothing_and_frees_its_detector_once(
    tiny_manifest: Path, detector_model: Path, face_frame: npt.NDArray[np.uint8]
) -> None:
    detector = MediaPipeFaceDetector(detector_model, min_score=0.5)
    closed = FramePipeline(detector, EmotionClassifier.from_manifest(tiny_manifest), min_face_px=40)
    assert len(closed.faces(face_frame)) == 1

    closed.close()
    closed.close()

    assert closed.faces(face_frame) == []
    assert closed.read([StampedFrame(face_frame, 0.0)], at=0) is None
