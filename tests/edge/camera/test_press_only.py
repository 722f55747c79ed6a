"""Lawful by design: the classifier reads a face only at a press, ambient counting only
detects faces, and raw frames stay a few seconds in RAM at most.

Real BlazeFace and ONNX Runtime (the tiny model), each wrapped to count what it is given;
the frames come from a source the test paces, each marked with its number in one pixel
and read at a time the test sets, so what each model saw can be told exactly.
"""

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from edge.camera.classifier import EmotionClassifier, Floats, Scores
from edge.camera.detector import FaceBox, MediaPipeFaceDetector
from edge.camera.frames import ring_capacity
from edge.camera.manifest import load_manifest
from edge.camera.monitor import CameraMonitor
from edge.camera.pipeline import FramePipeline
from edge.camera.sources import Frame, SourceError
from tests.helpers import wait_until

START = 1000.0
PERIOD_S = 0.05  # 20 fps
HISTORY_S = 0.26  # a press reads the frames within ±0.13 s of it: two each side
MATCH_S = 0.5
CAPACITY = ring_capacity(fps=20, keep_s=HISTORY_S + MATCH_S)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


class PacedSource:
    """Gives a frame each time the test lets one through: frame i is `frames[i % len]`
    with i in its top-left pixel, read when the clock has moved on by PERIOD_S."""

    def __init__(self, frames: Sequence[Frame], clock: Clock) -> None:
        self._frames = frames
        self._clock = clock
        self._let = threading.Semaphore(0)
        self._done = threading.Event()
        self.stamps: list[float] = []

    def let_through(self, count: int) -> None:
        self._let.release(count)

    def finish(self) -> None:
        self._done.set()

    def read(self) -> Frame:
        while not self._let.acquire(timeout=0.01):
            if self._done.is_set():
                raise SourceError("the test is over")
        index = len(self.stamps)
        frame = self._frames[index % len(self._frames)].copy()
        frame[0, 0] = index % 256
        self._clock.now += PERIOD_S
        self.stamps.append(self._clock.now)
        return frame

    def close(self) -> None:
        """Nothing to release."""


class CountingDetector:
    """BlazeFace, noting the number of each frame it is given."""

    name = "mediapipe"

    def __init__(self, detector: MediaPipeFaceDetector) -> None:
        self._detector = detector
        self.seen: list[int] = []

    def detect(self, frame: Frame) -> list[FaceBox]:
        self.seen.append(int(frame[0, 0, 0]))
        return self._detector.detect(frame)

    def close(self) -> None:
        """The session's detector: closed by its fixture."""


class CountingClassifier(EmotionClassifier):
    """The emotion model, noting the size of each batch ONNX Runtime runs."""

    def __init__(self, manifest: Path) -> None:
        self.batches: list[int] = []
        super().__init__(*load_manifest(manifest))
        self.batches.clear()  # its own check at load

    def run(self, batch: Floats) -> Scores:
        self.batches.append(len(batch))
        return super().run(batch)


@dataclass
class Rig:
    monitor: CameraMonitor
    source: PacedSource
    detector: CountingDetector
    classifier: CountingClassifier
    clock: Clock
    readers: list[threading.Thread] = field(default_factory=list)

    def frames(self, count: int) -> None:
        """Let `count` more frames through and wait until the monitor has taken them."""
        target = self.monitor.health().frames + count
        self.source.let_through(count)
        wait_until(lambda: self.monitor.health().frames == target, what=f"{target} frames")


@pytest.fixture
def rig(
    tiny_manifest: Path, mediapipe_detector: MediaPipeFaceDetector
) -> Iterator[Callable[..., Rig]]:
    made: list[Rig] = []

    def make(frames: Sequence[Frame], *, ambient: bool = False) -> Rig:
        clock = Clock()
        source = PacedSource(frames, clock)
        detector = CountingDetector(mediapipe_detector)
        classifier = CountingClassifier(tiny_manifest)
        monitor = CameraMonitor(
            FramePipeline(detector, classifier, min_face_px=40),
            lambda: source,
            fps=20,
            history_s=HISTORY_S,
            match_within_s=MATCH_S,
            retry_min_s=0.01,
            retry_max_s=0.02,
            ambient=ambient,
            clock=clock,
        )
        made.append(Rig(monitor, source, detector, classifier, clock))
        monitor.start()
        return made[-1]

    yield make
    for each in made:
        each.source.finish()
        each.monitor.close()


@pytest.fixture
def blank() -> Frame:
    return np.full((480, 640, 3), 128, np.uint8)


