"""Presses and the follow-ups that answer them, stored as ingest stores them, at a site with
two lanes that asks the security survey: for the export and PDF tests of reasons."""

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from hub.ingest import store
from hub.rollups.buckets import Period
from hub.surveys.definition import SurveyFile
from hub.surveys.store import create_survey
from protocol.ids import uuid7
from protocol.messages import Button, FollowUp, PressEvent
from protocol.surveys import Question
from tests.hub.factories import place
from tests.hub.surveys.survey_files import security

DAY = datetime(2026, 11, 20, tzinfo=UTC)
PERIOD = Period(DAY, DAY + timedelta(days=3))
NEGATIVE = (Button.UNHAPPY, Button.VERY_UNHAPPY)


class Traffic:
    """Presses at the lanes, a minute apart from 10:00 UTC, and their follow-ups."""

    def __init__(self) -> None:
        self.presses: list[PressEvent] = []
        self.followups: list[FollowUp] = []

    def add(
        self,
        button: Button,
        option: str | bool | None = False,
        *,
        location_id: str = "lane-1",
        day: int = 0,
        version: int = 1,
        language: str | None = "en",
        misuse: bool = False,
    ) -> PressEvent:
        """A press; with `option` (None: shown, not answered), its follow-up 4 s later."""
        at = DAY + timedelta(days=day, hours=10, minutes=len(self.presses))
        pressed = PressEvent(
            event_id=str(uuid7()),
            device_id=f"k-{location_id}",
            location_id=location_id,
            seq=len(self.presses) + 1,
            occurred_at=at,
            button=button,
            misuse=misuse,
            survey_id="security",
            survey_version=version,
        )
        self.presses.append(pressed)
        if option is not False:
            self.answer(pressed, option if isinstance(option, str) else None, language=language)
        return pressed

    def answer(
        self,
        pressed: PressEvent,
        option: str | None,
        *,
        after_s: float = 4,
        language: str | None = "en",
        question: Question | None = None,
    ) -> FollowUp:
        """A follow-up to `pressed` (of its own question unless `question` says another)."""
        own: Question = "negative" if pressed.button in NEGATIVE else "positive"
        followup = FollowUp(
            followup_id=str(uuid7()),
            event_id=pressed.event_id,
            device_id=pressed.device_id,
            location_id=pressed.location_id,
            survey_id=pressed.survey_id or "security",
            survey_version=pressed.survey_version or 1,
            question=question or own,
            option=option,
            language=language,
            answered_at=pressed.occurred_at + timedelta(seconds=after_s),
        )
        self.followups.append(followup)
        return followup

    def store(self, session: Session) -> None:
        received = DAY + timedelta(days=5)
        store.store_events(session, events=self.presses, received_at=received)
        store.store_followups(session, followups=self.followups, received_at=received)


def add_places(session: Session, survey: SurveyFile | None = None) -> None:
    """Site hel (UTC) with touchpoints lane-1 and lane-2; the survey (security) as version 1."""
    place(session, "hel", kind="site", time_zone="UTC")
    place(session, "lane-1", parent="hel", time_zone="UTC")
    place(session, "lane-2", parent="hel", time_zone="UTC")
    create_survey(session, parsed=survey or security(), by="ana", now=DAY)
