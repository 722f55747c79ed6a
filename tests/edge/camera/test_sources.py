"""Frame sources: files and folders loop for demos; a missing camera is a SourceError."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.camera.sources import FileSource, SourceError, open_source


def frames_of(path: Path, count: int) -> list[int]:
    """The mean grey level, to the nearest 10 (JPEG shifts it a little), of the first frames."""
    source = open_source(str(path), 640, 480)
    try:
        return [
            round(float(frame.mean()) / 10) * 10 for frame in (source.read() for _ in range(count))
        ]
    finally:
        source.close()


def test_a_folder_of_images_is_played_in_name_order_for_ever(tmp_path: Path) -> None:
    for name, level in (("b.png", 20), ("a.jpg", 10)):
        cv2.imwrite(str(tmp_path / name), np.full((48, 64, 3), level, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image", "utf-8")

    assert frames_of(tmp_path, 5) == [10, 20, 10, 20, 10]


def test_a_video_file_loops(tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 5, (64, 48))
    for level in (50, 150):
        writer.write(np.full((48, 64, 3), level, np.uint8))
    writer.release()

    assert frames_of(video, 4) == [50, 150, 50, 150]


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ("nowhere/at/all", "no such file or folder"),
        ("picamera", "picamera2 is not installed"),
    ],
)
def test_a_source_that_cannot_open_says_why(spec: str, complaint: str) -> None:
    with pytest.raises(SourceError, match=complaint):
        open_source(spec, 640, 480)


def test_an_empty_folder_or_a_broken_image_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no images in this folder"):
        FileSource(tmp_path)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    source = FileSource(tmp_path)
    with pytest.raises(SourceError, match=r"broken\.png: not a readable image"):
        source.read()
    with pytest.raises(SourceError, match="reopen it"):
        source.read()
