"""Follow-ups after presses: which press gets one, the window's end, exactly one record each.

A fake monotonic clock and a fixed wall clock; the follow-ups' thread is not started, each
test drives `FollowUps.tick()` (one round of that thread) at the fake times it chooses.
"""

import contextlib
import random
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from edge.followups import (
    FollowUps,
    InvalidAnswerError,
    Window,
    WindowClosedError,
    question_after,
)
from edge.outbox import Outbox
from protocol.messages import Button, FollowUp, PressEvent, decode_kiosk_message
from protocol.surveys import Survey
from tests.protocol.test_surveys import survey as survey_document

WALL = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def make_survey(**changes: Any) -> Survey:
    return Survey.model_validate(survey_document(**changes))


SURVEY = make_survey(answer_s=8)  # a negative follow-up (queue, staff), no positive one


class FakeClock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.sqlite3")
    yield box
    box.close()


@pytest.fixture
def followups(outbox: Outbox, clock: FakeClock) -> FollowUps:
    return FollowUps(outbox, survey=SURVEY, clock=clock, now=lambda: WALL)


SEQ = iter(range(1, 10**6))


def press(
    button: Button = Button.UNHAPPY, *, misuse: bool = False, survey: Survey | None = SURVEY
) -> PressEvent:
    seq = next(SEQ)
    return PressEvent(
        event_id=f"press-{seq}",
        device_id="k-1",
        location_id="gate-a",
        seq=seq,
        occurred_at=WALL,
        button=button,
        misuse=misuse,
        survey_id=survey.survey_id if survey else None,
        survey_version=survey.version if survey else None,
    )


def recorded(outbox: Outbox) -> list[FollowUp]:
    """The follow-ups in the outbox, in its order."""
    rows = outbox.pending(after_position=0, limit=1000)
    found = [decode_kiosk_message(row.payload) for row in rows if row.kind == "followup"]
    assert all(isinstance(f, FollowUp) for f in found)
    return [f for f in found if isinstance(f, FollowUp)]


def test_an_answered_window_records_the_choice_once(
    followups: FollowUps, outbox: Outbox, clock: FakeClock
) -> None:
    event = press(Button.VERY_UNHAPPY)
    window = followups.pressed(event)
    assert window is not None and window.question == "negative"
    assert [o.key for o in window.follow_up.options] == ["queue", "staff"]
    assert followups.current() == window
    clock.advance(3)
    answer = followups.answer(event.event_id, "queue", "fa")
    assert followups.current() is None
    followups.tick()
    clock.advance(60)
    followups.tick()  # the window's end passes: nothing more is recorded
    (followup,) = recorded(outbox)
    assert followup == answer
    assert (followup.event_id, followup.question, followup.option) == (
        event.event_id,
        "negative",
        "queue",
    )
    assert (followup.survey_id, followup.survey_version, followup.language) == ("security", 3, "fa")
    assert (followup.device_id, followup.location_id) == ("k-1", "gate-a")
    with pytest.raises(WindowClosedError):
        followups.answer(event.event_id, "staff")


def test_an_unanswered_window_records_none_when_its_time_is_up(
    followups: FollowUps, outbox: Outbox, clock: FakeClock
) -> None:
    event = press()
    followups.pressed(event)
    assert followups.tick() == pytest.approx(8)  # the thread sleeps until the window's end
    clock.advance(7.9)
    followups.tick()
    assert recorded(outbox) == []
    clock.advance(0.1)
    followups.tick()
    (followup,) = recorded(outbox)
    assert (followup.event_id, followup.option, followup.language) == (event.event_id, None, None)
    assert followup.answered_at == WALL + timedelta(seconds=8)  # the window's end, not the tick
    with pytest.raises(WindowClosedError):
        followups.answer(event.event_id, "queue")


def test_an_answer_after_the_time_is_up_is_refused_and_none_recorded(
    followups: FollowUps, outbox: Outbox, clock: FakeClock
) -> None:
    event = press()
    followups.pressed(event)
    clock.advance(8)
    with pytest.raises(WindowClosedError):
        followups.answer(event.event_id, "queue")
    followups.tick()
    assert [f.option for f in recorded(outbox)] == [None]


def test_a_press_during_an_open_window_closes_it_unanswered_and_opens_its_own(
    followups: FollowUps, outbox: Outbox, clock: FakeClock
) -> None:
    first, second = press(), press(Button.VERY_UNHAPPY)
    followups.pressed(first)
    clock.advance(2)
    window = followups.pressed(second)
    assert window is not None and window.event_id == second.event_id
    with pytest.raises(WindowClosedError):
        followups.answer(first.event_id, "queue")
    followups.answer(second.event_id, "staff")
    followups.tick()
    assert [(f.event_id, f.option) for f in recorded(outbox)] == [
        (first.event_id, None),
        (second.event_id, "staff"),
    ]


