"""The simulator's schedule: travellers one at a time, misuse only where it is meant; and
its travellers' answers to the follow-ups, by the place's reasons."""

import itertools
import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.app import Kiosk
from edge.config import KioskConfig, SimulationConfig
from edge.followups import Window
from edge.panel import mock_pin_factory
from edge.recorder import MisuseWindow
from edge.simulate import (
    AIRPORT_DAY,
    GAP_MARGIN_S,
    MAX_LOAD,
    PressSimulator,
    ScheduledPress,
    SimulatedTraveller,
    burst_chance,
    press_schedule,
)
from protocol.messages import Button, FollowUp
from tests.edge.test_app import SURVEY, messages, until
from tests.edge.test_app import press as press_button
from tests.fake_mqtt import FakeMqttFactory

INTERVAL_S = 5.0
PRESSES = 20_000


def flagged(schedule: list[ScheduledPress], interval_s: float = INTERVAL_S) -> list[bool]:
    """What a kiosk's misuse window flags in the schedule."""
    window, at = MisuseWindow(interval_s), 0.0
    flags = []
    for press in schedule:
        at += press.wait_s
        flags.append(window.is_misuse(at))
    return flags


def steady(rate_per_s: float, *, share: float = 0.03, seed: int = 1) -> list[ScheduledPress]:
    schedule = press_schedule(
        random.Random(seed),
        rate_at=lambda _t: rate_per_s,
        mood_at=lambda _t: (1, 1, 1, 1),
        misuse_share=share,
        response_interval_s=INTERVAL_S,
    )
    return list(itertools.islice(schedule, PRESSES))


@pytest.mark.parametrize(
    "rate_per_s",
    [0.005, 0.1, 0.15, 10.0],
    ids=["a-quiet-hour", "the-demo", "the-old-demo", "more-than-a-kiosk-takes"],
)
def test_only_the_deliberate_repeats_are_misuse(rate_per_s: float) -> None:
    schedule = steady(rate_per_s)
    flags = flagged(schedule)
    assert flags == [press.repeat for press in schedule]
    # bursts start at ~0.77 % of 19 400 travellers (~150, sd ~12) with 4 repeats on average:
    # the share is 3 % with an sd of ~0.3 points
    assert sum(flags) / PRESSES == pytest.approx(0.03, abs=0.01)


def test_a_traveller_waits_out_the_interval_even_when_the_rate_asks_for_more() -> None:
    schedule = steady(10.0)
    travellers = [press.wait_s for press in schedule[1:] if not press.repeat]
    assert min(travellers) >= INTERVAL_S + GAP_MARGIN_S
    elapsed = sum(press.wait_s for press in schedule)
    assert PRESSES / elapsed < 1.1 * MAX_LOAD / (INTERVAL_S + GAP_MARGIN_S)


def test_the_mean_rate_is_the_one_asked_for() -> None:
    schedule = steady(0.1)
    travellers = sum(not press.repeat for press in schedule)
    elapsed = sum(press.wait_s for press in schedule)
    # 19 400 exponential waits: the mean is within 3 % with room to spare
    assert travellers / elapsed == pytest.approx(0.1, rel=0.03)


def test_no_misuse_share_no_misuse() -> None:
    assert burst_chance(0.0) == 0
    assert not any(flagged(steady(0.1, share=0.0)))


def test_the_day_shapes_the_traffic() -> None:
    """Four weeks of an airport's day at 30 presses in the peak hour: each hour of the day
    gets its share (drawn exactly for an hourly rate), within five standard deviations."""
    peak_per_s = 30 / 3600
    schedule = press_schedule(
        random.Random(3),
        rate_at=lambda t: peak_per_s * AIRPORT_DAY[int(t // 3600) % 24],
        mood_at=lambda _t: (1, 1, 1, 1),
        misuse_share=0.0,
        response_interval_s=INTERVAL_S,
    )
    per_hour = [0] * 24
    at = 0.0
    for press in schedule:
        at += press.wait_s
        if at >= 28 * 86_400:
            break
        per_hour[int(at // 3600) % 24] += 1
    for hour, weight in enumerate(AIRPORT_DAY):
        expected = 28 * 30 * weight
        assert abs(per_hour[hour] - expected) < 5 * expected**0.5 + 1, hour


def test_the_moods_weights_choose_the_buttons() -> None:
    schedule = press_schedule(
        random.Random(4),
        rate_at=lambda _t: 0.1,
        mood_at=lambda _t: (0, 0, 0, 1),
        misuse_share=0.03,
    )
    assert {press.button.value for press in itertools.islice(schedule, 500)} == {"very_unhappy"}


def test_the_kiosk_simulator_schedules_at_its_speed_without_misuse_beyond_its_share() -> None:
    config = SimulationConfig(peak_presses_per_hour=90, speed=40, seed=5, time_zone="UTC")
    simulator = PressSimulator(config, {}, response_interval_s=INTERVAL_S)
    start = datetime(2026, 12, 1, 7, tzinfo=UTC)  # the day's peak: 90 x 40 an hour, 1 a second
    schedule = list(itertools.islice(simulator.schedule(start), PRESSES))
    flags = flagged(schedule)
    assert flags == [press.repeat for press in schedule]
    assert sum(flags) / PRESSES == pytest.approx(config.misuse_share, abs=0.01)
    # a second apart: too fast for a kiosk, so the rate is capped (and no hub flags too_fast)
    assert min(p.wait_s for p in schedule[1:] if not p.repeat) >= INTERVAL_S + GAP_MARGIN_S


def test_a_simulated_traveller_answers_by_the_places_reasons(tmp_path: Path) -> None:

    config = KioskConfig.model_validate(
        {
            "device_id": "k1",
            "location_id": "washroom-b",
            "data_dir": tmp_path / "k1",
            "response_interval_s": 0,
            "mqtt": {"drain_on_stop_s": 0},
            "survey": SURVEY.model_dump(mode="json"),
            "simulation": {"answer_share": 1.0, "reasons": {"staff": 1000}, "seed": 3},
        }
    )
    kiosk = Kiosk(config, pin_factory=mock_pin_factory(), link=FakeMqttFactory())
    assert kiosk.followups is not None
    traveller = SimulatedTraveller(config.simulation, kiosk.followups)
    kiosk.start()
    traveller.start()
    try:
        press_button(kiosk, Button.UNHAPPY)
        answers = until(
            lambda: [m for m in messages(kiosk) if isinstance(m, FollowUp)], timeout_s=10
        )
    finally:
        traveller.stop()
        kiosk.stop()
    assert [(a.option, a.language) for a in answers] == [("staff", "en")]


def test_travellers_choose_in_proportion_and_some_walk_away() -> None:

    window = Window(
        press=None,  # type: ignore[arg-type]  # choose() reads the question only
        question="negative",
        survey=SURVEY,
        opened_at=0,
        closes_at=8,
        unanswered=None,  # type: ignore[arg-type]
    )
    simulation = SimulationConfig(answer_share=0.5, reasons={"queue": 3}, seed=11)

    class NoFollowUps:
        def add_listener(self, _listener: object) -> None:
            pass

    traveller = SimulatedTraveller(simulation, NoFollowUps())  # type: ignore[arg-type]
    chosen = Counter(traveller.choose(window) for _ in range(4000))
    answered = chosen["queue"] + chosen["staff"]
    assert abs(answered / 4000 - 0.5) < 0.04  # 4000 draws: a 95 % band is about ±0.016
    assert abs(chosen["queue"] / answered - 0.75) < 0.04
