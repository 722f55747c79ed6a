"""Comments: listed, hidden, exported, and erased after their retention with counts kept."""

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.config import HubSettings, PhoneSettings
from hub.ingest.store import add_location
from hub.phone.comments import (
    CommentRetention,
    comment_count,
    comments_csv,
    list_comments,
    set_hidden,
)
from hub.phone.responses import store_comment, store_response
from protocol.ids import uuid7
from protocol.messages import Button
from tests.hub.factories import NOON


def comment_at(session: Session, days_ago: float, text: str) -> str:
    response_id = str(uuid7())
    at = NOON - timedelta(days=days_ago)
    store_response(
        session,
        response_id=response_id,
        location_id="gate-a",
        button=Button.UNHAPPY,
        misuse=False,
        survey=None,
        now=at,
    )
    store_comment(session, response_id=response_id, text=text, language="en", now=at)
    return response_id


@pytest.fixture
def comments(sessions: sessionmaker[Session]) -> list[str]:
    with sessions.begin() as session:
        add_location(session, location_id="gate-a", name="Gate A", time_zone="UTC")
        return [
            comment_at(session, 120, "old and smelly"),
            comment_at(session, 89, '=HYPERLINK("http://x")'),
            comment_at(session, 1, "no soap"),
        ]


def test_retention_erases_old_texts_and_keeps_the_counts(
    sessions: sessionmaker[Session], tmp_path: object, comments: list[str]
) -> None:
    settings = HubSettings(phone=PhoneSettings(comment_retention_days=90))
    job = CommentRetention(sessions, settings, clock=lambda: NOON)
    assert job.step() == 1
    assert job.step() == 0  # erased once
    with sessions() as session:
        listed = {c.response_id: c.text for c in list_comments(session, location_ids=["gate-a"])}
        assert listed[comments[0]] is None
        assert listed[comments[2]] == "no soap"
        assert comment_count(session, location_ids=["gate-a"]) == 3


def test_a_hidden_comment_stays_out_of_the_list_asked_without_hidden_ones(
    sessions: sessionmaker[Session], comments: list[str]
) -> None:
    with sessions.begin() as session:
        assert set_hidden(session, response_id=comments[2], hidden=True, by="m", now=NOON) == (
            "gate-a"
        )
    with sessions() as session:
        shown = list_comments(session, location_ids=["gate-a"], include_hidden=False)
        assert comments[2] not in {c.response_id for c in shown}
        every = list_comments(session, location_ids=["gate-a"])
        assert [c.hidden for c in every if c.response_id == comments[2]] == [True]


def test_the_export_defuses_spreadsheet_formulas(
    sessions: sessionmaker[Session], comments: list[str]
) -> None:
    with sessions() as session:
        text = comments_csv(list_comments(session, location_ids=["gate-a"]))
    lines = text.splitlines()
    assert lines[0] == "created_at,location,location_name,language,button,masked,text"
    assert any("'=HYPERLINK" in line for line in lines)
    assert len(lines) == 4
