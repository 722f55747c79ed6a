"""BlazeFace finds the faces of FER2013 crops scaled up onto a camera-sized frame."""

import logging
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from edge.camera.detector import (
    HaarFaceDetector,
    MediaPipeFaceDetector,
    haar_cascade,
    load_detector,
)
from edge.camera.faces import FACE_SIDE, FRAME_HEIGHT, FRAME_WIDTH, face_on_background

FACE_LEFT, FACE_TOP = (FRAME_WIDTH - FACE_SIDE) // 2, (FRAME_HEIGHT - FACE_SIDE) // 2


def test_blazeface_finds_most_fer_faces_where_they_are(
    fer_val: npt.NDArray[np.uint8], mediapipe_detector: MediaPipeFaceDetector
) -> None:
    found = [mediapipe_detector.detect(face_on_background(face)) for face in fer_val[:30]]

    assert sum(len(faces) == 1 for faces in found) >= 25
    for face in (faces[0] for faces in found if faces):
        center_x, center_y = face.x + face.width / 2, face.y + face.height / 2
        assert FACE_LEFT < center_x < FACE_LEFT + FACE_SIDE
        assert FACE_TOP < center_y < FACE_TOP + FACE_SIDE
        assert 0.4 * FACE_SIDE < face.width <= 1.3 * FACE_SIDE
        assert 0.5 <= face.score <= 1


def test_an_empty_frame_has_no_face(mediapipe_detector: MediaPipeFaceDetector) -> None:
    blank = np.full((FRAME_HEIGHT, FRAME_WIDTH, 3), 128, np.uint8)

    assert mediapipe_detector.detect(blank) == []


def test_the_detector_model_is_found_in_seed_models_dir(
    detector_model: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("edge.camera.paths.PROJECT_MODELS_DIR", tmp_path)
    monkeypatch.setenv("SEED_MODELS_DIR", str(detector_model.parent))

    detector = load_detector(None, min_score=0.5, min_face_px=40)

    assert detector.name == "mediapipe"
    detector.close()


UNUSABLE_MODELS = {
    "missing": (None, "no face detector model at"),
    "corrupt": (b"not a flatbuffer", "MediaPipe cannot load"),
}


@pytest.mark.parametrize("unusable", UNUSABLE_MODELS.values(), ids=UNUSABLE_MODELS.keys())
def test_without_a_usable_model_the_haar_cascade_stands_in_with_a_warning(
    unusable: tuple[bytes | None, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    face_frame: npt.NDArray[np.uint8],
) -> None:
    monkeypatch.setattr("edge.camera.paths.PROJECT_MODELS_DIR", tmp_path)
    monkeypatch.delenv("SEED_MODELS_DIR", raising=False)
    model_bytes, problem = unusable
    model = tmp_path / "face_detection_short_range.tflite"
    if model_bytes is not None:
        model.write_bytes(model_bytes)

    assert haar_cascade() is not None, "the camera extra pins an OpenCV 4 wheel with cascades"
    with caplog.at_level(logging.WARNING):
        detector = load_detector(model, min_score=0.5, min_face_px=40)
    assert isinstance(detector, HaarFaceDetector)
    assert problem in caplog.text and "falling back to OpenCV's Haar cascade" in caplog.text
    assert len(detector.detect(face_frame)) == 1
