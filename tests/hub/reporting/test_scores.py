import pytest

from hub.reporting.scores import ButtonCounts, happy_index, positive_share, wilson_interval
from protocol.messages import Button


def test_happy_index_matches_happyornots_worked_example() -> None:
    counts = ButtonCounts(very_happy=126, happy=60, unhappy=16, very_unhappy=17)
    index = happy_index(counts)
    assert index is not None
    assert round(index) == 78
    assert index == pytest.approx(100 * (3 * 126 + 2 * 60 + 16) / (3 * 219))


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        (ButtonCounts(very_happy=5), 100.0),
        (ButtonCounts(very_unhappy=5), 0.0),
        (ButtonCounts(happy=1, unhappy=1), 50.0),
        (ButtonCounts(1, 1, 1, 1), 50.0),
    ],
)
def test_happy_index_by_hand(counts: ButtonCounts, expected: float) -> None:
    assert happy_index(counts) == pytest.approx(expected)


def test_no_responses_have_no_scores() -> None:
    assert happy_index(ButtonCounts()) is None
    assert positive_share(ButtonCounts()) is None
    assert wilson_interval(0, 0) is None


def test_positive_share_is_top_two_box() -> None:
    assert positive_share(ButtonCounts(126, 60, 16, 17)) == pytest.approx(186 / 219)


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (8, 10, 0.4902, 0.9433),  # textbook values (Newcombe 1998)
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (186, 219, 0.7959, 0.8906),  # the worked example, computed by hand
    ],
)
def test_wilson_interval_matches_hand_computed_values(
    successes: int, n: int, low: float, high: float
) -> None:
    interval = wilson_interval(successes, n)
    assert interval is not None
    assert interval == pytest.approx((low, high), abs=5e-4)


def test_wilson_interval_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="outside"):
        wilson_interval(11, 10)


def test_counts_add_up() -> None:
    total = ButtonCounts(1, 2, 3, 4) + ButtonCounts().add(Button.UNHAPPY, 2)
    assert total == ButtonCounts(1, 2, 5, 4)
    assert total.total == 12
    assert total.as_dict() == {"very_happy": 1, "happy": 2, "unhappy": 5, "very_unhappy": 4}
