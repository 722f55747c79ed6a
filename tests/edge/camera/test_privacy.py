"""Frames live in memory only: nothing of an image is written to disk, logged or returned."""

import logging
import re
import time
from collections.abc import Callable
from dataclasses import astuple
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.camera.build import build_monitor
from edge.camera.config import CameraConfig
from edge.camera.paths import PROJECT_MODELS_DIR
from edge.camera.reading import EmotionReading
from edge.camera.sources import Frame
from tests.helpers import wait_until

NUMBER = r"[-+]?\d*\.?\d+(?:e[-+]?\d+)?"
NUMBER_DUMP = re.compile(rf"(?:{NUMBER}[\s,;]+){{12,}}")


def snapshot(*folders: Path) -> dict[Path, tuple[int, int]]:
    """Every file under the folders, with its size and modification time."""
    return {
        path: (path.stat().st_size, path.stat().st_mtime_ns)
        for folder in folders
        for path in folder.rglob("*")
    }


def test_the_monitor_writes_no_files_and_logs_no_image_data(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    face_frame: Frame,
    camera_config: Callable[..., CameraConfig],
) -> None:
    faces = tmp_path / "faces"
    faces.mkdir()
    cv2.imwrite(str(faces / "0-face.png"), face_frame)
    (faces / "1-broken.png").write_bytes(b"not a png")  # a fault too, with its log lines
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    config = camera_config(source=str(faces), ambient=True)
    assert config.detector_model and config.emotion_manifest
    models = [config.detector_model.parent, config.emotion_manifest.parent, PROJECT_MODELS_DIR]
    watched = [cwd, faces, *models]
    before = snapshot(*watched)

    readings: list[EmotionReading | None] = []

    def press() -> bool:
        readings.append(monitor.reading_at(time.monotonic()))
        return readings[-1] is not None

    with caplog.at_level(logging.DEBUG):
        monitor = build_monitor(config)
        monitor.start()
        try:
            wait_until(lambda: monitor.health().faults >= 2 and monitor.health().frames >= 2)
            wait_until(press, what="a reading at a press, between the faults")
        finally:
            monitor.close()
    reading = readings[-1]

    assert snapshot(*watched) == before
    assert list(cwd.iterdir()) == []
    assert caplog.records, "the monitor logged nothing at all: the check below proves nothing"
    for record in caplog.records:
        message = record.getMessage()
        assert not any(isinstance(a, np.ndarray) for a in _args(record)), message
        assert not NUMBER_DUMP.search(message), message
        assert "[[" not in message and len(message) < 400, message
    assert "1-broken.png: not a readable image" in caplog.text
    assert reading is not None
    assert all(isinstance(v, float | int | tuple) for v in astuple(reading))
    assert all(isinstance(v, float) for v in (*reading.emotions, *reading.vad))


def _args(record: logging.LogRecord) -> tuple[object, ...]:
    args = record.args
    if isinstance(args, tuple):
        return args
    return () if args is None else tuple(args.values())
