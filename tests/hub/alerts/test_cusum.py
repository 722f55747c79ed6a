"""The Bernoulli CUSUM against sequences whose answers are worked out by hand."""

import math

import pytest

from hub.alerts.cusum import FALLBACK_P0, Baseline, Cusum, CusumParams, HourCounts

# p0 = 0.2, odds ratio 2: p1 = 0.4 / 1.2 = 1/3;
# an unhappy press adds ln((1/3) / 0.2) = ln(5/3) = 0.5108, a happy one ln((2/3) / 0.8) = -0.1823.
P0 = 0.2
UP = math.log(5 / 3)
DOWN = math.log(5 / 6)


def test_the_shift_and_increments_follow_the_odds_ratio() -> None:
    params = CusumParams()
    assert params.shifted(P0) == pytest.approx(1 / 3)
    assert params.increment(True, P0) == pytest.approx(UP)
    assert params.increment(False, P0) == pytest.approx(DOWN)


def test_eight_unhappy_in_a_row_reach_h_4() -> None:
    # 7 * 0.5108 = 3.58 < 4 <= 8 * 0.5108 = 4.09
    assert Cusum().run([(True, P0)] * 8) == [7]


def test_it_resets_after_firing_and_needs_as_much_evidence_again() -> None:
    assert Cusum().run([(True, P0)] * 16) == [7, 15]


def test_happy_presses_keep_it_at_zero() -> None:
    chart = Cusum()
    assert chart.run([(False, P0)] * 1000) == []
    assert chart.statistic == 0.0


def test_alternating_answers_climb_by_a_pair_at_a_time() -> None:
    # After the k-th unhappy press S = (k - 1)(UP + DOWN) + UP = 0.3285 (k - 1) + 0.5108,
    # which first reaches 4 at k = 12: the 23rd press, index 22.
    presses = [(i % 2 == 0, P0) for i in range(40)]
    assert Cusum().run(presses) == [22]


def test_a_share_at_its_baseline_is_not_an_alarm() -> None:
    # One unhappy in five is p0 itself: the drift is negative, the chart stays quiet.
    presses = [(i % 5 == 0, P0) for i in range(5000)]
    assert Cusum().run(presses) == []


def test_a_high_baseline_needs_more_unhappy_presses() -> None:
    # p0 = 0.5: p1 = 2/3, an unhappy press adds ln(4/3) = 0.2877; 14 of them reach 4.03.
    assert Cusum().run([(True, 0.5)] * 14) == [13]


def test_a_thin_baseline_leans_on_the_prior() -> None:
    assert Baseline.from_history({}).p0 == (FALLBACK_P0,) * 168
    # One hour seen: 10 unhappy of 100. Prior = (10 + 20 * 0.2) / 120 = 0.11667;
    # that hour: (10 + 20 * 0.11667) / 120 = 0.10278; every other hour the prior.
    baseline = Baseline.from_history({5: HourCounts(unhappy=10, total=100)}, prior_strength=20)
    assert baseline.at(5) == pytest.approx(0.10278, abs=1e-5)
    assert baseline.at(6) == pytest.approx(0.11667, abs=1e-5)
    assert baseline.at(5 + 168) == baseline.at(5)


def test_p0_is_held_off_zero_and_one() -> None:
    spotless = Baseline.from_history({0: HourCounts(0, 100_000)}, prior_strength=1)
    assert spotless.at(0) == 0.02
