"""The reasons travellers give after a press: per location subtree and period, for each
question (after a negative answer, after a positive one), how many presses got a follow-up,
how many answered, each option's count and share with a Wilson 95 % interval, the top three
and their trend by local day.

A follow-up counts with its press: a stored, scored press (misuse and hub-flagged presses
are left out, as scores leave them) of the question's polarity, in the period, made by the
same kiosk. A press answered more than once (a kiosk resending a changed answer) counts
its latest answer once. A follow-up whose press never arrived or was refused is never
counted. Answers to different survey versions are never summed silently: `by_version`
splits them when the period holds more than one, and the trend marks the day it changed.

Read from the reasons rollups (hub.rollups.reasons_read: a place's subtree per local day,
every place's own per UTC month, day and hour), exact to the microsecond: the press counts
where and when it was made, with the follow-up hub.rollups.answers says it counts with.
(Raw reads also looked a follow-up up by its own location and by an answer time within an
hour of the period; a follow-up is answered within a minute of its press, at its kiosk's
location, so both agree. The overview names an option in the oldest version answering it.)
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.hierarchy import LocationTree
from hub.models import SurveyVersion
from hub.reporting.scores import wilson_interval
from hub.rollups.buckets import Period
from hub.rollups.read import Where, location_counts
from hub.rollups.reasons_read import Tally, own_counts, place_days
from protocol.surveys import Question, Survey

QUESTIONS = ("negative", "positive")
TOP = 3
VersionKey = tuple[str, int]


@dataclass(frozen=True)
class OptionShare:
    option: str
    label: str | None
    """Its text in the survey's default language, where the survey is known."""
    count: int
    share: float | None
    """Of the answered follow-ups."""
    ci: tuple[float, float] | None
    labels: dict[str, str] = field(default_factory=dict)
    """Its text in each of the survey's languages: the dashboard shows its reader's."""


@dataclass(frozen=True)
class VersionReasons:
    survey_id: str
    survey_version: int
    answered: int
    unanswered: int
    options: list[OptionShare]


@dataclass(frozen=True)
class ReasonPoint:
    start: date
    """A local day."""
    answered: int
    unanswered: int
    options: dict[str, int]
    versions: list[str]
    """`survey:version` answered that day."""
    question_changed: bool
    """A version answered that day was not answered the day before: the question changed."""


@dataclass(frozen=True)
class QuestionReasons:
    question: str
    presses: int
    """Scored presses of this polarity in the period."""
    followups: int
    """Of them, those that got a follow-up (answered or not)."""
    followup_share: float | None
    followup_ci: tuple[float, float] | None
    answered: int
    unanswered: int
    options: list[OptionShare]
    """Most given first; every option of the versions answered, none given too."""
    top: list[str]
    """The top three options given."""
    by_version: list[VersionReasons] = field(default_factory=list)
    """One entry a version when the period holds answers to more than one."""
    trend: list[ReasonPoint] = field(default_factory=list)


@dataclass(frozen=True)
class Reasons:
    location: str
    period: Period
    negative: QuestionReasons
    positive: QuestionReasons

    def question(self, question: str) -> QuestionReasons:
        return self.negative if question == "negative" else self.positive


@dataclass(frozen=True)
class TopReason:
    option: str
    label: str | None
    count: int
    share: float
    labels: dict[str, str] = field(default_factory=dict)


def reasons(session: Session, *, tree: LocationTree, location_id: str, period: Period) -> Reasons:
    """The reasons given at a location and everything beneath it, in a period."""
    places = tree.subtree(location_id)
    presses = _press_counts(session, places, period)
    zone = tree.places[location_id].time_zone
    days = place_days(
        session, location_id=location_id, members=places, period=period, time_zone=zone
    )
    surveys = SurveyTexts(session)
    by_question = {
        question: _question(question, presses[question], _of_question(days, question), surveys)
        for question in QUESTIONS
    }
    return Reasons(location_id, period, by_question["negative"], by_question["positive"])


def top_negative_reasons(
    session: Session, *, tree: LocationTree, visible: set[str], period: Period
) -> dict[str, TopReason]:
    """Each visible location's most given reason after a negative answer (its subtree's),
    for those that have one."""
    own = own_counts(  # by location: the raw part-hours use the events' location index
        session, locations=tree.places, since=period.since, until=period.until, question="negative"
    )
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    labels: dict[str, VersionKey] = {}
    for (location_id, (_question, version, option)), n in own.items():
        if option is None or location_id not in tree:
            continue
        labels[option] = min(labels.get(option, version), version)
        for place in (location_id, *tree.ancestors(location_id)):
            if place in visible:
                counts[place][option] += n
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


