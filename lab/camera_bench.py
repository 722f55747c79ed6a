"""`seed-lab bench camera`: milliseconds per frame on one thread, as on a busy kiosk."""

import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.camera.classifier import EmotionClassifier
from edge.camera.detector import load_detector
from edge.camera.faces import frame_with_face, load_faces
from edge.camera.frames import StampedFrame
from edge.camera.manifest import find_manifest
from edge.camera.pipeline import FramePipeline, face_crop
from edge.camera.sources import Frame

WARM_UP = 10


def spread_ms(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {
        "median": round(float(np.median(ms)), 3),
        "p10": round(float(np.percentile(ms, 10)), 3),
        "p90": round(float(np.percentile(ms, 90)), 3),
        "min": round(float(ms.min()), 3),
        "max": round(float(ms.max()), 3),
    }


def timed(step: Callable[[], object], repeat: int) -> list[float]:
    for _ in range(WARM_UP):
        step()
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - started)
    return seconds


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "opencv": cv2.__version__,
    }


def bench_pipeline(pipeline: FramePipeline, frame: Frame, repeat: int) -> dict[str, Any]:
    faces = pipeline.detector.detect(frame)
    if len(faces) != 1:
        raise ValueError(f"the bench frame must hold one face, the detector finds {len(faces)}")
    crop = face_crop(frame, faces[0])
    one = [StampedFrame(frame, 0.0)]
    results = {
        "detect_ms": spread_ms(timed(lambda: pipeline.detector.detect(frame), repeat)),
        "classify_ms": spread_ms(timed(lambda: pipeline.classifier.classify([crop]), repeat)),
        "frame_ms": spread_ms(timed(lambda: pipeline.read(one, 0.0), repeat)),
    }
    return {**results, "repeat": repeat, "detector": pipeline.detector.name}


def bench_camera(
    *,
    manifest: Path | None = None,
    faces: Path,
    detector_model: Path | None = None,
    repeat: int = 200,
) -> dict[str, Any]:
    """detect, classify and whole-frame (detect + crop + classify, as a press reads each
    frame near it) times on a 640x480 frame holding one FER2013 face, with OpenCV and ONNX
    Runtime on one thread."""
    cv2.setNumThreads(1)
    manifest_path = find_manifest(manifest)
    classifier = EmotionClassifier.from_manifest(manifest_path, threads=1)
    detector = load_detector(detector_model, min_score=0.5, min_face_px=40)
    pipeline = FramePipeline(detector, classifier, min_face_px=40)
    try:
        images, _labels = load_faces(faces)
        frame, index = frame_with_face(images, detector)
        results = bench_pipeline(pipeline, frame, repeat)
    finally:
        pipeline.close()
    return {
        **results,
        "frame": {"width": frame.shape[1], "height": frame.shape[0], "face": f"{faces}#{index}"},
        "manifest": str(manifest_path),
        "machine": machine(),
    }
