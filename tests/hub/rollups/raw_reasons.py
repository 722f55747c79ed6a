"""The reasons as hub.reporting.reasons computed them before the reasons rollups: from the
raw follow-ups of the period (by their time and location) and the presses they answer (by
id). Kept as the reference the rollups are held to."""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.hierarchy import LocationTree
from hub.ingest.store import NEGATIVE_BUTTONS
from hub.models import Event, FollowUpAnswer
from hub.reporting.reasons import (
    QUESTIONS,
    TOP,
    OptionShare,
    QuestionReasons,
    ReasonPoint,
    Reasons,
    SurveyTexts,
    TopReason,
    VersionKey,
    VersionReasons,
    _rounded,
)
from hub.reporting.scores import wilson_interval
from hub.rollups.buckets import Period
from hub.rollups.read import Where, location_counts


@dataclass(frozen=True)
class _Answer:
    event_id: str
    location_id: str
    occurred_at: datetime
    question: str
    option: str | None
    version: VersionKey


def raw_reasons(
    session: Session, *, tree: LocationTree, location_id: str, period: Period
) -> Reasons:
    """The reasons given at a location and everything beneath it, in a period."""
    places = tree.subtree(location_id)
    presses = _press_counts(session, places, period)
    answers = _answers(session, places, period)
    surveys = SurveyTexts(session)
    zone = ZoneInfo(tree.places[location_id].time_zone)
    by_question = {
        question: _question(
            question,
            presses[question],
            [a for a in answers if a.question == question],
            surveys,
            zone,
        )
        for question in QUESTIONS
    }
    return Reasons(location_id, period, by_question["negative"], by_question["positive"])


def raw_top_negative_reasons(
    session: Session, *, tree: LocationTree, visible: set[str], period: Period
) -> dict[str, TopReason]:
    """Each visible location's most given reason after a negative answer (its subtree's),
    for those that have one."""
    answers = [a for a in _answers(session, None, period) if a.question == "negative"]
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    labels: dict[str, VersionKey] = {}
    for answer in answers:
        if answer.option is None or answer.location_id not in tree:
            continue
        labels.setdefault(answer.option, answer.version)
        for place in (answer.location_id, *tree.ancestors(answer.location_id)):
            if place in visible:
                counts[place][answer.option] += 1
    surveys = SurveyTexts(session)
    tops = {}
    for place, options in counts.items():
        option, count = sorted(options.items(), key=lambda item: (-item[1], item[0]))[0]
        tops[place] = TopReason(
            option=option,
            label=surveys.label(labels[option], "negative", option),
            labels=surveys.texts(labels[option], "negative", option),
            count=count,
            share=round(count / options.total(), 4),
        )
    return tops


def _press_counts(session: Session, places: set[str], period: Period) -> Counter[str]:
    """Scored presses per question (negative, positive), from the rollups: exact, and a
    year reads months, not a year of raw presses."""
    where = Where(sorted(places), period.since, period.until, all_locations=False)
    counts: Counter[str] = Counter()
    for _location, misuse, _channel, counted in location_counts(session, where):
        if not misuse:
            counts["negative"] += counted.unhappy + counted.very_unhappy
            counts["positive"] += counted.very_happy + counted.happy
    return counts


ANSWERED_WITHIN = timedelta(hours=1)
"""A follow-up is answered within a minute of its press (`answer_s` is at most 60 s); an
hour's margin either side covers clock corrections."""


def _answers(session: Session, places: set[str] | None, period: Period) -> list[_Answer]:
    """Each scored press's latest follow-up of its own polarity, in the period.

    Read from the follow-ups (by their index of location and time), then their presses by
    id: the cost follows the answers in the period, not its presses (a join lets SQLite
    walk a year of presses to find no answer)."""
    answered = select(
        FollowUpAnswer.event_id,
        FollowUpAnswer.device_id,
        FollowUpAnswer.question,
        FollowUpAnswer.option,
        FollowUpAnswer.survey_id,
        FollowUpAnswer.survey_version,
        FollowUpAnswer.answered_at,
        FollowUpAnswer.followup_id,
    ).where(
        FollowUpAnswer.answered_at >= period.since - ANSWERED_WITHIN,
        FollowUpAnswer.answered_at < period.until + ANSWERED_WITHIN,
    )
    if places is not None:
        answered = answered.where(FollowUpAnswer.location_id.in_(sorted(places)))
    followups = session.execute(answered).all()
    presses = _scored_presses(session, {f.event_id for f in followups}, period)
    latest: dict[str, tuple[tuple[datetime, str], _Answer]] = {}
    for row in followups:
        press = presses.get(row.event_id)
        if press is None or press.device_id != row.device_id:
            continue  # its press is not stored, not scored, not in the period, or not its kiosk's
        question = "negative" if press.button in NEGATIVE_BUTTONS else "positive"
        if row.question != question:
            continue  # stored before its press arrived, and not its question: never counted
        answer = _Answer(
            event_id=row.event_id,
            location_id=press.location_id,
            occurred_at=press.occurred_at,
            question=question,
            option=row.option,
            version=(row.survey_id, row.survey_version),
        )
        order = (row.answered_at, row.followup_id)
        known = latest.get(row.event_id)
        if known is None or order > known[0]:
            latest[row.event_id] = (order, answer)
    return [answer for _, answer in latest.values()]


