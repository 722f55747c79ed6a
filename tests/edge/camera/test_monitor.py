"""The camera thread: frames kept for presses, and faults that heal without the thread dying.

Real BlazeFace and ONNX Runtime throughout; only the frame source is faked, to fail on cue.
"""

import logging
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.camera.build import build_monitor
from edge.camera.classifier import EmotionClassifier
from edge.camera.config import CameraConfig
from edge.camera.detector import MediaPipeFaceDetector
from edge.camera.errors import ModelError
from edge.camera.monitor import CameraMonitor
from edge.camera.pipeline import FramePipeline
from edge.camera.reading import CameraHealth
from edge.camera.sources import Frame, FrameSource, SourceError
from tests.helpers import wait_until

Read = Frame | None | Exception


class ScriptedSource:
    """Plays `reads` (a frame, None, or an exception to raise), then `then` for ever."""

    def __init__(self, reads: list[Read], then: Read) -> None:
        self._reads = iter(reads)
        self._then = then
        self.closed = False

    def read(self) -> Frame | None:
        step = next(self._reads, self._then)
        if isinstance(step, Exception):
            raise step
        return step

    def close(self) -> None:
        self.closed = True


class Camera:
    """A camera that is plugged and unplugged: each open takes the next step of a script."""

    def __init__(self, script: list[ScriptedSource | Exception]) -> None:
        self._script = iter(script)
        self.opened: list[ScriptedSource] = []
        self.health_at_open: list[CameraHealth] = []
        self.monitor: CameraMonitor | None = None

    def open(self) -> FrameSource:
        if self.monitor is not None:
            self.health_at_open.append(self.monitor.health())
        step = next(self._script)
        if isinstance(step, Exception):
            raise step
        self.opened.append(step)
        return step


@pytest.fixture(scope="module")
def pipeline(tiny_manifest: Path, mediapipe_detector: MediaPipeFaceDetector) -> FramePipeline:
    return FramePipeline(
        mediapipe_detector, EmotionClassifier.from_manifest(tiny_manifest), min_face_px=40
    )


@pytest.fixture
def monitor_for(pipeline: FramePipeline) -> Iterator[Callable[..., CameraMonitor]]:
    monitors: list[CameraMonitor] = []

    def make(camera: Camera, **options: object) -> CameraMonitor:
        settings: dict[str, object] = {"fps": 20, "retry_min_s": 0.01, "retry_max_s": 0.04}
        monitor = CameraMonitor(pipeline, camera.open, **{**settings, **options})  # type: ignore[arg-type]
        camera.monitor = monitor
        monitors.append(monitor)
        return monitor

    yield make
    for monitor in monitors:
        monitor.stop()


def retry_waits(caplog: pytest.LogCaptureFixture) -> list[str]:
    return re.findall(r"retrying in ([\d.]+) s", caplog.text)


def test_a_failing_camera_is_retried_with_backoff_until_frames_resume(
    monitor_for: Callable[..., CameraMonitor],
    face_frame: Frame,
    caplog: pytest.LogCaptureFixture,
) -> None:
    unplugged = ScriptedSource([None], then=None)
    broken = ScriptedSource([RuntimeError("VIDIOC_DQBUF: No such device")], then=None)
    healthy = ScriptedSource([], then=face_frame)
    camera = Camera(
        [
            SourceError("cannot open camera usb:0"),
            OSError(19, "No such device"),
            unplugged,
            broken,
            healthy,
        ]
    )
    active: list[bool] = []
    monitor = monitor_for(camera, on_active=active.append)

    with caplog.at_level(logging.INFO, logger="edge.camera"):
        monitor.start()
        wait_until(lambda: monitor.health().frames >= 2, what="frames after the faults")

    assert retry_waits(caplog) == ["0.01", "0.02", "0.04", "0.04"]
    reasons = [h.reason for h in camera.health_at_open[1:]]
    assert reasons == [
        "cannot open the camera: cannot open camera usb:0",
        "cannot open the camera: OSError: [Errno 19] No such device",
        "the camera gave no frame (unplugged?)",
        "RuntimeError: VIDIOC_DQBUF: No such device",
    ]
    assert all(h.state == "fault" for h in camera.health_at_open[1:])
    assert unplugged.closed and broken.closed and not healthy.closed
    health = monitor.health()
    assert (health.state, health.reason, health.faults) == ("ok", "", 4)
    assert monitor.reading_at(time.monotonic()) is not None

    monitor.stop()

    assert healthy.closed
    assert active == [True, False, True, False, True, False]
    assert monitor.health().state == "off"


