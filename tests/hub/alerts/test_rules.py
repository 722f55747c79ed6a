"""HappyOrNot-style rules, quiet hours and device health against hand-made counts."""

from datetime import UTC, datetime, timedelta

import pytest

from hub.alerts.health import DeviceHealth, device_verdict
from hub.alerts.rules import QuietHours, Rule, RuleKind, check_rule, window_verdict
from hub.reporting.scores import ButtonCounts
from protocol.errors import ConfigError
from protocol.messages import Button

NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
NEGATIVE = Rule(1, "gate-a", RuleKind.NEGATIVE_SHARE, 50, 15, 4)


@pytest.mark.parametrize(
    ("counts", "fires"),
    [
        (ButtonCounts(1, 1, 1, 1), True),  # 50 % of 4
        (ButtonCounts(0, 1, 0, 2), False),  # 67 % but only 3 responses
        (ButtonCounts(2, 1, 1, 0), False),  # 25 %
        (ButtonCounts(3, 2, 4, 1), True),  # 50 % of 10
        (ButtonCounts(), False),
    ],
)
def test_negative_share(counts: ButtonCounts, fires: bool) -> None:
    assert (window_verdict(NEGATIVE, counts) is not None) is fires


def test_happy_index_below_a_threshold() -> None:
    rule = Rule(2, "gate-a", RuleKind.HAPPY_INDEX, 60, 60, 5)
    # (3*1 + 2*1 + 1*1 + 0*2) / (3*5) = 40
    assert window_verdict(rule, ButtonCounts(1, 1, 1, 2)) == (
        "Happy Index 40 of 5 in the last 60 min"
    )
    assert window_verdict(rule, ButtonCounts(3, 2, 0, 0)) is None  # 87
    assert window_verdict(rule, ButtonCounts(0, 0, 0, 4)) is None  # too few


def test_count_of_one_answer() -> None:
    rule = Rule(3, "gate-a", RuleKind.ANSWER_COUNT, 3, 15, button=Button.VERY_UNHAPPY)
    assert window_verdict(rule, ButtonCounts(50, 0, 0, 2)) is None
    assert window_verdict(rule, ButtonCounts(50, 0, 0, 3)) == (
        "3 very_unhappy presses in the last 15 min"
    )


def test_quiet_hours_span_midnight_in_the_location_time() -> None:
    night = QuietHours.parse("22:00-06:00")
    # 12:00 UTC is 14:00 in Helsinki, 21:00 UTC is 23:00 there.
    assert not night.covers(NOON, "Europe/Helsinki")
    assert night.covers(NOON + timedelta(hours=9), "Europe/Helsinki")
    assert not night.covers(NOON + timedelta(hours=9), "UTC")
    assert QuietHours.parse("13:00-15:00").covers(NOON, "Europe/Helsinki")
    with pytest.raises(ConfigError):
        QuietHours.parse("25:00-06:00")


def test_nonsense_rules_are_refused() -> None:
    for rule in (
        Rule(0, "a", RuleKind.NEGATIVE_SHARE, 150, 15, 4),
        Rule(0, "a", RuleKind.NEGATIVE_SHARE, 50, 0, 4),
        Rule(0, "a", RuleKind.ANSWER_COUNT, 3, 15),
        Rule(0, "a", RuleKind.HAPPY_INDEX, 50, 15, 4, button=Button.HAPPY),
    ):
        with pytest.raises(ConfigError):
            check_rule(rule)


def test_device_health() -> None:
    kiosk = DeviceHealth("k1", "gate-a", NOON - timedelta(minutes=20), 5, -2.0)
    offline = Rule(4, "gate-a", RuleKind.DEVICE_OFFLINE, 15, 0)
    outbox = Rule(5, "gate-a", RuleKind.OUTBOX, 100, 0)
    skew = Rule(6, "gate-a", RuleKind.CLOCK_SKEW, 60, 0)
    assert device_verdict(offline, kiosk, NOON) == "kiosk k1 unseen for 20 min"
    assert device_verdict(offline, kiosk, NOON - timedelta(minutes=10)) is None
    assert device_verdict(outbox, kiosk, NOON) is None
    assert device_verdict(outbox, DeviceHealth("k1", "a", None, 250, None), NOON) is not None
    assert device_verdict(skew, kiosk, NOON) is None
    assert device_verdict(skew, DeviceHealth("k1", "a", None, None, 90.4), NOON) == (
        "kiosk k1's clock is +90 s off"
    )
