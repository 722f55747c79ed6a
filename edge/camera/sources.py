"""Frame sources: a USB camera through OpenCV, the Pi camera through picamera2, or files.

Every source hands out BGR uint8 frames (OpenCV's order) and keeps nothing after `close`.
"""

import logging
from collections.abc import Generator
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from edge.camera.config import PICAMERA_SOURCE, USB_SOURCE
from protocol.errors import SeedError

log = logging.getLogger(__name__)

Frame = npt.NDArray[np.uint8]
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".pgm", ".ppm"})


class SourceError(SeedError):
    """The camera could not be opened or stopped giving frames; the monitor retries."""


class FrameSource(Protocol):
    """Opened by its constructor (SourceError if it cannot be); `read` blocks for the next
    frame and returns None or raises when none comes."""

    def read(self) -> Frame | None: ...

    def close(self) -> None: ...


class OpenCvSource:
    """A USB (V4L2) camera."""

    def __init__(self, index: int, width: int, height: int) -> None:
        self._capture = cv2.VideoCapture(index)
        if not self._capture.isOpened():
            self._capture.release()
            raise SourceError(f"cannot open camera usb:{index}")
        self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self._name = f"usb:{index}"

    def read(self) -> Frame:
        ok, frame = self._capture.read()
        if not ok or frame is None:
            raise SourceError(f"camera {self._name} gave no frame (unplugged?)")
        return np.asarray(frame, dtype=np.uint8)

    def close(self) -> None:
        self._capture.release()


class PiCameraSource:
    """The Pi's camera through picamera2 (installed from apt on Raspberry Pi OS)."""

    def __init__(self, number: int, width: int, height: int) -> None:
        try:
            from picamera2 import Picamera2  # noqa: PLC0415 (only on a Pi)
        except ImportError as exc:
            raise SourceError("picamera2 is not installed (apt install python3-picamera2)") from exc
        try:
            self._camera: Any = Picamera2(number)
            # picamera2's "RGB888" is laid out B, G, R: OpenCV's order
            main = {"size": (width, height), "format": "RGB888"}
            self._camera.configure(self._camera.create_video_configuration(main=main))
            self._camera.start()
        except Exception as exc:
            raise SourceError(f"cannot start the Pi camera {number}: {exc}") from exc

    def read(self) -> Frame:
        try:
            frame = self._camera.capture_array("main")
        except Exception as exc:
            raise SourceError(f"the Pi camera gave no frame: {exc}") from exc
        return np.ascontiguousarray(frame[:, :, :3], dtype=np.uint8)

    def close(self) -> None:
        try:
            self._camera.stop()
        finally:
            self._camera.close()


class FileSource:
    """An image, a folder of images (in name order) or a video file, looped for ever."""

    def __init__(self, path: Path) -> None:
        if path.is_dir():
            self._images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not self._images:
                raise SourceError(f"{path}: no images in this folder")
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            self._images = [path]
        elif path.is_file():
            self._images = []
        else:
            raise SourceError(f"{path}: no such file or folder")
        self._path = path
        self._frames = self._loop()

    def read(self) -> Frame:
        try:
            return next(self._frames)
        except StopIteration:
            raise SourceError(f"{self._path}: source already failed; reopen it") from None

    def close(self) -> None:
        self._frames.close()

    def _loop(self) -> Generator[Frame]:
        while True:
            yield from (self._images_once() if self._images else self._video_once())

    def _images_once(self) -> Generator[Frame]:
        for image in self._images:
            frame = cv2.imread(str(image), cv2.IMREAD_COLOR)
            if frame is None:
                raise SourceError(f"{image}: not a readable image")
            yield np.asarray(frame, dtype=np.uint8)

    def _video_once(self) -> Generator[Frame]:
        capture = cv2.VideoCapture(str(self._path))
        try:
            if not capture.isOpened():
                raise SourceError(f"{self._path}: not a readable video")
            ok, frame = capture.read()
            if not ok:
                raise SourceError(f"{self._path}: no frames in this video")
            while ok:
                yield np.asarray(frame, dtype=np.uint8)
                ok, frame = capture.read()
        finally:
            capture.release()


def open_source(spec: str, width: int, height: int) -> FrameSource:
    """The source a config's `source` names: usb:N, picamera[:N], or a path."""
    if usb := USB_SOURCE.fullmatch(spec):
        return OpenCvSource(int(usb.group(1)), width, height)
    if picamera := PICAMERA_SOURCE.fullmatch(spec):
        return PiCameraSource(int(picamera.group(1) or 0), width, height)
    return FileSource(Path(spec))