def test_ambient_counting_detects_faces_and_never_infers_an_emotion(
    rig: Callable[..., Rig], face_frame: Frame
) -> None:
    ambient = rig([face_frame], ambient=True)

    ambient.frames(24)  # more than a second of a face in every frame

    assert ambient.classifier.batches == []
    assert ambient.detector.seen == list(range(24))
    assert ambient.monitor.footfall(0) == 1 and ambient.monitor.passersby_total() == 1
    health = ambient.monitor.health()
    assert (health.frames, health.presses, health.readings) == (24, 0, 0)


def test_without_ambient_no_model_runs_until_a_press_reads_the_frames_near_it(
    rig: Callable[..., Rig], face_frame: Frame
) -> None:
    kiosk = rig([face_frame])

    kiosk.frames(24)

    assert kiosk.detector.seen == [] and kiosk.classifier.batches == []
    pressed_at = kiosk.source.stamps[21]

    reading = kiosk.monitor.reading_at(pressed_at)

    assert kiosk.detector.seen == [19, 20, 21, 22, 23]  # within ±0.13 s of the press
    assert kiosk.classifier.batches == [5]  # one face from each of those frames, once
    assert reading is not None and reading.at == pressed_at
    assert len(reading.emotions) == 26 and reading.faces == 1
    health = kiosk.monitor.health()
    assert (health.frames, health.presses, health.readings) == (24, 1, 1)


def test_the_frames_kept_are_bounded_and_gone_after_stop(
    rig: Callable[..., Rig], face_frame: Frame
) -> None:
    kiosk = rig([face_frame])

    kiosk.frames(CAPACITY + 10)

    # 0.76 s of frames at 20 fps (the age bound), never more than the ring's capacity
    assert kiosk.monitor.health().buffered == 16 <= CAPACITY == 17
    kiosk.source.finish()
    kiosk.monitor.stop()
    assert kiosk.monitor.health().buffered == 0
    assert kiosk.monitor.reading_at(kiosk.source.stamps[-1]) is None
    assert kiosk.detector.seen == [] and kiosk.classifier.batches == []


def test_a_press_with_no_face_near_it_gets_no_reading(
    rig: Callable[..., Rig], face_frame: Frame, blank: Frame
) -> None:
    kiosk = rig([face_frame] * 10 + [blank] * 10)

    kiosk.frames(20)

    assert kiosk.monitor.reading_at(kiosk.source.stamps[17]) is None  # nobody there
    assert kiosk.detector.seen == [15, 16, 17, 18, 19] and kiosk.classifier.batches == []
    assert kiosk.monitor.reading_at(kiosk.source.stamps[-1] + MATCH_S + 0.01) is None
    assert kiosk.detector.seen == [15, 16, 17, 18, 19]  # no frame that close: nothing run
    assert kiosk.monitor.reading_at(kiosk.source.stamps[8]) is not None  # the face, earlier
    assert kiosk.detector.seen[5:] == [6, 7, 8, 9, 10]
    assert kiosk.classifier.batches == [4]  # frame 10 is blank


def test_a_camera_that_stops_delivering_is_a_fault_and_its_presses_get_nothing(
    rig: Callable[..., Rig], face_frame: Frame
) -> None:
    kiosk = rig([face_frame])
    kiosk.frames(10)
    assert kiosk.monitor.health().state == "ok"

    kiosk.clock.now += 2.0  # the read hangs: no frame for longer than MATCH_S + 1 s

    health = kiosk.monitor.health()
    assert (health.state, health.reason) == ("fault", "no frame for 2 s")
    assert health.buffered == 0  # older than history_s + match_within_s: dropped
    assert kiosk.monitor.reading_at(kiosk.clock.now) is None
    assert kiosk.detector.seen == [] and kiosk.classifier.batches == []

    kiosk.frames(1)  # it delivers again
    assert kiosk.monitor.health().state == "ok"


def test_presses_read_safely_while_ambient_counting_runs(
    rig: Callable[..., Rig], face_frame: Frame
) -> None:
    ambient = rig([face_frame], ambient=True)
    ambient.frames(5)
    readings: list[object] = []
    errors: list[BaseException] = []

    def presses() -> None:
        try:
            for _ in range(15):
                readings.append(ambient.monitor.reading_at(ambient.clock.now))
        except BaseException as exc:  # a failure on this thread must fail the test
            errors.append(exc)

    pressing = threading.Thread(target=presses)
    pressing.start()
    ambient.frames(20)  # detections on the camera thread meanwhile
    pressing.join(10)

    assert not pressing.is_alive() and errors == []
    assert len(readings) == 15 and all(r is not None for r in readings)
    assert ambient.monitor.health().readings == 15