PRESSES_PER_QUERY = 500


def _scored_presses(session: Session, event_ids: set[str], period: Period) -> dict[str, Any]:
    """The scored presses of the period among these ids, by id."""
    found: dict[str, Any] = {}
    ids = sorted(event_ids)
    for first in range(0, len(ids), PRESSES_PER_QUERY):
        rows = session.execute(
            select(
                Event.event_id, Event.device_id, Event.location_id, Event.occurred_at, Event.button
            ).where(
                Event.event_id.in_(ids[first : first + PRESSES_PER_QUERY]),
                Event.occurred_at >= period.since,
                Event.occurred_at < period.until,
                Event.misuse.is_(False),
            )
        )
        found.update((row.event_id, row) for row in rows)
    return found


def _question(
    question: str, presses: int, answers: list[_Answer], surveys: "SurveyTexts", zone: ZoneInfo
) -> QuestionReasons:
    answered = [a for a in answers if a.option is not None]
    versions = sorted({a.version for a in answers})
    interval = wilson_interval(len(answers), presses) if presses >= len(answers) else None
    options = _options(question, answered, versions, surveys)
    by_version = []
    if len(versions) > 1:
        for version in versions:
            of_version = [a for a in answers if a.version == version]
            given = [a for a in of_version if a.option is not None]
            by_version.append(
                VersionReasons(
                    survey_id=version[0],
                    survey_version=version[1],
                    answered=len(given),
                    unanswered=len(of_version) - len(given),
                    options=_options(question, given, [version], surveys),
                )
            )
    return QuestionReasons(
        question=question,
        presses=presses,
        followups=len(answers),
        followup_share=round(len(answers) / presses, 4) if presses else None,
        followup_ci=_rounded(interval),
        answered=len(answered),
        unanswered=len(answers) - len(answered),
        options=options,
        top=[o.option for o in options if o.count > 0][:TOP],
        by_version=by_version,
        trend=_trend(answers, zone),
    )


def _options(
    question: str, answered: list[_Answer], versions: Iterable[VersionKey], surveys: "SurveyTexts"
) -> list[OptionShare]:
    counts = Counter(a.option for a in answered if a.option is not None)
    keys: dict[str, VersionKey] = {}
    for version in versions:
        for key in surveys.options(version, question):
            keys.setdefault(key, version)
    for answer in answered:
        if answer.option is not None:
            keys.setdefault(answer.option, answer.version)
    total = len(answered)
    shares = [
        OptionShare(
            option=key,
            label=surveys.label(version, question, key),
            labels=surveys.texts(version, question, key),
            count=counts[key],
            share=round(counts[key] / total, 4) if total else None,
            ci=_rounded(wilson_interval(counts[key], total)),
        )
        for key, version in keys.items()
    ]
    return sorted(shares, key=lambda o: (-o.count, o.option))


def _trend(answers: list[_Answer], zone: ZoneInfo) -> list[ReasonPoint]:
    days: dict[date, list[_Answer]] = defaultdict(list)
    for answer in answers:
        days[answer.occurred_at.astimezone(zone).date()].append(answer)
    points = []
    previous: list[str] | None = None
    for day in sorted(days):
        of_day = days[day]
        versions = sorted({f"{s}:{v}" for s, v in (a.version for a in of_day)})
        given = Counter(a.option for a in of_day if a.option is not None)
        points.append(
            ReasonPoint(
                start=day,
                answered=given.total(),
                unanswered=len(of_day) - given.total(),
                options=dict(sorted(given.items())),
                versions=versions,
                question_changed=previous is not None and not set(versions) <= set(previous),
            )
        )
        previous = versions
    return points