@pytest.mark.parametrize(
    ("event", "why"),
    [
        (press(misuse=True), "a misuse press"),
        (press(survey=None), "a press without a survey"),
        (press(Button.HAPPY), "no positive follow-up in the survey"),
        (press(Button.VERY_HAPPY), "no positive follow-up in the survey"),
        (press(survey=make_survey(version=2)), "recorded under another version"),
    ],
)
def test_these_presses_get_no_follow_up(
    followups: FollowUps, outbox: Outbox, clock: FakeClock, event: PressEvent, why: str
) -> None:
    assert followups.pressed(event) is None, why
    clock.advance(60)
    followups.tick()
    assert recorded(outbox) == []


def test_a_misuse_press_still_closes_the_open_window(
    followups: FollowUps, outbox: Outbox, clock: FakeClock
) -> None:
    first = press()
    followups.pressed(first)
    assert followups.pressed(press(misuse=True)) is None
    assert followups.current() is None
    followups.tick()
    assert [(f.event_id, f.option) for f in recorded(outbox)] == [(first.event_id, None)]


def test_without_a_survey_nothing_is_asked(outbox: Outbox, clock: FakeClock) -> None:
    followups = FollowUps(outbox, clock=clock, now=lambda: WALL)
    assert followups.pressed(press()) is None
    assert followups.pressed(press(survey=None)) is None


def test_a_positive_follow_up_follows_happy_presses_only() -> None:
    document = survey_document()
    document["positive"] = {
        "text": {"en": "What went well?", "fa": "چه چیزی خوب بود؟"},
        "options": [
            {"key": "fast", "text": {"en": "Fast", "fa": "سریع"}},
            {"key": "kind", "text": {"en": "Kind staff", "fa": "کارکنان مهربان"}},
        ],
    }
    both = Survey.model_validate(document)
    questions = {b: question_after(press(b, survey=both), both) for b in Button}
    assert questions == {
        Button.VERY_HAPPY: "positive",
        Button.HAPPY: "positive",
        Button.UNHAPPY: "negative",
        Button.VERY_UNHAPPY: "negative",
    }


def test_an_unknown_option_or_language_is_refused_and_the_window_stays_open(
    followups: FollowUps, outbox: Outbox
) -> None:
    event = press()
    followups.pressed(event)
    with pytest.raises(InvalidAnswerError, match="option 'price'"):
        followups.answer(event.event_id, "price")
    with pytest.raises(InvalidAnswerError, match="language 'de'"):
        followups.answer(event.event_id, "queue", "de")
    assert followups.current() is not None
    followups.answer(event.event_id, "queue", "en")
    followups.tick()
    assert [f.option for f in recorded(outbox)] == ["queue"]


def test_a_traveller_who_leaves_the_question_closes_it_unanswered_at_once(
    followups: FollowUps, outbox: Outbox
) -> None:
    event = press()
    followups.pressed(event)
    followups.answer(event.event_id, None, "fa")
    assert followups.current() is None
    followups.tick()
    assert [(f.option, f.language) for f in recorded(outbox)] == [(None, "fa")]


def test_a_new_survey_applies_to_the_next_press_an_open_window_keeps_its_own(
    followups: FollowUps, outbox: Outbox
) -> None:
    first = press()
    followups.pressed(first)
    newer = make_survey(version=4)
    followups.ask(newer)
    followups.answer(first.event_id, "staff")
    second = followups.pressed(press(survey=newer))
    assert second is not None and second.survey == newer
    followups.ask(None)
    assert followups.current() == second  # still open, on its own survey
    followups.answer(second.event_id, "queue")
    followups.tick()
    assert [f.survey_version for f in recorded(outbox)] == [3, 4]
    assert followups.pressed(press(survey=None)) is None


def test_every_eligible_press_gets_exactly_one_follow_up(
    followups: FollowUps, outbox: Outbox, clock: FakeClock
) -> None:
    rng = random.Random(15)
    eligible: list[str] = []
    for _ in range(300):
        event = press(rng.choice(list(Button)), misuse=rng.random() < 0.1)
        if followups.pressed(event) is not None:
            eligible.append(event.event_id)
        clock.advance(rng.uniform(0, 12))
        if rng.random() < 0.4:
            option = rng.choice(["queue", "staff", None])
            if followups.current() is None:
                with pytest.raises(WindowClosedError):
                    followups.answer(event.event_id, option)
            else:
                followups.answer(event.event_id, option)
        if rng.random() < 0.5:
            followups.tick()
    followups.stop()  # the last window closes unanswered
    followups_recorded = recorded(outbox)
    assert len(eligible) > 50
    assert [f.event_id for f in followups_recorded] == eligible
    assert len({f.followup_id for f in followups_recorded}) == len(eligible)


