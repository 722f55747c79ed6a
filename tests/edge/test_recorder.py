"""Press recording: misuse flagging, numbering, outbox commit, the recorder thread."""

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.outbox import Outbox
from edge.recorder import MisuseWindow, Press, PressRecorder
from protocol.messages import Button, PressEvent, decode_event
from protocol.surveys import Survey
from tests.protocol.test_surveys import survey as survey_document

WALL = datetime(2024, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def outbox_path(tmp_path: Path) -> Path:
    return tmp_path / "outbox.sqlite3"


@pytest.fixture
def outbox(outbox_path: Path) -> Iterator[Outbox]:
    box = Outbox(outbox_path)
    yield box
    box.close()


def recorder_on(
    outbox: Outbox, recorded: list[PressEvent] | None = None, interval_s: float = 5
) -> PressRecorder:
    sink = recorded if recorded is not None else []
    return PressRecorder(
        device_id="k-1",
        location_id="loc",
        response_interval_s=interval_s,
        outbox=outbox,
        on_recorded=sink.append,
    )


# --- MisuseWindow -----------------------------------------------------------------------


def test_misuse_window_flags_presses_within_the_interval_of_the_previous_press() -> None:
    window = MisuseWindow(5)

    flags = [window.is_misuse(t) for t in (0, 3, 9, 13)]

    assert flags == [False, True, False, True]


def test_a_press_exactly_the_interval_after_the_previous_one_is_not_misuse() -> None:
    window = MisuseWindow(5)
    window.is_misuse(100.0)

    assert window.is_misuse(105.0) is False


def test_misuse_is_measured_from_the_previous_press_even_a_misused_one() -> None:
    window = MisuseWindow(5)

    assert [window.is_misuse(t) for t in (0, 4, 8, 12)] == [False, True, True, True]


def test_interval_zero_never_flags() -> None:
    window = MisuseWindow(0)

    assert [window.is_misuse(t) for t in (0, 0, 0.001, 0.002)] == [False] * 4


# --- PressRecorder.record ---------------------------------------------------------------


def test_record_numbers_events_from_one(outbox: Outbox) -> None:
    recorder = recorder_on(outbox)

    events = [recorder.record(Press(Button.HAPPY, t, WALL)) for t in (0, 10, 20)]

    assert [e.seq for e in events] == [1, 2, 3]


def test_record_fills_the_event_from_the_press(outbox: Outbox) -> None:
    recorder = recorder_on(outbox)

    event = recorder.record(Press(Button.VERY_UNHAPPY, 0, WALL))

    assert (event.device_id, event.location_id) == ("k-1", "loc")
    assert event.button is Button.VERY_UNHAPPY
    assert event.occurred_at == WALL
    assert uuid.UUID(event.event_id).version == 7


def test_record_flags_misuse_with_the_response_interval(outbox: Outbox) -> None:
    recorder = recorder_on(outbox, interval_s=5)

    events = [recorder.record(Press(Button.HAPPY, t, WALL)) for t in (0, 3, 9)]

    assert [e.misuse for e in events] == [False, True, False]


def test_record_commits_to_the_outbox_before_returning(outbox: Outbox) -> None:
    recorder = recorder_on(outbox)

    event = recorder.record(Press(Button.HAPPY, 0, WALL))

    (row,) = outbox.pending(after_position=0, limit=10)
    assert row.message_id == event.event_id
    assert decode_event(row.payload) == event


def test_event_ids_are_unique(outbox: Outbox) -> None:
    recorder = recorder_on(outbox)

    events = [recorder.record(Press(Button.HAPPY, t, WALL)) for t in range(50)]

    assert len({e.event_id for e in events}) == 50


def test_a_new_recorder_on_a_reopened_outbox_continues_the_sequence(outbox_path: Path) -> None:
    first = Outbox(outbox_path)
    for t in (0, 10):
        recorder_on(first).record(Press(Button.HAPPY, t, WALL))
    first.remove([row.message_id for row in first.pending(after_position=0, limit=10)])
    first.close()

    reopened = Outbox(outbox_path)
    try:
        event = recorder_on(reopened).record(Press(Button.HAPPY, 20, WALL))
    finally:
        reopened.close()

    assert event.seq == 3


# --- PressRecorder thread ---------------------------------------------------------------


def test_submitted_presses_are_recorded_in_order_by_stop(outbox: Outbox) -> None:
    recorded: list[PressEvent] = []
    recorder = recorder_on(outbox, recorded)
    buttons = [Button.HAPPY, Button.UNHAPPY, Button.VERY_HAPPY, Button.VERY_UNHAPPY]

    recorder.start()
    for i, button in enumerate(buttons):
        recorder.submit(button, monotonic_s=i * 10.0)
    recorder.stop()

    assert [e.button for e in recorded] == buttons
    assert [e.seq for e in recorded] == [1, 2, 3, 4]
    assert [row.position for row in outbox.pending(after_position=0, limit=10)] == [1, 2, 3, 4]


def test_on_recorded_is_called_on_the_recorder_thread(outbox: Outbox) -> None:
    threads: list[threading.Thread] = []
    recorder = PressRecorder(
        device_id="k-1",
        location_id="loc",
        response_interval_s=5,
        outbox=outbox,
        on_recorded=lambda _: threads.append(threading.current_thread()),
    )

    recorder.start()
    recorder.submit(Button.HAPPY, monotonic_s=0.0)
    recorder.submit(Button.HAPPY, monotonic_s=10.0)
    recorder.stop()

    assert len(threads) == 2
    assert all(t.name == "press-recorder" for t in threads)


def test_presses_submitted_before_start_are_recorded(outbox: Outbox) -> None:
    recorded: list[PressEvent] = []
    recorder = recorder_on(outbox, recorded)

    recorder.submit(Button.HAPPY, monotonic_s=0.0)
    recorder.submit(Button.HAPPY, monotonic_s=1.0)
    recorder.start()
    recorder.stop()

    assert [(e.seq, e.misuse) for e in recorded] == [(1, False), (2, True)]


def test_submit_stamps_the_wall_time_in_utc(outbox: Outbox) -> None:
    recorded: list[PressEvent] = []
    recorder = recorder_on(outbox, recorded)
    before = datetime.now(UTC)

    recorder.start()
    recorder.submit(Button.HAPPY, monotonic_s=0.0)
    recorder.stop()

    (event,) = recorded
    assert before <= event.occurred_at <= datetime.now(UTC)
    assert event.occurred_at.tzinfo == UTC


def test_a_refusing_disk_delays_a_press_but_does_not_lose_it(
    outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures = iter([sqlite3.OperationalError("disk I/O error")] * 2)
    real_append = outbox.append

    def flaky_append(event: PressEvent) -> None:
        if (failure := next(failures, None)) is not None:
            raise failure
        real_append(event)

    monkeypatch.setattr(outbox, "append", flaky_append)  # fault injection on the real outbox
    monkeypatch.setattr("edge.recorder.RETRY_FIRST_S", 0.01)
    recorder = recorder_on(outbox)
    first = recorder.record(Press(Button.HAPPY, 0.0, WALL))
    second = recorder.record(Press(Button.UNHAPPY, 10.0, WALL))
    assert (first.seq, second.seq) == (1, 2)
    assert [row.message_id for row in outbox.pending(after_position=0, limit=10)] == [
        first.event_id,
        second.event_id,
    ]


# --- surveys and listeners --------------------------------------------------------------


def test_each_press_records_the_survey_in_force_at_the_press(outbox: Outbox) -> None:
    first = Survey.model_validate(survey_document(version=3))
    recorder = PressRecorder(
        device_id="k-1",
        location_id="loc",
        response_interval_s=5,
        outbox=outbox,
        on_recorded=lambda _: None,
        survey=first,
    )
    before = recorder.record(Press(Button.UNHAPPY, 0, WALL))
    recorder.ask(first.model_copy(update={"version": 4}))
    after = recorder.record(Press(Button.HAPPY, 10, WALL))
    recorder.ask(None)
    buttons_only = recorder.record(Press(Button.HAPPY, 20, WALL))

    assert [(e.survey_id, e.survey_version) for e in (before, after)] == [
        ("security", 3),
        ("security", 4),
    ]
    assert (buttons_only.survey_id, buttons_only.survey_version) == (None, None)
    (row, *_) = outbox.pending(after_position=0, limit=10)
    assert decode_event(row.payload).survey_version == 3


def test_a_failing_listener_never_stops_the_buttons(
    outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    recorded: list[PressEvent] = []
    recorder = recorder_on(outbox, recorded)

    def follow_up(_event: PressEvent) -> None:
        raise RuntimeError("the follow-up seam is broken")

    recorder.add_listener(follow_up)
    recorder.start()
    for t in (0.0, 10.0, 20.0):
        recorder.submit(Button.UNHAPPY, monotonic_s=t)
    recorder.stop()

    assert [e.seq for e in recorded] == [1, 2, 3]
    assert outbox.depth() == 3
    assert caplog.text.count("a listener failed; recording goes on") == 3
