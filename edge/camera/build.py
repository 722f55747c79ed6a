"""Builds a CameraMonitor from the camera config: models are loaded (and checked) here."""

import time
from collections.abc import Callable
from functools import partial

from edge.camera.classifier import EmotionClassifier
from edge.camera.config import CameraConfig
from edge.camera.detector import load_detector
from edge.camera.manifest import find_manifest
from edge.camera.monitor import CameraMonitor
from edge.camera.pipeline import FramePipeline
from edge.camera.sources import open_source


def build_monitor(
    config: CameraConfig,
    *,
    on_active: Callable[[bool], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> CameraMonitor:
    """A stopped monitor. Raises ModelError if the emotion model is missing or breaks its
    manifest, or if no face detector can be loaded; the camera is not opened yet."""
    classifier = EmotionClassifier.from_manifest(find_manifest(config.emotion_manifest))
    detector = load_detector(
        config.detector_model, min_score=config.min_face_score, min_face_px=config.min_face_px
    )
    return CameraMonitor(
        FramePipeline(detector, classifier, min_face_px=config.min_face_px),
        partial(open_source, config.source, config.width, config.height),
        fps=config.fps,
        history_s=config.history_s,
        match_within_s=config.match_within_s,
        retry_min_s=config.retry_min_s,
        retry_max_s=config.retry_max_s,
        ambient=config.ambient,
        on_active=on_active,
        clock=clock,
    )
