"""Which follow-up a press counts with, and the raw recount of it that the reasons rollups
are written from, checked against and read from where a period cuts an hour.

A press counts with its latest follow-up (by `answered_at`, then `followup_id`) among those
from its own kiosk that ask its own question (negative after unhappy and very unhappy,
positive after the others); a misuse or hub-flagged press never counts. The follow-up may be
stored before its press, or after it (a newer answer replaces the one counted): either way
the press counts where and when it was made, once.
"""

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import NO_OPTION, Event, FollowUpAnswer
from protocol.messages import Button

NEGATIVE = frozenset({Button.UNHAPPY.value, Button.VERY_UNHAPPY.value})
IDS_PER_QUERY = 500


def question_of(button: str) -> str:
    """The follow-up question a press of this button is asked."""
    return "negative" if button in NEGATIVE else "positive"


@dataclass(frozen=True)
class Press:
    event_id: str
    device_id: str
    location_id: str
    occurred_at: datetime
    button: str


@dataclass(frozen=True)
class Reply:
    """A stored follow-up, as far as counting goes."""

    followup_id: str
    device_id: str
    question: str
    survey_id: str
    survey_version: int
    option: str | None
    answered_at: datetime


@dataclass(frozen=True, order=True)
class Answer:
    """A press counted with its follow-up: what the reasons rollups add up."""

    location_id: str
    occurred_at: datetime
    question: str
    survey_id: str
    survey_version: int
    option: str
    """NO_OPTION: shown, not answered."""


def counted_reply(press: Press, replies: Iterable[Reply]) -> Reply | None:
    """The follow-up this press counts with, or None."""
    question = question_of(press.button)
    own = [r for r in replies if r.device_id == press.device_id and r.question == question]
    return max(own, key=lambda r: (r.answered_at, r.followup_id), default=None)


def answer_of(press: Press, reply: Reply) -> Answer:
    return Answer(
        location_id=press.location_id,
        occurred_at=press.occurred_at,
        question=reply.question,
        survey_id=reply.survey_id,
        survey_version=reply.survey_version,
        option=NO_OPTION if reply.option is None else reply.option,
    )


REPLY_COLUMNS = (
    FollowUpAnswer.followup_id,
    FollowUpAnswer.device_id,
    FollowUpAnswer.question,
    FollowUpAnswer.survey_id,
    FollowUpAnswer.survey_version,
    FollowUpAnswer.option,
    FollowUpAnswer.answered_at,
)
PRESS_COLUMNS = (
    Event.event_id,
    Event.device_id,
    Event.location_id,
    Event.occurred_at,
    Event.button,
)


def replies_to(session: Session, *, event_ids: Collection[str]) -> dict[str, list[Reply]]:
    """event id -> every follow-up stored for it."""
    found: dict[str, list[Reply]] = defaultdict(list)
    ids = sorted(set(event_ids))
    for first in range(0, len(ids), IDS_PER_QUERY):
        rows = session.execute(
            select(FollowUpAnswer.event_id, *REPLY_COLUMNS).where(
                FollowUpAnswer.event_id.in_(ids[first : first + IDS_PER_QUERY])
            )
        )
        for row in rows:
            found[row[0]].append(Reply(*row[1:]))
    return found


def scored_presses(session: Session, *, event_ids: Collection[str]) -> list[Press]:
    """The stored presses among these ids that scores count (misuse left out)."""
    presses: list[Press] = []
    ids = sorted(set(event_ids))
    for first in range(0, len(ids), IDS_PER_QUERY):
        rows = session.execute(
            select(*PRESS_COLUMNS).where(
                Event.event_id.in_(ids[first : first + IDS_PER_QUERY]), Event.misuse.is_(False)
            )
        )
        presses.extend(Press(*row) for row in rows)
    return presses


def raw_answers(
    session: Session,
    *,
    locations: Collection[str] | None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Answer]:
    """The answered presses made at these locations (all: None) in [since, until), each
    with the follow-up it counts with, recounted from the raw rows."""
    statement: Any = (
        select(*PRESS_COLUMNS, *REPLY_COLUMNS)
        .join(
            FollowUpAnswer,
            (FollowUpAnswer.event_id == Event.event_id)
            & (FollowUpAnswer.device_id == Event.device_id),
        )
        .where(Event.misuse.is_(False))
    )
    if locations is not None:
        statement = statement.where(Event.location_id.in_(sorted(locations)))
    if since is not None:
        statement = statement.where(Event.occurred_at >= since)
    if until is not None:
        statement = statement.where(Event.occurred_at < until)
    presses: dict[str, Press] = {}
    replies: dict[str, list[Reply]] = defaultdict(list)
    for row in session.execute(statement):
        press = Press(*row[: len(PRESS_COLUMNS)])
        presses[press.event_id] = press
        replies[press.event_id].append(Reply(*row[len(PRESS_COLUMNS) :]))
    answers = []
    for event_id, press in presses.items():
        reply = counted_reply(press, replies[event_id])
        if reply is not None:
            answers.append(answer_of(press, reply))
    return answers