def test_answers_racing_from_many_threads_record_one_choice(
    followups: FollowUps, outbox: Outbox
) -> None:
    event = press()
    followups.pressed(event)
    taken: list[str] = []
    start = threading.Barrier(8)

    def tap(option: str) -> None:
        start.wait()
        with contextlib.suppress(WindowClosedError):
            taken.append(followups.answer(event.event_id, option).option or "")

    threads = [threading.Thread(target=tap, args=(o,)) for o in ["queue", "staff"] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    followups.tick()
    assert len(taken) == 1
    assert [f.option for f in recorded(outbox)] == taken


def test_a_refusing_disk_keeps_the_follow_up_and_retries(
    followups: FollowUps, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures = iter([sqlite3.OperationalError("disk I/O error")] * 2)
    real_append = outbox.append_followup

    def flaky(followup: FollowUp) -> None:
        if (failure := next(failures, None)) is not None:
            raise failure
        real_append(followup)

    monkeypatch.setattr(outbox, "append_followup", flaky)
    event = press()
    followups.pressed(event)
    followups.answer(event.event_id, "queue")
    assert followups.tick() == pytest.approx(0.2)  # retry soon
    assert followups.tick() == pytest.approx(0.4)  # backing off
    assert followups.pending() == 1
    followups.tick()
    assert followups.pending() == 0
    assert [f.option for f in recorded(outbox)] == ["queue"]


def test_a_follow_up_committed_by_an_earlier_attempt_is_not_written_twice(
    followups: FollowUps, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_append = outbox.append_followup

    def commit_then_fail(followup: FollowUp) -> None:
        real_append(followup)
        raise sqlite3.IntegrityError("UNIQUE constraint failed: outbox.message_id")

    monkeypatch.setattr(outbox, "append_followup", commit_then_fail)
    event = press()
    followups.pressed(event)
    followups.answer(event.event_id, "queue")
    followups.tick()
    assert followups.pending() == 0
    assert len(recorded(outbox)) == 1


def test_listeners_hear_of_windows_and_records_and_a_failing_one_changes_nothing(
    outbox: Outbox, clock: FakeClock
) -> None:
    written: list[FollowUp] = []
    followups = FollowUps(
        outbox, survey=SURVEY, on_recorded=written.append, clock=clock, now=lambda: WALL
    )
    opened: list[Window] = []

    def broken(_window: Window) -> None:
        raise RuntimeError("the page crashed")

    followups.add_listener(broken)
    followups.add_listener(opened.append)
    event = press()
    followups.pressed(event)
    assert [w.event_id for w in opened] == [event.event_id]
    followups.answer(event.event_id, "staff")
    followups.tick()
    assert [f.option for f in written] == ["staff"]


def test_stop_closes_an_open_window_unanswered_and_writes_it(
    followups: FollowUps, outbox: Outbox
) -> None:
    event = press()
    followups.pressed(event)
    followups.start()
    followups.stop()
    assert [(f.event_id, f.option) for f in recorded(outbox)] == [(event.event_id, None)]


def test_the_thread_closes_a_window_on_time(outbox: Outbox) -> None:
    """Real time: a short window, the real thread."""
    followups = FollowUps(outbox, survey=make_survey(answer_s=2))
    followups.start()
    try:
        event = press(survey=make_survey(answer_s=2))
        followups.pressed(event)
        deadline = threading.Event()
        for _ in range(60):
            if recorded(outbox):
                break
            deadline.wait(0.1)
    finally:
        followups.stop()
    assert [(f.event_id, f.option) for f in recorded(outbox)] == [(event.event_id, None)]


def test_a_kiosk_that_dies_with_a_window_open_records_it_unanswered_at_its_next_start(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "outbox.sqlite3"
    first = Outbox(path)
    event = press()
    window = FollowUps(first, survey=SURVEY, clock=clock, now=lambda: WALL).pressed(event)
    assert window is not None
    first.close()  # the power goes: no stop, no tick

    reopened = Outbox(path)
    FollowUps(reopened, survey=SURVEY, clock=clock, now=lambda: WALL).tick()
    (followup,) = recorded(reopened)
    assert followup == window.unanswered
    assert (followup.event_id, followup.option) == (event.event_id, None)
    assert followup.answered_at == WALL + timedelta(seconds=8)
    assert reopened.held_followups() == []
    reopened.close()

    again = Outbox(path)  # and only once
    FollowUps(again, survey=SURVEY, clock=clock, now=lambda: WALL).tick()
    assert len(recorded(again)) == 1
    again.close()


def test_an_answer_replaces_the_held_follow_up_under_its_id(
    followups: FollowUps, outbox: Outbox
) -> None:
    event = press()
    window = followups.pressed(event)
    assert window is not None
    assert outbox.held_followups() == [window.unanswered]
    answer = followups.answer(event.event_id, "staff")
    assert answer.followup_id == window.unanswered.followup_id
    followups.tick()
    assert outbox.held_followups() == []
    assert recorded(outbox) == [answer]


def test_a_window_opens_even_when_it_cannot_be_held(
    followups: FollowUps, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(_followup: FollowUp) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(outbox, "hold_followup", refuse)
    event = press()
    assert followups.pressed(event) is not None
    followups.answer(event.event_id, "queue")
    followups.tick()
    assert [f.option for f in recorded(outbox)] == ["queue"]
