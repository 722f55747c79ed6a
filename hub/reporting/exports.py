"""CSV exports of raw responses and of aggregated scores, as generators of text chunks.

Rows are read from the database in chunks (a server-side cursor on PostgreSQL), so an
export of millions of responses never holds more than one chunk in memory. Times are given
in ISO 8601 UTC and again in the location's own time zone. A text cell that a spreadsheet
would run as a formula (a location named `=HYPERLINK(…)`) is written with a `'` before it.
"""

import csv
import io
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from hub.hierarchy import LocationTree
from hub.models import Event, Location
from hub.reporting.analytics import Summary, hourly, overview, trend
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
    """Every press at the locations in the period, oldest first, misuse flagged; header first."""
    places = {
        loc.location_id: (inert(loc.name), ZoneInfo(loc.time_zone))
        for loc in session.scalars(select(Location).where(Location.location_id.in_(locations)))
    }
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
    for chunk in session.execute(statement).partitions():
        rows = (_response_row(row, *places[row.location_id]) for row in chunk)
        yield csv_lines(rows, neutralised=True)


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