def test_a_camera_unplugged_mid_run_faults_then_comes_back(
    monitor_for: Callable[..., CameraMonitor], face_frame: Frame
) -> None:
    first = ScriptedSource([face_frame] * 3, then=SourceError("camera usb:0 gave no frame"))
    back = ScriptedSource([], then=face_frame)
    camera = Camera([first, SourceError("cannot open camera usb:0"), back])
    monitor = monitor_for(camera)

    monitor.start()
    wait_until(lambda: len(camera.opened) == 2 and monitor.health().state == "ok", what="back")

    at_reopen = camera.health_at_open[1]
    assert (at_reopen.state, at_reopen.reason) == ("fault", "camera usb:0 gave no frame")
    assert at_reopen.frames == 3 and at_reopen.buffered == 0  # a fault drops the frames
    assert first.closed


def test_failing_callbacks_and_closes_never_kill_the_thread(
    monitor_for: Callable[..., CameraMonitor], face_frame: Frame
) -> None:
    class BadClose(ScriptedSource):
        def close(self) -> None:
            raise RuntimeError("close failed")

    def bad_led(_active: bool) -> None:
        raise OSError("GPIO busy")

    first = BadClose([ValueError("garbled frame")], then=None)
    camera = Camera([first, ScriptedSource([], then=face_frame)])
    monitor = monitor_for(camera, on_active=bad_led)

    monitor.start()
    wait_until(lambda: monitor.health().frames >= 1, what="frames despite the errors")


def face_folder(folder: Path, frame: Frame) -> Path:
    folder.mkdir()
    cv2.imwrite(str(folder / "0-face.png"), frame)
    cv2.imwrite(str(folder / "1-empty.png"), np.full_like(frame, 128))
    return folder


def test_a_monitor_built_from_config_reads_a_folder_of_images(
    tmp_path: Path,
    face_frame: Frame,
    camera_config: Callable[..., CameraConfig],
) -> None:
    folder = face_folder(tmp_path / "faces", face_frame)
    monitor = build_monitor(camera_config(source=str(folder), ambient=True))
    try:
        assert monitor.health().state == "off"
        monitor.start()
        wait_until(lambda: monitor.health().frames >= 6, what="frames from the folder")
        wait_until(
            lambda: monitor.reading_at(time.monotonic()) is not None, what="a reading at a press"
        )

        health = monitor.health()
        assert (health.state, health.detector) == ("ok", "mediapipe")
        assert health.presses >= health.readings == 1
        assert 0 < health.buffered <= 61  # 20 fps for 3 s, and one
        # the same face, in the same place, missed every other frame: one passer-by
        assert monitor.footfall(0) == 1
        assert monitor.faces_per_minute() == 1
    finally:
        monitor.close()
    assert monitor.health().state == "off" and monitor.health().buffered == 0


def test_footfall_is_off_unless_ambient(
    monitor_for: Callable[..., CameraMonitor],
) -> None:
    monitor = monitor_for(Camera([]))

    assert monitor.footfall(0) is None and monitor.faces_per_minute() is None


def test_a_broken_model_is_refused_when_the_monitor_is_built(tmp_path: Path) -> None:
    config = CameraConfig(enabled=True, emotion_manifest=tmp_path / "emotion26.json")

    with pytest.raises(ModelError, match="no such emotion model manifest"):
        build_monitor(config)
