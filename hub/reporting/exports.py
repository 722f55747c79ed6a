"""CSV exports of raw responses (with their follow-up answers), of aggregated scores and of
the reasons given, as generators of text chunks.

Rows are read from the database in chunks (a server-side cursor on PostgreSQL), so an
export of millions of responses never holds more than one chunk in memory; each chunk's
follow-ups are read by one keyed lookup. Times are given in ISO 8601 UTC and again in the
location's own time zone. A text cell that a spreadsheet would run as a formula (a location
named `=HYPERLINK(…)`, a survey option worded `=1+1`) is written with a `'` before it.
"""

import csv
import io
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from hub.hierarchy import LocationTree
from hub.ingest.store import polarity
from hub.models import Event, FollowUpAnswer, Location
from hub.reporting.analytics import Summary, hourly, overview, trend
from hub.reporting.reasons import QUESTIONS, OptionShare, QuestionReasons, SurveyTexts, reasons
from hub.rollups.buckets import Period
from protocol.messages import BUTTONS

CHUNK_ROWS = 2000
"""Rows fetched from the database, and written out, at a time."""

By = Literal["hour", "day", "week", "location"]
BY_CHOICES: tuple[By, ...] = ("hour", "day", "week", "location")

RESPONSE_COLUMNS = (
    "event_id",
    "location_id",
    "location_name",
    "device_id",
    "seq",
    "occurred_at_utc",
    "occurred_at_local",
    "time_zone",
    "button",
    "misuse",
    "received_at_utc",
    "kiosk_occurred_at_utc",
    "clock_offset_s",
    "survey_id",
    "survey_version",
    "followup_question",
    "followup_option",
    "followup_label",
    "followup_language",
    "followup_answered_at",
)
SCORE_COLUMNS = (
    "responses",
    *(b.value for b in BUTTONS),
    "happy_index",
    "positive_share",
    "positive_ci_low",
    "positive_ci_high",
    "small_sample",
)
BUCKET_COLUMNS = (
    "location_id",
    "location_name",
    "kind",
    "time_zone",
    "bucket",
    "start_utc",
    "start_local",
    *SCORE_COLUMNS,
)
LOCATION_COLUMNS = (
    "location_id",
    "location_name",
    "kind",
    "parent_id",
    "time_zone",
    "since_utc",
    "until_utc",
    *SCORE_COLUMNS,
    "misuse",
    "previous_happy_index",
    "change",
    "rank",
)
REASON_COLUMNS = (
    "location_id",
    "location_name",
    "kind",
    "time_zone",
    "since_utc",
    "until_utc",
    "question",
    "survey_id",
    "survey_version",
    "presses",
    "followups",
    "answered",
    "unanswered",
    "option",
    "count",
    "share",
    "ci_low",
    "ci_high",
    "label",
)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these is a formula to a spreadsheet (OWASP's list)."""
NUMBER = re.compile(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?")


def csv_lines(rows: Iterable[Sequence[Any]], *, neutralised: bool = False) -> str:
    """Rows as CSV text (RFC 4180 quoting, CRLF line ends), formulas neutralised; rows
    `neutralised` already (every text cell checked by whoever made them) are written as
    they are."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if neutralised:
        writer.writerows(rows)
    else:
        writer.writerows([inert(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def inert(cell: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, with a ' before it (shown as text);
    numbers, and text that is only a number such as "-2.5", are left as they are."""
    if isinstance(cell, str) and cell.startswith(FORMULA_START) and not NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def responses_csv(session: Session, locations: Collection[str], period: Period) -> Iterator[str]:
    """Every press at the locations in the period, oldest first, misuse flagged, with the
    follow-up that answered it (the latest, if the kiosk sent more than one); header first."""
    places = {
        loc.location_id: (inert(loc.name), ZoneInfo(loc.time_zone))
        for loc in session.scalars(select(Location).where(Location.location_id.in_(locations)))
    }
    labels = SurveyTexts(session)
    yield csv_lines([RESPONSE_COLUMNS])
    statement = (
        select(*(getattr(Event, name) for name in _EVENT_FIELDS))
        .where(
            Event.location_id.in_(sorted(places)),
            Event.occurred_at >= period.since,
            Event.occurred_at < period.until,
        )
        .order_by(Event.occurred_at, Event.event_id)
        .execution_options(yield_per=CHUNK_ROWS)  # a server-side cursor on PostgreSQL
    )
    answered = _any_followup(session, places, period)
    for chunk in session.execute(statement).partitions():
        followups = _followups_of(session, chunk) if answered else {}
        rows = (
            (
                *_response_row(row, *places[row.location_id]),
                *_followup_cells(followups.get(row.event_id), labels),
            )
            for row in chunk
        )
        yield csv_lines(rows, neutralised=True)


def _any_followup(session: Session, places: Collection[str], period: Period) -> bool:
    """Whether any follow-up was answered there around the period: where none was (no
    survey asked), the export reads no follow-up for each chunk of presses."""
    margin = timedelta(hours=1)  # answers come within a minute of their press
    found = session.scalar(
        select(FollowUpAnswer.followup_id)
        .where(
            FollowUpAnswer.location_id.in_(sorted(places)),
            FollowUpAnswer.answered_at >= period.since - margin,
            FollowUpAnswer.answered_at < period.until + margin,
        )
        .limit(1)
    )
    return found is not None


_EVENT_FIELDS = (
    "event_id",
    "location_id",
    "device_id",
    "seq",
    "occurred_at",
    "button",
    "misuse",
    "received_at",
    "kiosk_occurred_at",
    "clock_offset_s",
    "survey_id",
    "survey_version",
)


def _response_row(row: Row[Any], name: str, zone: ZoneInfo) -> tuple[Any, ...]:
    """A press as a CSV row. Its only free text is the location's `name` (neutralised by the
    caller, once a location); ids match patterns that start with a letter or digit, times
    with a digit, and the button and time zone are names we chose."""
    return (
        row.event_id,
        row.location_id,
        name,
        row.device_id,
        row.seq,
        _utc(row.occurred_at),
        row.occurred_at.astimezone(zone).isoformat(),
        zone.key,
        row.button,
        "true" if row.misuse else "false",
        _utc(row.received_at),
        _utc(row.kiosk_occurred_at) if row.kiosk_occurred_at else "",
        "" if row.clock_offset_s is None else row.clock_offset_s,
        row.survey_id or "",
        _blank(row.survey_version),
    )


def _followups_of(session: Session, presses: Sequence[Row[Any]]) -> dict[str, Any]:
    """The follow-up answering each press of a chunk, one keyed lookup: the same kiosk, the
    question of the press's polarity (as reasons count them), the latest if several."""
    wanted = {row.event_id: (row.device_id, polarity(row.button)) for row in presses}
    statement = select(
        FollowUpAnswer.followup_id,
        FollowUpAnswer.event_id,
        FollowUpAnswer.device_id,
        FollowUpAnswer.survey_id,
        FollowUpAnswer.survey_version,
        FollowUpAnswer.question,
        FollowUpAnswer.option,
        FollowUpAnswer.language,
        FollowUpAnswer.answered_at,
    ).where(FollowUpAnswer.event_id.in_(wanted))
    latest: dict[str, Any] = {}  # event id -> its follow-up row
    for row in session.execute(statement):
        if wanted[row.event_id] != (row.device_id, row.question):
            continue  # not this press's answer: reasons never count it either
        known = latest.get(row.event_id)
        if known is None or (row.answered_at, row.followup_id) > (
            known.answered_at,
            known.followup_id,
        ):
            latest[row.event_id] = row
    return latest


def _followup_cells(followup: Any, labels: SurveyTexts) -> tuple[Any, ...]:
    """question, option, label, language, answered_at; all empty for a press not followed
    up, the option and label empty for one shown and not answered. The label and language
    are neutralised here: they come from survey files and kiosks."""
    if followup is None:
        return ("", "", "", "", "")
    label = None
    if followup.option is not None:
        version = (followup.survey_id, followup.survey_version)
        label = labels.label(version, followup.question, followup.option)
    return (
        followup.question,
        followup.option or "",
        "" if label is None else inert(label),
        inert(followup.language or ""),
        _utc(followup.answered_at),
    )


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def scores_csv(
    session: Session, tree: LocationTree, locations: Collection[str], period: Period, by: By
) -> Iterator[str]:
    """Scores of each location (with everything beneath it), per time step or one row each.

    Misuse is left out of the scores; `by="location"` also counts it, ranks and compares
    with the previous period of the same length.
    """
    if by == "location":
        yield csv_lines([LOCATION_COLUMNS])
        yield csv_lines(_location_rows(session, tree, set(locations), period))
        return
    yield csv_lines([BUCKET_COLUMNS])
    for location_id in tree.depth_first(set(locations)):
        yield csv_lines(_bucket_rows(session, tree, location_id, period, by))


def _bucket_rows(
    session: Session, tree: LocationTree, location_id: str, period: Period, by: By
) -> Iterator[tuple[Any, ...]]:
    place = tree.places[location_id]
    zone = ZoneInfo(place.time_zone)
    if by == "hour":
        points = hourly(session, location_id=location_id, period=period)
    else:
        step: Literal["day", "week"] = "day" if by == "day" else "week"
        points = trend(
            session, location_id=location_id, period=period, time_zone=place.time_zone, step=step
        )
    for point in points:
        start = _step_start(point.start, zone)
        head = (location_id, place.name, place.kind, place.time_zone, by)
        yield (*head, _utc(start), start.astimezone(zone).isoformat(), *_score_cells(point))


def _step_start(start: date, zone: ZoneInfo) -> datetime:
    """An hour's UTC instant, or the local midnight a day or week starts at."""
    if isinstance(start, datetime):
        return start
    return datetime.combine(start, time(), tzinfo=zone)


def _score_cells(summary: Summary) -> tuple[Any, ...]:
    interval = summary.positive_ci or ("", "")
    return (
        summary.responses,
        *(getattr(summary.counts, b.value) for b in BUTTONS),
        _blank(summary.happy_index),
        _blank(summary.positive_share),
        *interval,
        "true" if summary.small_sample else "false",
    )


def _location_rows(
    session: Session, tree: LocationTree, locations: set[str], period: Period
) -> Iterator[tuple[Any, ...]]:
    since, until = _utc(period.since), _utc(period.until)
    for row in overview(session, tree=tree, visible=locations, period=period).locations:
        yield (
            row.location,
            row.name,
            row.kind,
            row.parent or "",
            row.time_zone,
            since,
            until,
            *_score_cells(row),
            row.misuse,
            _blank(row.previous_happy_index),
            _blank(row.change),
            _blank(row.rank),
        )


def _blank(value: object) -> object:
    return "" if value is None else value


def reasons_csv(
    session: Session, tree: LocationTree, locations: Collection[str], period: Period
) -> Iterator[str]:
    """The reasons given at each location (with everything beneath it, as the scores roll
    up): a row per question, survey version and option; a question nobody was asked a
    follow-up of has one row, its survey and option cells empty."""
    yield csv_lines([REASON_COLUMNS])
    since, until = _utc(period.since), _utc(period.until)
    for location_id in tree.depth_first(set(locations)):
        place = tree.places[location_id]
        found = reasons(session, tree=tree, location_id=location_id, period=period)
        head = (location_id, place.name, place.kind, place.time_zone, since, until)
        rows = [
            (*head, *cells)
            for question in QUESTIONS
            for cells in _reason_cells(found.question(question))
        ]
        yield csv_lines(rows)  # few rows, every cell neutralised


def _reason_cells(found: QuestionReasons) -> Iterator[tuple[Any, ...]]:
    """question, survey_id, survey_version, presses, followups, answered, unanswered, then
    an option's count, share of the answered, interval and label; one version's counts
    where the period holds more than one."""
    if found.by_version:
        versions = [
            (v.survey_id, v.survey_version, v.answered, v.unanswered, v.options)
            for v in found.by_version
        ]
    elif found.followups:
        survey_id, version = _only_version(found)
        versions = [(survey_id, version, found.answered, found.unanswered, found.options)]
    else:
        yield (found.question, "", "", found.presses, 0, 0, 0, "", "", "", "", "", "")
        return
    for survey_id, version, answered, unanswered, options in versions:
        counts = (found.presses, answered + unanswered, answered, unanswered)
        choices: list[OptionShare | None] = [*options] or [None]
        for option in choices:
            yield (found.question, survey_id, version, *counts, *_option_cells(option))


def _only_version(found: QuestionReasons) -> tuple[str, int]:
    """The one survey version a question's follow-ups answered (the trend names it as
    `survey:version` each day; `by_version` is empty when there is one)."""
    survey_id, version = found.trend[0].versions[0].rsplit(":", 1)
    return survey_id, int(version)


def _option_cells(option: OptionShare | None) -> tuple[Any, ...]:
    if option is None:  # a version whose options the hub does not know, nobody answered
        return ("", "", "", "", "", "")
    low, high = option.ci or ("", "")
    return (
        option.option,
        option.count,
        _blank(option.share),
        low,
        high,
        option.label or "",
    )
