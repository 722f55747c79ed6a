"""Labelled face crops in FER2013's layout (`images` uint8 [N, 48, 48], `labels`), and a
camera-like frame made from one of them, for evaluation, benchmarks and tests."""

import os
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from edge.camera.detector import FaceDetector
from edge.camera.sources import Frame
from protocol.emotions import EXPRESSIONS
from protocol.errors import ConfigError

FER2013_DIR_ENV = "SEED_FER2013_DIR"
DEFAULT_FER2013_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "fer2013"
FRAME_WIDTH, FRAME_HEIGHT = 640, 480
FACE_SIDE = 240
BACKGROUND = 128


def default_faces_file() -> Path:
    return Path(os.environ.get(FER2013_DIR_ENV, DEFAULT_FER2013_DIR)) / "val.npz"


def load_faces(path: Path) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """Images and labels; labels index protocol.emotions.EXPRESSIONS."""
    try:
        with np.load(path) as data:
            images, labels = data["images"], data["labels"]
            classes = tuple(str(c) for c in data["classes"]) if "classes" in data else EXPRESSIONS
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such file (set {FER2013_DIR_ENV} or give a path)") from exc
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"{path}: not an .npz with `images` and `labels`: {exc}") from exc
    if images.dtype != np.uint8 or images.ndim != 3 or len(images) != len(labels):
        raise ConfigError(f"{path}: `images` must be uint8 [N, H, W] with one label each")
    if classes != EXPRESSIONS:
        raise ConfigError(f"{path}: classes {classes} are not {EXPRESSIONS}")
    return images, labels.astype(np.int64)


def face_on_background(face: npt.NDArray[np.uint8], side: int = FACE_SIDE) -> Frame:
    """A 640x480 BGR frame: the face scaled up to `side` pixels, centred on plain grey."""
    frame = np.full((FRAME_HEIGHT, FRAME_WIDTH, 3), BACKGROUND, np.uint8)
    scaled = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    top, left = (FRAME_HEIGHT - side) // 2, (FRAME_WIDTH - side) // 2
    frame[top : top + side, left : left + side] = scaled[:, :, np.newaxis]
    return frame


def frame_with_face(
    faces: npt.NDArray[np.uint8], detector: FaceDetector, *, min_score: float = 0.8
) -> tuple[Frame, int]:
    """The first face (in file order) the detector finds alone and surely, on a frame."""
    for index, face in enumerate(faces):
        frame = face_on_background(face)
        found = detector.detect(frame)
        if len(found) == 1 and found[0].score >= min_score:
            return frame, index
    raise ConfigError(f"the {detector.name} detector finds no face in these {len(faces)} images")
