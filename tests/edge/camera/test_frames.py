"""The frame ring: the last few raw frames, bounded in count and in age, and the frames a
press at a moment is read from."""

import numpy as np

from edge.camera.frames import MAX_FRAMES, FrameRing, ring_capacity
from edge.camera.sources import Frame


def frame(marker: int) -> Frame:
    return np.full((4, 4, 3), marker, np.uint8)


def ring_of(*stamps: float, keep_s: float = 3.0, capacity: int = 100) -> FrameRing:
    ring = FrameRing(keep_s=keep_s, capacity=capacity)
    for index, at in enumerate(stamps):
        ring.add(frame(index), at)
    return ring


def markers(frames: list) -> list[int]:  # type: ignore[type-arg]
    return [int(f.frame[0, 0, 0]) for f in frames]


def test_its_capacity_is_the_frames_of_its_span_and_one_more() -> None:
    assert ring_capacity(fps=5, keep_s=3.0) == 16
    assert ring_capacity(fps=20, keep_s=0.7) == 15
    assert ring_capacity(fps=0.5, keep_s=1.0) == 2
    assert ring_capacity(fps=30, keep_s=40.0) == MAX_FRAMES


def test_it_holds_no_more_frames_than_its_capacity() -> None:
    ring = ring_of(*(i * 0.01 for i in range(50)), capacity=16)

    assert len(ring) == 16
    assert ring.stamps()[0] == 34 * 0.01 and ring.newest_at() == 49 * 0.01


def test_it_holds_no_frame_older_than_keep_s() -> None:
    ring = ring_of(*(i * 0.5 for i in range(21)), keep_s=3.0)  # 0 .. 10 s

    assert ring.stamps() == [7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0]
    assert ring.forget_older_than(12.0) == 3  # no new frame, yet the old ones go
    assert ring.stamps() == [9.0, 9.5, 10.0]
    assert ring.forget_older_than(100.0) == 0 and ring.newest_at() is None


def test_a_press_takes_the_frames_within_half_a_window_of_it() -> None:
    ring = ring_of(9.0, 9.25, 9.75, 10.0, 10.5, 10.75)

    around = ring.around(10.0, half_window_s=0.5, within_s=2.0)

    assert [f.at for f in around] == [9.75, 10.0, 10.5]
    assert markers(around) == [2, 3, 4]


def test_with_none_in_the_window_the_nearest_frame_within_match_is_taken() -> None:
    ring = ring_of(10.0, 11.0)

    assert [f.at for f in ring.around(12.9, half_window_s=0.5, within_s=2.0)] == [11.0]
    assert ring.around(13.01, half_window_s=0.5, within_s=2.0) == []
    assert ring.around(7.9, half_window_s=0.5, within_s=2.0) == []
    assert FrameRing(keep_s=1, capacity=2).around(0, half_window_s=0.5, within_s=2.0) == []


def test_cleared_it_holds_nothing() -> None:
    ring = ring_of(1.0, 2.0)

    ring.clear()

    assert len(ring) == 0 and ring.around(2.0, half_window_s=1, within_s=1) == []
