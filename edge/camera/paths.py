"""Where model files are found, and the pinned face-detector file. No heavy imports here."""

import os
from pathlib import Path

PROJECT_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
MODELS_DIR_ENV = "SEED_MODELS_DIR"

DETECTOR_FILE = "face_detection_short_range.tflite"
DETECTOR_SHA256 = "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8"
DETECTOR_URL = "https://storage.googleapis.com/mediapipe-assets/face_detection_short_range.tflite"
EMOTION_MANIFEST_FILE = "emotion26.json"
HAAR_CASCADE_FILE = "haarcascade_frontalface_default.xml"


def find_model(configured: Path | None, file_name: str) -> Path | None:
    """The configured path if given (found or not), else `file_name` in models/, else in
    $SEED_MODELS_DIR; None if neither has it."""
    if configured is not None:
        return configured
    candidates = [PROJECT_MODELS_DIR / file_name]
    if env_dir := os.environ.get(MODELS_DIR_ENV):
        candidates.append(Path(env_dir) / file_name)
    return next((path for path in candidates if path.is_file()), None)