Answers = Counter[tuple[VersionKey, str | None]]
"""(survey version, option or None) -> presses answered so."""


def _of_question(days: dict[date, Tally], question: str) -> dict[date, Answers]:
    of_question: dict[date, Answers] = {}
    for day, tally in days.items():
        answers: Answers = Counter()
        for (asked, version, option), n in tally.items():
            if asked == question and n:
                answers[(version, option)] += n
        if answers:
            of_question[day] = answers
    return of_question


def _question(
    question: str, presses: int, days: dict[date, Answers], surveys: "SurveyTexts"
) -> QuestionReasons:
    answers: Answers = sum(days.values(), Counter())
    followups = answers.total()
    given = Counter({key: n for key, n in answers.items() if key[1] is not None})
    versions = sorted({version for version, _option in answers})
    interval = wilson_interval(followups, presses) if presses >= followups else None
    options = _options(question, given, versions, surveys)
    by_version = []
    if len(versions) > 1:
        for version in versions:
            of_version = Counter({k: n for k, n in answers.items() if k[0] == version})
            answered = Counter({k: n for k, n in of_version.items() if k[1] is not None})
            by_version.append(
                VersionReasons(
                    survey_id=version[0],
                    survey_version=version[1],
                    answered=answered.total(),
                    unanswered=of_version.total() - answered.total(),
                    options=_options(question, answered, [version], surveys),
                )
            )
    return QuestionReasons(
        question=question,
        presses=presses,
        followups=followups,
        followup_share=round(followups / presses, 4) if presses else None,
        followup_ci=_rounded(interval),
        answered=given.total(),
        unanswered=followups - given.total(),
        options=options,
        top=[o.option for o in options if o.count > 0][:TOP],
        by_version=by_version,
        trend=_trend(days),
    )


def _options(
    question: str, given: Answers, versions: Iterable[VersionKey], surveys: "SurveyTexts"
) -> list[OptionShare]:
    """`given` holds answered keys only."""
    counts: Counter[str] = Counter()
    keys: dict[str, VersionKey] = {}
    for version in versions:
        for key in surveys.options(version, question):
            keys.setdefault(key, version)
    for (version, option), n in sorted(given.items(), key=lambda item: item[0]):
        if option is not None:
            counts[option] += n
            keys.setdefault(option, version)
    total = counts.total()
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


def _trend(days: dict[date, Answers]) -> list[ReasonPoint]:
    points = []
    previous: list[str] | None = None
    for day in sorted(days):
        of_day = days[day]
        versions = sorted({f"{s}:{v}" for (s, v), _option in of_day})
        given: Counter[str] = Counter()
        for (_version, option), n in of_day.items():
            if option is not None:
                given[option] += n
        points.append(
            ReasonPoint(
                start=day,
                answered=given.total(),
                unanswered=of_day.total() - given.total(),
                options=dict(sorted(given.items())),
                versions=versions,
                question_changed=previous is not None and not set(versions) <= set(previous),
            )
        )
        previous = versions
    return points


def _rounded(interval: tuple[float, float] | None) -> tuple[float, float] | None:
    return None if interval is None else (round(interval[0], 4), round(interval[1], 4))


def _question_of(question: str) -> Question:
    return "negative" if question == "negative" else "positive"


class SurveyTexts:
    """Survey versions read once each, for option keys and their texts."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._read: dict[VersionKey, Survey | None] = {}

    def get(self, version: VersionKey) -> Survey | None:
        if version not in self._read:
            definition = self._session.scalar(
                select(SurveyVersion.definition).where(
                    SurveyVersion.survey_id == version[0], SurveyVersion.version == version[1]
                )
            )
            self._read[version] = (
                None if definition is None else Survey.model_validate_json(definition)
            )
        return self._read[version]

    def options(self, version: VersionKey, question: str) -> list[str]:
        survey = self.get(version)
        follow_up = None if survey is None else survey.follow_up(_question_of(question))
        return [] if follow_up is None else [o.key for o in follow_up.options]

    def label(self, version: VersionKey, question: str, option: str) -> str | None:
        """The option's text in the survey's default language."""
        survey = self.get(version)
        return (
            None
            if survey is None
            else self.texts(version, question, option).get(survey.languages[0])
        )

    def texts(self, version: VersionKey, question: str, option: str) -> dict[str, str]:
        """The option's text in each of the survey's languages (none where unknown)."""
        survey = self.get(version)
        follow_up = None if survey is None else survey.follow_up(_question_of(question))
        for candidate in [] if follow_up is None else follow_up.options:
            if candidate.key == option:
                return dict(candidate.text)
        return {}
