"""A traveller's answers on the phone, stored as a kiosk's are: the press into the same
events and rollups (channel `web`), the follow-up into the same follow-ups, and the comment,
masked, beside them. Each is keyed by the id the page was given, so a page that sends twice
(a double tap, a retry after the network came back) stores each once.
"""

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from hub.db import dialect_insert
from hub.ingest.store import store_events, store_followups
from hub.models import WEB_DEVICE_ID, Channel, Comment, Event
from hub.phone.masking import mask_personal_data
from protocol.errors import ConfigError
from protocol.messages import Button, FollowUp, PressEvent
from protocol.surveys import Question, Survey

MAX_COMMENT_CHARS = 500
FOLLOWUP_NAMESPACE = uuid.UUID("6f1c0a52-7d43-4d8e-9c1e-2a6b0f3e9d11")
"""The follow-up of a phone response has the id its response's id names in this namespace:
one per response and question, however often it is sent."""


def store_response(
    session: Session,
    *,
    response_id: str,
    location_id: str,
    button: Button,
    misuse: bool,
    survey: Survey | None,
    now: datetime,
) -> bool:
    """Store the press of a phone response; False if it was stored before (a resend)."""
    press = PressEvent(
        event_id=response_id,
        device_id=WEB_DEVICE_ID,
        location_id=location_id,
        seq=max(1, int(now.timestamp() * 1000)),
        occurred_at=now,
        button=button,
        misuse=misuse,
        survey_id=None if survey is None else survey.survey_id,
        survey_version=None if survey is None else survey.version,
    )
    new = store_events(session, events=[press], received_at=now, channel=Channel.WEB)
    return response_id in new


def followup_id(response_id: str, question: Question) -> str:
    return str(uuid.uuid5(FOLLOWUP_NAMESPACE, f"{response_id}/{question}"))


def store_reason(
    session: Session,
    *,
    response_id: str,
    location_id: str,
    survey: Survey,
    question: Question,
    option: str | None,
    language: str,
    now: datetime,
) -> bool:
    """Store the follow-up answer (an option, or None: skipped) of a phone response once."""
    if option is not None:
        asked = survey.follow_up(question)
        if asked is None or option not in {o.key for o in asked.options}:
            raise ConfigError(f"{option!r} is not an option of the {question} follow-up")
    answer = FollowUp(
        followup_id=followup_id(response_id, question),
        event_id=response_id,
        device_id=WEB_DEVICE_ID,
        location_id=location_id,
        survey_id=survey.survey_id,
        survey_version=survey.version,
        question=question,
        option=option,
        language=language,
        answered_at=now,
    )
    return answer.followup_id in store_followups(session, followups=[answer], received_at=now)


def store_comment(
    session: Session, *, response_id: str, text: str, language: str, now: datetime
) -> bool:
    """Mask the comment's personal data and store it with its response, once; an empty
    comment stores nothing. The unmasked text goes nowhere: not to the database, not to a log.
    """
    text = text.strip()
    if not text:
        return False
    if len(text) > MAX_COMMENT_CHARS:
        raise ConfigError(f"a comment holds at most {MAX_COMMENT_CHARS} characters")
    response = session.get(Event, response_id)
    if response is None or response.channel != Channel.WEB:
        raise ConfigError("a comment follows a response from this page")
    masked = mask_personal_data(text)
    statement = dialect_insert(session, Comment).on_conflict_do_nothing(index_elements=["event_id"])
    row = {
        "event_id": response_id,
        "location_id": response.location_id,
        "created_at": now,
        "language": language,
        "text": masked.text,
        "masked": ",".join(sorted(kind.value for kind in masked.kinds)),
    }
    return bool(session.scalars(statement.returning(Comment.event_id), [row]).all())
