"""A press gets the smoothed reading nearest its time, and nothing if no face was close."""

from edge.camera.history import ReadingHistory
from edge.camera.reading import EmotionReading


def reading(at: float, level: float, faces: int = 1) -> EmotionReading:
    return EmotionReading(
        emotions=(level,) * 26,
        vad=(level, 0.5, 0.5),
        expressions=(level,) * 7,
        face_score=0.9,
        at=at,
        faces=faces,
    )


def history_of(*readings: EmotionReading) -> ReadingHistory:
    history = ReadingHistory(window_s=1.0, match_within_s=2.0)
    for r in readings:
        history.add(r)
    return history


def test_the_nearest_reading_is_averaged_with_its_neighbours_within_half_a_second() -> None:
    history = history_of(
        reading(9.0, 0.0), reading(9.8, 0.2), reading(10.0, 0.4, faces=3), reading(10.4, 0.6)
    )

    smoothed = history.reading_at(10.1)

    assert smoothed is not None and smoothed.expressions is not None
    assert smoothed.at == 10.0 and smoothed.faces == 3
    assert smoothed.emotions[0] == smoothed.vad[0] == smoothed.expressions[0]
    assert abs(smoothed.emotions[0] - 0.4) < 1e-9  # (0.2 + 0.4 + 0.6) / 3; 9.0 is too far


def test_a_press_more_than_two_seconds_from_any_face_gets_nothing() -> None:
    history = history_of(reading(10.0, 0.5))

    assert history.reading_at(12.0) is not None
    assert history.reading_at(12.01) is None
    assert history.reading_at(7.99) is None
    assert ReadingHistory(window_s=1, match_within_s=2).reading_at(0) is None


def test_old_readings_are_forgotten() -> None:
    history = history_of(reading(0.0, 0.1), reading(10.0, 0.5))

    assert history.reading_at(1.0) is None


def test_expressions_are_left_out_if_any_reading_lacks_them() -> None:
    without = EmotionReading((0.1,) * 26, (0.1, 0.1, 0.1), None, 0.9, 10.2, 1)
    history = history_of(reading(10.0, 0.5), without)

    smoothed = history.reading_at(10.0)

    assert smoothed is not None and smoothed.expressions is None
