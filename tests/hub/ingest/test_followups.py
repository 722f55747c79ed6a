"""Follow-ups on the events topic: stored once, acknowledged with presses, linked to their
press whichever arrives first, refused when they cannot answer it."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hub.hierarchy import LocationTree
from hub.ingest import store
from hub.ingest.pipeline import Inbound, Ingestor, IngestPolicy
from hub.models import DeadLetter, FollowUpAnswer
from hub.reporting.reasons import Reasons, reasons
from hub.rollups.buckets import Period
from protocol.ids import uuid7
from protocol.messages import Ack, Button, FollowUp, PressEvent, Rejection, decode_ack, encode
from protocol.surveys import Question
from protocol.topics import Topics
from tests.hub.factories import press

TOPICS = Topics("seed")
NOW = datetime.now(UTC).replace(microsecond=0)


def answer(
    of: PressEvent,
    option: str | None = "queue",
    *,
    question: Question | None = None,
    after_s: float = 5,
    version: int = 1,
) -> FollowUp:
    negative = of.button in (Button.UNHAPPY, Button.VERY_UNHAPPY)
    return FollowUp(
        followup_id=str(uuid7()),
        event_id=of.event_id,
        device_id=of.device_id,
        location_id=of.location_id,
        survey_id="security",
        survey_version=version,
        question=question or ("negative" if negative else "positive"),
        option=option,
        language="en",
        answered_at=of.occurred_at + timedelta(seconds=after_s),
    )


def asked(button: Button, *, at: datetime, seq: int = 1, **changes: object) -> PressEvent:
    return press(button, at=at, seq=seq).model_copy(
        update={"survey_id": "security", "survey_version": 1, **changes}
    )


def inbound(message: PressEvent | FollowUp) -> Inbound:
    return Inbound(f"seed/devices/{message.device_id}/events", encode(message), NOW)


@pytest.fixture
def ingestor(sessions: sessionmaker[Session]) -> Ingestor:
    with sessions.begin() as session:
        store.add_location(session, location_id="gate-a", name="Gate A", time_zone="UTC")
    return Ingestor(sessions, TOPICS, IngestPolicy())


def ack_of(ingestor: Ingestor, *messages: PressEvent | FollowUp) -> Ack:
    acks = [decode_ack(a.payload) for a in ingestor.process([inbound(m) for m in messages])]
    assert len(acks) == 1
    return acks[0].model_copy(update={"hub_time": None})


def reasons_at(
    sessions: sessionmaker[Session], location_id: str = "gate-a", days: float = 3
) -> Reasons:
    with sessions() as session:
        tree = LocationTree.load(session)
        period = Period(NOW - timedelta(days=days), NOW + timedelta(minutes=1))
        return reasons(session, tree=tree, location_id=location_id, period=period)


def stored_followups(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(FollowUpAnswer)) or 0)


def test_a_follow_up_is_stored_once_and_acknowledged_with_its_press(
    ingestor: Ingestor, sessions: sessionmaker[Session]
) -> None:
    pressed = asked(Button.UNHAPPY, at=NOW - timedelta(minutes=5))
    chosen = answer(pressed)
    ack = ack_of(ingestor, pressed, chosen, chosen)
    assert ack == Ack(stored=[pressed.event_id, chosen.followup_id])
    assert ack_of(ingestor, chosen) == Ack(stored=[chosen.followup_id])  # a resend: acked again
    assert stored_followups(sessions) == 1
    assert ingestor.stats.followups == 1
    with sessions() as session:
        row = session.get(FollowUpAnswer, chosen.followup_id)
        assert row is not None
        assert (row.event_id, row.question, row.option, row.survey_version) == (
            pressed.event_id,
            "negative",
            "queue",
            1,
        )
    negative = reasons_at(sessions).negative
    assert (negative.presses, negative.followups, negative.answered) == (1, 1, 1)


def test_a_follow_up_arriving_before_its_press_is_kept_and_counted_once_it_comes(
    ingestor: Ingestor, sessions: sessionmaker[Session]
) -> None:
    pressed = asked(Button.VERY_UNHAPPY, at=NOW - timedelta(minutes=5))
    chosen = answer(pressed, "staff")
    assert ack_of(ingestor, chosen) == Ack(stored=[chosen.followup_id])
    assert reasons_at(sessions).negative.followups == 0  # no press yet: nothing to count
    assert ack_of(ingestor, pressed) == Ack(stored=[pressed.event_id])
    negative = reasons_at(sessions).negative
    assert (negative.followups, negative.answered, negative.top) == (1, 1, ["staff"])


def test_a_follow_up_of_a_refused_press_stays_unlinked_and_uncounted(
    ingestor: Ingestor, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        store.add_location(session, location_id="gate-a", name="Gate A", time_zone="UTC")
        store.add_location(session, location_id="gate-b", name="Gate B", time_zone="UTC")
        store.register_device(session, device_id="k1", location_id="gate-a")
    pressed = asked(Button.UNHAPPY, at=NOW - timedelta(minutes=5), location_id="gate-b")
    chosen = answer(pressed).model_copy(update={"location_id": "gate-a"})
    ack = ack_of(ingestor, pressed, chosen)
    assert ack.rejected == [Rejection(event_id=pressed.event_id, reason="location_mismatch")]
    assert ack.stored == [chosen.followup_id]
    assert stored_followups(sessions) == 1
    for location_id in ("gate-a", "gate-b"):
        assert reasons_at(sessions, location_id).negative.followups == 0


def test_a_follow_up_that_does_not_answer_its_press_is_refused(
    ingestor: Ingestor, sessions: sessionmaker[Session]
) -> None:
    pressed = asked(Button.HAPPY, at=NOW - timedelta(minutes=5))
    wrong_question = answer(pressed, question="negative")
    other_version = answer(pressed, "fast", version=2)
    ack = ack_of(ingestor, pressed, wrong_question, other_version)
    assert ack.stored == [pressed.event_id]
    assert ack.rejected == [
        Rejection(event_id=wrong_question.followup_id, reason="followup_mismatch"),
        Rejection(event_id=other_version.followup_id, reason="followup_mismatch"),
    ]
    with sessions() as session:
        reasons_given = set(session.scalars(select(DeadLetter.reason)))
    assert reasons_given == {"followup_mismatch"}
    assert stored_followups(sessions) == 0


def test_a_follow_up_stored_first_with_the_wrong_question_is_never_counted(
    ingestor: Ingestor, sessions: sessionmaker[Session]
) -> None:
    pressed = asked(Button.HAPPY, at=NOW - timedelta(minutes=5))
    ack_of(ingestor, answer(pressed, question="negative"))
    ack_of(ingestor, pressed)
    found = reasons_at(sessions)
    assert found.negative.followups == found.positive.followups == 0


def test_several_answers_to_one_press_count_once_the_latest(
    ingestor: Ingestor, sessions: sessionmaker[Session]
) -> None:
    pressed = asked(Button.UNHAPPY, at=NOW - timedelta(minutes=5))
    first, second = answer(pressed, "queue", after_s=3), answer(pressed, "staff", after_s=6)
    ack_of(ingestor, second, pressed, first)
    assert stored_followups(sessions) == 2
    negative = reasons_at(sessions).negative
    assert (negative.followups, negative.answered, negative.top) == (1, 1, ["staff"])


def test_a_follow_up_of_a_misused_press_is_kept_out_of_reasons(
    ingestor: Ingestor, sessions: sessionmaker[Session]
) -> None:
    pressed = asked(Button.UNHAPPY, at=NOW - timedelta(minutes=5), misuse=True)
    ack_of(ingestor, pressed, answer(pressed))
    assert stored_followups(sessions) == 1
    negative = reasons_at(sessions).negative
    assert (negative.presses, negative.followups) == (0, 0)


def test_a_follow_up_from_a_kiosk_s_broken_clock_is_kept_by_the_kiosk(
    ingestor: Ingestor, sessions: sessionmaker[Session]
) -> None:
    pressed = asked(Button.UNHAPPY, at=NOW - timedelta(minutes=5))
    in_1970 = answer(pressed).model_copy(update={"answered_at": datetime(1970, 1, 1, tzinfo=UTC)})
    acks = ingestor.process([inbound(in_1970)])
    assert acks == []  # neither stored nor refused: the kiosk sends it again, its clock set
    with sessions() as session:
        assert list(session.scalars(select(DeadLetter.reason))) == ["impossible_timestamp"]


def test_a_kiosk_offline_for_a_day_sends_its_presses_and_follow_ups_in_one_batch(
    ingestor: Ingestor, sessions: sessionmaker[Session]
) -> None:
    """A day of presses, every third answered, one shown and left, their follow-ups queued in
    the outbox among them (some before their press, as two outbox rows may be sent)."""
    # Noon two days back to 11:45 the next day: two local days whatever the time of the run.
    start = (NOW - timedelta(days=2)).replace(hour=12, minute=0, second=0)
    presses = [
        asked(
            Button.UNHAPPY if i % 2 else Button.HAPPY,
            at=start + timedelta(minutes=15 * i),
            seq=i + 1,
        )
        for i in range(96)
    ]
    answers = []
    for i, pressed in enumerate(presses):
        if i % 3 == 0:
            negative = pressed.button is Button.UNHAPPY
            option = None if i == 0 else ("queue" if negative else "fast")
            answers.append(answer(pressed, option))
    messages: list[PressEvent | FollowUp] = []
    for i, pressed in enumerate(presses):
        followup = [a for a in answers if a.event_id == pressed.event_id]
        messages.extend([*followup, pressed] if i % 2 else [pressed, *followup])
    ack = ack_of(ingestor, *messages)
    assert len(ack.stored) == len(presses) + len(answers) and ack.rejected == []
    again = ack_of(ingestor, *messages)  # the ack was lost: all of it once more
    assert sorted(again.stored) == sorted(ack.stored)
    assert stored_followups(sessions) == len(answers) == 32
    found = reasons_at(sessions)
    assert found.negative.presses == found.positive.presses == 48
    assert found.negative.followups + found.positive.followups == 32
    assert found.positive.unanswered == 1  # the press at i = 0 was happy
    assert sum(point.answered for point in found.negative.trend) == found.negative.answered
    assert len(found.negative.trend) == 2


@pytest.fixture
def make(sessions: sessionmaker[Session]) -> Callable[..., Ingestor]:
    def build(**policy: object) -> Ingestor:
        return Ingestor(sessions, TOPICS, IngestPolicy(**policy))  # type: ignore[arg-type]

    return build


def test_a_revoked_kiosk_s_follow_ups_are_dead_lettered_unacknowledged(
    make: Callable[..., Ingestor], sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        store.add_location(session, location_id="gate-a", name="Gate A", time_zone="UTC")
        device = store.register_device(session, device_id="k1", location_id="gate-a")
        device.revoked_at = NOW
    pressed = asked(Button.UNHAPPY, at=NOW - timedelta(minutes=5))
    assert make().process([inbound(answer(pressed))]) == []
    assert stored_followups(sessions) == 0


def test_an_invalid_follow_up_is_refused_by_its_own_id_never_its_press_s(
    ingestor: Ingestor, sessions: sessionmaker[Session]
) -> None:
    """The kiosk drops what the hub refuses: a refusal naming the press would lose it."""
    pressed = asked(Button.UNHAPPY, at=NOW - timedelta(minutes=5))
    chosen = answer(pressed)
    document = json.loads(encode(chosen))
    document["question"] = "maybe"
    broken = Inbound("seed/devices/k1/events", json.dumps(document).encode(), NOW)
    [ack] = [decode_ack(a.payload) for a in ingestor.process([broken, inbound(pressed)])]
    assert ack.stored == [pressed.event_id]
    assert [r.event_id for r in ack.rejected] == [chosen.followup_id]
    # one the store refused, dead-lettered alone after the batch was narrowed down to it
    [alone] = [decode_ack(a.payload) for a in ingestor.dead_letter(inbound(chosen), "x", "y")]
    assert [r.event_id for r in alone.rejected] == [chosen.followup_id]
