"""Footfall: each face passing is counted once, flickers not at all."""

from edge.camera.detector import FaceBox
from edge.camera.footfall import FootfallCounter


def box(x: int, y: int = 100, side: int = 80) -> FaceBox:
    return FaceBox(x, y, side, side, 0.9)


def test_a_face_walking_across_the_frame_counts_once() -> None:
    counter = FootfallCounter()

    for frame in range(20):
        counter.update([box(10 + 8 * frame)], at=frame * 0.2)

    assert counter.count_since(0) == 1


def test_two_faces_side_by_side_count_two() -> None:
    counter = FootfallCounter()

    for frame in range(5):
        counter.update([box(10), box(300)], at=frame * 0.2)

    assert counter.count_since(0) == 2


def test_a_detection_in_a_single_frame_counts_nothing() -> None:
    counter = FootfallCounter()

    counter.update([box(10)], at=0.0)
    counter.update([], at=0.2)

    assert counter.count_since(0) == 0


def test_a_face_back_after_the_track_ended_counts_again() -> None:
    counter = FootfallCounter(max_gap_s=1.0)

    for at in (0.0, 0.2, 2.0, 2.2):
        counter.update([box(10)], at=at)

    assert counter.count_since(0) == 2
    assert counter.count_since(1.0) == 1
