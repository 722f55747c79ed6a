"""Phone responses enter the kiosks' store and rollups with their channel, once each; their
follow-ups and comments are linked to them once, however often a page sends them."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hub.ingest.store import add_location, register_device, store_events
from hub.models import Comment, Event, FollowUpAnswer, HourlyRollup
from hub.phone.responses import store_comment, store_reason, store_response
from hub.reporting.reports import location_scores
from hub.rollups.checks import rollup_mismatches
from hub.surveys.store import assign_survey, create_survey, effective_survey
from protocol.errors import ConfigError
from protocol.ids import uuid7
from protocol.messages import Button
from tests.hub.factories import NOON, press
from tests.hub.surveys.survey_files import security


@pytest.fixture
def place(sessions: sessionmaker[Session]) -> str:
    with sessions.begin() as session:
        add_location(session, location_id="gate-a", name="Gate A", time_zone="UTC")
        create_survey(session, parsed=security(), by="admin", now=NOON)
        assign_survey(session, survey_id="security", location_id="gate-a", by="admin", now=NOON)
    return "gate-a"


def answer(session: Session, response_id: str, button: Button, *, misuse: bool = False) -> bool:
    return store_response(
        session,
        response_id=response_id,
        location_id="gate-a",
        button=button,
        misuse=misuse,
        survey=effective_survey(session, "gate-a"),
        now=NOON,
    )


def test_a_phone_response_is_stored_once_with_its_channel_and_counted_apart(
    sessions: sessionmaker[Session], place: str
) -> None:
    response_id = str(uuid7())
    with sessions.begin() as session:
        store_events(session, events=[press(Button.HAPPY)], received_at=NOON)
        assert answer(session, response_id, Button.UNHAPPY)
    with sessions.begin() as session:
        assert not answer(session, response_id, Button.UNHAPPY)  # the page sent it again
    with sessions() as session:
        stored = session.get(Event, response_id)
        assert stored is not None
        assert (stored.channel, stored.device_id, stored.survey_id) == ("web", "web", "security")
        cells = {(r.channel, r.happy, r.unhappy) for r in session.scalars(select(HourlyRollup))}
        assert cells == {("kiosk", 1, 0), ("web", 0, 1)}
        assert rollup_mismatches(session, location_ids=[place]) == 0
        [score] = location_scores(session, locations=[place])
        shown = score.as_dict()
        assert shown["responses"] == 2
        assert shown["channels"]["kiosk"]["responses"] == 1
        assert shown["channels"]["web"]["counts"]["unhappy"] == 1
        assert shown["channels"]["web"]["happy_index"] is not None


def test_misuse_from_the_phone_is_kept_out_of_scores_as_a_kiosks_is(
    sessions: sessionmaker[Session], place: str
) -> None:
    with sessions.begin() as session:
        answer(session, str(uuid7()), Button.HAPPY)
        answer(session, str(uuid7()), Button.HAPPY, misuse=True)
    with sessions() as session:
        [score] = location_scores(session, locations=[place])
        assert (score.as_dict()["responses"], score.as_dict()["misuse"]) == (1, 1)
        assert score.as_dict()["channels"]["web"]["responses"] == 1


def test_the_follow_up_is_linked_to_its_response_once(
    sessions: sessionmaker[Session], place: str
) -> None:
    response_id = str(uuid7())
    with sessions.begin() as session:
        answer(session, response_id, Button.VERY_UNHAPPY)
        survey = effective_survey(session, place)
        assert survey is not None
        for _ in range(2):
            store_reason(
                session,
                response_id=response_id,
                location_id=place,
                survey=survey,
                question="negative",
                option="queue",
                language="fa",
                now=NOON + timedelta(seconds=5),
            )
        with pytest.raises(ConfigError, match="not an option"):
            store_reason(
                session,
                response_id=response_id,
                location_id=place,
                survey=survey,
                question="negative",
                option="fast",
                language="fa",
                now=NOON,
            )
    with sessions() as session:
        answers = session.scalars(select(FollowUpAnswer)).all()
        assert [(a.event_id, a.option, a.device_id) for a in answers] == [
            (response_id, "queue", "web")
        ]


def test_a_comment_is_masked_and_stored_once(sessions: sessionmaker[Session], place: str) -> None:
    response_id = str(uuid7())
    with sessions.begin() as session:
        answer(session, response_id, Button.UNHAPPY)
        text = "Dirty floor. Call me on +49 170 1234567 or mail jo@example.com"
        assert store_comment(session, response_id=response_id, text=text, language="en", now=NOON)
        assert not store_comment(
            session, response_id=response_id, text="again", language="en", now=NOON
        )
        assert not store_comment(
            session, response_id=str(uuid7()), text=" ", language="en", now=NOON
        )
    with sessions() as session:
        comment = session.get(Comment, response_id)
        assert comment is not None
        assert comment.text == "Dirty floor. Call me on [phone] or mail [email]"
        assert comment.masked == "email,phone"
        assert session.scalar(select(func.count()).select_from(Comment)) == 1


def test_a_comment_needs_a_phone_response_and_a_bounded_length(
    sessions: sessionmaker[Session], place: str
) -> None:
    kiosk_press = press(Button.HAPPY)
    with sessions.begin() as session:
        store_events(session, events=[kiosk_press], received_at=NOON)
        with pytest.raises(ConfigError, match="follows a response"):
            store_comment(
                session, response_id=kiosk_press.event_id, text="hi", language="en", now=NOON
            )
        with pytest.raises(ConfigError, match="500"):
            store_comment(
                session, response_id=str(uuid7()), text="x" * 501, language="en", now=NOON
            )


def test_no_kiosk_may_take_the_phone_surveys_device_id(
    sessions: sessionmaker[Session], place: str
) -> None:
    with sessions.begin() as session, pytest.raises(ConfigError, match="phones"):
        register_device(session, device_id="web", location_id=place)
