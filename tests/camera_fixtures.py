"""Camera fixtures (a pytest plugin of the root conftest): FER2013 faces, the BlazeFace
model, a tiny ONNX model that keeps the manifest's contract.

They fail, never skip, when the shared data is missing, and say which variable to set.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from edge.camera.config import CameraConfig
from edge.camera.detector import MediaPipeFaceDetector
from edge.camera.faces import frame_with_face
from edge.camera.paths import DETECTOR_FILE
from edge.camera.sources import Frame
from tests.edge.camera.tiny_model import write_model

REPO = Path(__file__).resolve().parents[1]


def shared_path(variable: str, default: Path, file_name: str) -> Path:
    path = Path(os.environ.get(variable, default)) / file_name
    if not path.is_file():
        pytest.fail(f"{path} is missing: set {variable} to the folder that holds {file_name}")
    return path


@pytest.fixture(scope="session")
def fer_val_file() -> Path:
    return shared_path("SEED_FER2013_DIR", REPO.parent / "shared/data/fer2013", "val.npz")


@pytest.fixture(scope="session")
def fer_val(fer_val_file: Path) -> npt.NDArray[np.uint8]:
    with np.load(fer_val_file) as data:
        return np.asarray(data["images"], dtype=np.uint8)


@pytest.fixture(scope="session")
def detector_model() -> Path:
    return shared_path("SEED_MODELS_DIR", REPO.parent / "shared/models", DETECTOR_FILE)


@pytest.fixture(scope="session")
def mediapipe_detector(detector_model: Path) -> Iterator[MediaPipeFaceDetector]:
    detector = MediaPipeFaceDetector(detector_model, min_score=0.5)
    yield detector
    detector.close()


@pytest.fixture(scope="session")
def face_frame(fer_val: npt.NDArray[np.uint8], mediapipe_detector: MediaPipeFaceDetector) -> Frame:
    """640x480, one FER2013 face that BlazeFace finds, on a plain grey background."""
    frame, _index = frame_with_face(fer_val, mediapipe_detector)
    return frame


@pytest.fixture
def camera_config(detector_model: Path, tiny_manifest: Path) -> Callable[..., CameraConfig]:
    """camera_config(**settings): an enabled camera with the real detector and the tiny model,
    at 20 fps and with short retries, so tests run quickly, and its indicator LED on pin 26
    (a camera needs one, or a display)."""

    def make(**settings: object) -> CameraConfig:
        defaults: dict[str, object] = {
            "enabled": True,
            "indicator_led": 26,
            "fps": 20,
            "detector_model": detector_model,
            "emotion_manifest": tiny_manifest,
            "retry_min_s": 0.01,
            "retry_max_s": 0.02,
        }
        return CameraConfig.model_validate({**defaults, **settings})

    return make


@pytest.fixture(scope="session")
def tiny_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_model(tmp_path_factory.mktemp("models"))
