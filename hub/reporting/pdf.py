"""A site's report for a period as a PDF: first the summary a director reads in thirty
seconds (hub.reporting.summary) with the trend, then the ranking, each touchpoint by day,
the heat map, the reasons given (why) and the alerts.

Every figure comes from hub.reporting.analytics, reasons and summary; this module only lays
them out, with reportlab's own drawing primitives (no plotting library, nothing fetched).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
)
from reportlab.platypus.tables import TableStyle
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.clock import Clock, as_utc, utc_now
from hub.hierarchy import LocationTree
from hub.models import Alert
from hub.reporting.analytics import (
    HeatCell,
    OverviewRow,
    Step,
    TrendPoint,
    heatmap,
    overview,
    score_summary,
    trend,
)
from hub.reporting.pdf_fonts import cell as script_cell
from hub.reporting.pdf_fonts import label_direction
from hub.reporting.pdf_fonts import paragraph as script_paragraph
from hub.reporting.reasons import QUESTIONS, QuestionReasons, Reasons, reasons
from hub.reporting.scores import ButtonCounts
from hub.reporting.summary import (
    SiteSummary,
    TouchpointScore,
    duration,
    interval,
    number,
    percent,
    place_text,
    reason_label,
    signed,
    site_summaries,
    span_name,
)
from hub.rollups.buckets import Period
from hub.rollups.read import LocalCounts, local_counts
from hub.tasks.stats import TaskFigures
from protocol.errors import ConfigError
from protocol.files import write_private

STYLES = getSampleStyleSheet()
WIDTH = A4[0] - 36 * mm
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
NO_ALERTS = "No alerts were raised in this period."
NO_FOLLOWUPS = "No follow-up question was shown after this answer in this period."
QUESTION_TITLES = {"negative": "After an unhappy answer", "positive": "After a happy answer"}
VERSION_CHANGED = "The survey changed within this period"
TASKS_NOTE = (
    "Times from opening, median (p90); in time: within the team's targets. Recovered: the "
    "unhappy share after the fix lower than before the alert, with 95 % confidence."
)
FEW_ANSWERS = 10
FONT = "Helvetica"
BOLD = "Helvetica-Bold"
LINE = colors.HexColor("#1b7837")
BARS = colors.HexColor("#9ecae1")
GRID = colors.HexColor("#d9d9d9")
HEADING = ParagraphStyle(
    "SummaryHeading", parent=STYLES["Heading3"], fontSize=11.5, spaceBefore=8, spaceAfter=3
)
BODY = ParagraphStyle("SummaryBody", parent=STYLES["Normal"], fontSize=9, leading=11.5)
NOTE = ParagraphStyle("SummaryNote", parent=STYLES["Italic"], fontSize=7.5, leading=9.5)
CARD_TITLE = ParagraphStyle("CardTitle", parent=BODY, fontName=BOLD, fontSize=9)
CARD_VALUE = ParagraphStyle("CardValue", parent=BODY, fontName=BOLD, fontSize=22, leading=26)
CARD_NOTE = ParagraphStyle("CardNote", parent=BODY, fontSize=8, leading=10)
SMALL_TABLE: list[tuple[Any, ...]] = [
    ("FONT", (0, 0), (-1, 0), BOLD, 8.5),
    ("FONT", (0, 1), (-1, -1), "Helvetica", 8.5),
    ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
    ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
]


@dataclass(frozen=True)
class Point:
    """One step of the trend: a local hour, day or week."""

    label: str
    happy_index: float | None
    responses: int
    step: str
    """What a point is: local hour, local day, ISO week."""


def site_alerts(session: Session, site_locations: set[str], period: Period) -> list[dict[str, Any]]:
    """The alerts raised at the site's locations in the period, oldest first."""
    statement = (
        select(Alert)
        .where(
            Alert.location_id.in_(sorted(site_locations)),
            Alert.opened_at >= period.since,
            Alert.opened_at < period.until,
        )
        .order_by(Alert.opened_at, Alert.id)
    )
    return [
        {
            "raised_at": alert.opened_at,
            "location": alert.location_id,
            "kind": alert.kind,
            "detail": alert.message,
            "state": _state(alert),
        }
        for alert in session.scalars(statement)
    ]


def _state(alert: Alert) -> str:
    if alert.resolved_at:
        return "resolved"
    return "acknowledged" if alert.acknowledged_at else "open"


def write_site_report(
    session: Session,
    site_id: str,
    period: Period,
    path: Path,
    *,
    clock: Clock = utc_now,
    previous: Period | None = None,
) -> SiteSummary:
    """Write the report of one site (and everything beneath it) over the period to `path`,
    all or nothing, readable by its owner only (it names places and how they fare); `clock`
    says when it was written, `previous` what it is compared with (default: the period of
    the same length before). Returns the summary its first page shows."""
    tree = LocationTree.load(session)
    if site_id not in tree:
        raise ConfigError(f"no location {site_id!r}; list them with `seed-hub locations list`")
    place = tree.places[site_id]
    locations = tree.subtree(site_id)
    zone = place.time_zone
    written = clock()
    [summary] = site_summaries(
        session, tree=tree, sites=[site_id], period=period, now=written, previous=previous
    )
    rows = overview(session, tree=tree, visible=locations, period=period).locations
    local = local_counts(session, location_id=site_id, period=period, time_zone=zone)
    series = _series(session, site_id, period, zone, local)
    one_day = period.until - period.since <= timedelta(days=1, hours=1)
    story = [
        *_title(place.name, period, zone, written=written),
        *_summary_page(summary, series),
        PageBreak(),
        KeepTogether(_ranking(rows)),
        *([] if one_day else _touchpoint_days(session, tree, site_id, period)),
        *(
            []
            if one_day
            else [KeepTogether(_heatmap(heatmap_cells(session, site_id, period, local), zone))]
        ),
        *_why(reasons(session, tree=tree, location_id=site_id, period=period)),
        *_alerts(site_alerts(session, locations, period), zone),
    ]
    pdf = BytesIO()
    document = SimpleDocTemplate(
        pdf,
        pagesize=A4,
        title=f"{place.name}: perception report",
        author="Seed hub",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=15 * mm,
        bottomMargin=16 * mm,
    )
    document.build(story, onFirstPage=_footer, onLaterPages=_footer)
    write_private(path, pdf.getvalue())
    return summary


def _local(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y %H:%M")


def _summary_page(summary: SiteSummary, series: Sequence[Point]) -> list[Flowable]:
    """What a director reads first: the figures, the trend, best and worst, why, tasks."""
    span = span_name(summary.period)
    return [
        _cards(summary),
        Spacer(1, 4 * mm),
        KeepTogether([_heading(f"Trend by {series[0].step}"), _trend_chart(series)]),
        KeepTogether(_best_and_worst(summary, span)),
        KeepTogether(_top_reasons(summary)),
        KeepTogether(_tasks(summary)),
    ]


def _heading(text: str) -> Paragraph:
    return Paragraph(text, HEADING)


def _cards(summary: SiteSummary) -> Table:
    """Three boxes: Happy Index and its change, % positive and its interval, responses."""
    score, before, span = summary.score, summary.before, span_name(summary.period)
    change = (
        f"{signed(summary.change)} against the {span} before ({number(before.happy_index)})"
        if summary.change is not None
        else f"nothing to compare with the {span} before"
    )
    by_channel = (
        f"{summary.channels.get('kiosk', 0):,} kiosk, {summary.channels.get('web', 0):,} phone"
    )
    cards = [
        ("Happy Index", number(score.happy_index), change),
        ("Positive", percent(score.positive_share), interval(score.positive_ci) or "no answers"),
        (
            "Responses",
            f"{score.responses:,}",
            f"{by_channel}; {before.responses:,} the {span} before",
        ),
    ]
    table = Table(
        [
            [
                [Paragraph(t, CARD_TITLE), Paragraph(v, CARD_VALUE), Paragraph(c, CARD_NOTE)]
                for t, v, c in cards
            ]
        ],
        colWidths=[WIDTH / 3] * 3,
    )
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f1f4f7")),
                ("LINEAFTER", (0, 0), (1, 0), 2, colors.white),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def _best_and_worst(summary: SiteSummary, span: str) -> list[Flowable]:
    halves = [
        _touchpoint_table(title, found, summary, span)
        for title, found in (
            ("Best touchpoints", summary.best),
            ("Worst touchpoints", summary.worst),
        )
    ]
    table = Table([halves], colWidths=[WIDTH / 2] * 2, hAlign="LEFT")
    table.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    )
    note = (
        f"Touchpoints with at least {summary.min_answers} answers, by Happy Index; "
        f"change against the {span} before."
    )
    return [_heading("Best and worst touchpoints"), table, Paragraph(note, NOTE)]


def _touchpoint_table(
    title: str, found: Sequence[TouchpointScore], summary: SiteSummary, span: str
) -> Flowable:
    if not found:
        return Paragraph(f"{title}: no touchpoint had {summary.min_answers} answers.", BODY)
    rows = [
        [
            script_cell(t.name, 9),
            number(t.happy_index),
            "-" if t.change is None else signed(t.change),
        ]
        for t in found
    ]
    table = Table(
        [[title, "Index", "Change"], *rows], colWidths=[50 * mm, 14 * mm, 16 * mm], hAlign="LEFT"
    )
    table.setStyle(TableStyle(SMALL_TABLE))
    return table


def _top_reasons(summary: SiteSummary) -> list[Flowable]:
    heading = _heading("Why travellers were unhappy")
    if not summary.reasons:
        return [heading, Paragraph("No reason was given after an unhappy answer.", BODY)]
    most = summary.reasons[0].count
    rows = [
        [
            script_paragraph(reason_label(r), BODY, direction=label_direction(reason_label(r))),
            percent(r.share),
            f"{r.count:,}",
            _bar(r.count / most),
        ]
        for r in summary.reasons
    ]
    table = Table(
        [["Top reasons", "Share", "Answers", ""], *rows],
        colWidths=[70 * mm, 18 * mm, 20 * mm, 50 * mm],
        hAlign="LEFT",
    )
    table.setStyle(TableStyle([*SMALL_TABLE, ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    note = f"Of {summary.unhappy_answered:,} follow-ups answered after an unhappy press."
    return [heading, table, Paragraph(note, NOTE)]


def _tasks(summary: SiteSummary) -> list[Flowable]:
    """Per team: how fast, within the targets, escalated, recovered; then each place fixed."""
    heading = _heading("Tasks and whether the fix worked")
    if not summary.teams:
        return [heading, Paragraph("No task was opened in this period.", BODY)]
    header = [
        "Team",
        "Tasks",
        "Acknowledged",
        "In time",
        "Resolved",
        "In time",
        "Escalated",
        "Recovered",
    ]
    rows = [
        [
            script_cell(team.team_name, 8.5),
            team.tasks,
            f"{duration(team.ack_median_min)} (p90 {duration(team.ack_p90_min)})",
            percent(team.ack_in_time),
            f"{duration(team.resolve_median_min)} (p90 {duration(team.resolve_p90_min)})",
            percent(team.resolve_in_time),
            team.escalated,
            _recovered(team),
        ]
        for team in summary.teams
    ]
    table = Table([header, *rows], repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([*SMALL_TABLE, ("ALIGN", (1, 0), (-1, -1), "RIGHT")]))
    parts: list[Flowable] = [heading, table]
    for place in summary.places:
        parts.append(script_paragraph(f"{place_text(place)}.", BODY, direction="ltr"))
    parts.append(Paragraph(TASKS_NOTE, NOTE))
    return parts


def _recovered(figures: TaskFigures) -> str:
    told = figures.recovered + figures.not_recovered
    return "-" if not told else f"{figures.recovered} of {told}"


def _touchpoint_days(
    session: Session, tree: LocationTree, site_id: str, period: Period
) -> list[Flowable]:
    """Each touchpoint's Happy Index per local day (per week beyond two months): where and
    when a place turned sour."""
    zone = tree.places[site_id].time_zone
    step: Step = "day" if period.until - period.since <= timedelta(days=62) else "week"
    touchpoints = [
        location_id
        for location_id in tree.depth_first(tree.subtree(site_id))
        if tree.places[location_id].kind == "touchpoint"
    ]
    if not touchpoints:
        return []
    rows, fills = [], []
    header: list[str] = []
    for row, location_id in enumerate(touchpoints, start=1):
        points = trend(session, location_id=location_id, period=period, time_zone=zone, step=step)
        header = [_step_label(p.start, step, len(points)) for p in points]
        rows.append(
            [script_cell(tree.places[location_id].name, 8.5)] + [_index_cell(p) for p in points]
        )
        fills += [
            ("BACKGROUND", (column, row), (column, row), _heat_color(p.happy_index))
            for column, p in enumerate(points, start=1)
        ]
    first = 46 * mm
    other = (WIDTH - first) / max(len(header), 1)
    table = Table(
        [["Touchpoint", *header], *rows], colWidths=[first] + [other] * len(header), hAlign="LEFT"
    )
    font = 8 if len(header) <= 16 else 6
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), BOLD, font),
                ("FONT", (0, 1), (-1, -1), "Helvetica", font),
                ("ALIGN", (1, 0), (-1, -1), "CENTER"),
                ("GRID", (1, 1), (-1, -1), 1, colors.white),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("LEFTPADDING", (1, 0), (-1, -1), 1),
                ("RIGHTPADDING", (1, 0), (-1, -1), 1),
                *fills,
            ]
        )
    )
    caption = (
        f"Happy Index per touchpoint and local {step} ({zone}); red low, green high; "
        "- no answers, * fewer than 10."
    )
    return [KeepTogether([_heading(f"Touchpoints by {step}"), table, Paragraph(caption, NOTE)])]


def _index_cell(point: TrendPoint) -> str:
    if point.happy_index is None:
        return "-"
    return f"{point.happy_index:.0f}" + ("*" if point.responses < FEW_ANSWERS else "")


def _title(name: str, period: Period, zone: str, *, written: datetime) -> list[Flowable]:
    last = period.until - timedelta(microseconds=1)
    return [
        script_paragraph(f"{name}: perception report", STYLES["Title"], direction="ltr"),
        Paragraph(
            f"{_local(period.since, zone)} to {_local(last, zone)} ({zone}); "
            f"written {as_utc(written):%Y-%m-%d %H:%M} UTC",
            STYLES["Normal"],
        ),
        Spacer(1, 6 * mm),
    ]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _ranking(rows: Sequence[OverviewRow]) -> list[Flowable]:
    header = [
        "Location",
        "Kind",
        "Responses",
        "Happy Index",
        "Positive",
        "Change",
        "Rank",
        "Misuse",
    ]
    body = [
        [
            script_cell(row.name, 9, indent="  " * row.depth),
            row.kind,
            row.responses,
            _number(row.happy_index) + (" *" if row.small_sample else ""),
            "-" if row.positive_share is None else f"{row.positive_share:.0%}",
            "-" if row.change is None else signed(row.change),
            row.rank or "-",
            row.misuse,
        ]
        for row in rows
    ]
    table = Table([header, *body], repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9),
                ("FONT", (0, 1), (-1, -1), "Helvetica", 9),
                ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f2f2f2")]),
            ]
        )
    )
    note = "Ranked by Happy Index within each kind; * fewer than 30 responses, not ranked."
    return [
        _heading("Ranking"),
        table,
        Paragraph(note, STYLES["Italic"]),
    ]


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _series(
    session: Session, site_id: str, period: Period, zone: str, local: LocalCounts
) -> list[Point]:
    """A day by its local hours, up to two months by day, longer by ISO week."""
    days = (period.until - period.since) / timedelta(days=1)
    if days <= 1.05:
        weekday = period.since.astimezone(ZoneInfo(zone)).weekday()
        hours = [
            score_summary(local.week_hours.get((weekday, h), ButtonCounts())) for h in range(24)
        ]
        return [
            Point(f"{h:02d}", s.happy_index, s.responses, "local hour") for h, s in enumerate(hours)
        ]
    step: Step = "day" if days <= 62 else "week"
    points = trend(
        session, location_id=site_id, period=period, time_zone=zone, step=step, local=local
    )
    return [
        Point(
            _step_label(p.start, step, len(points)),
            p.happy_index,
            p.responses,
            "local day" if step == "day" else "ISO week",
        )
        for p in points
    ]


def _step_label(start: date, step: Step, count: int) -> str:
    if step == "week":
        return f"W{start.isocalendar()[1]:02d}"
    return f"{WEEKDAYS[start.weekday()]} {start.day}" if count <= 8 else str(start.day)


def _axis_floor(values: Sequence[float]) -> int:
    """Where the Happy Index axis starts: ten below the lowest value, in tens, at least 0."""
    return max(0, int((min(values, default=50) - 5) // 10 * 10))


def _trend_chart(points: Sequence[Point]) -> Drawing:
    """The Happy Index as a line with its values written in, over responses as bars; one
    x axis, each panel its own y axis."""
    left, plot_w = 14 * mm, WIDTH - 16 * mm
    bars_y, bars_h, line_y, line_h = 6 * mm, 18 * mm, 31 * mm, 38 * mm
    drawing = Drawing(WIDTH, line_y + line_h + 5 * mm)
    step = plot_w / max(len(points), 1)
    every = max(1, math.ceil(len(points) / 16))
    values = [p.happy_index for p in points if p.happy_index is not None]
    floor = _axis_floor(values)
    grid = 10 if 100 - floor <= 50 else 25
    for value in range(floor, 101, grid):
        y = line_y + line_h * (value - floor) / (100 - floor)
        drawing.add(Line(left, y, left + plot_w, y, strokeColor=GRID, strokeWidth=0.5))
        drawing.add(
            String(left - 2, y - 2.5, str(value), fontName=FONT, fontSize=7.5, textAnchor="end")
        )
    title = "Happy Index (0-100" + (f", axis from {floor})" if floor else ")")
    drawing.add(String(left, line_y + line_h + 2 * mm, title, fontSize=8, fontName=BOLD))
    most = max((p.responses for p in points), default=0)
    drawing.add(String(left, bars_y + bars_h + 1.5 * mm, "Responses", fontSize=8, fontName=BOLD))
    drawing.add(Line(left, bars_y, left + plot_w, bars_y, strokeColor=colors.grey, strokeWidth=0.5))
    previous: tuple[float, float] | None = None
    for i, point in enumerate(points):
        x = left + (i + 0.5) * step
        if point.responses:
            bar = (bars_h - 4 * mm) * point.responses / (most or 1)
            drawing.add(
                Rect(x - step * 0.35, bars_y, step * 0.7, bar, fillColor=BARS, strokeWidth=0)
            )
            if len(points) <= 16:
                label = f"{point.responses:,}"
                drawing.add(
                    String(
                        x, bars_y + bar + 1, label, fontName=FONT, fontSize=6.5, textAnchor="middle"
                    )
                )
        if i % every == 0:
            drawing.add(
                String(
                    x,
                    bars_y - 4 * mm,
                    point.label,
                    fontName=FONT,
                    fontSize=7.5,
                    textAnchor="middle",
                )
            )
        if point.happy_index is None:
            previous = None
            continue
        y = line_y + line_h * (point.happy_index - floor) / (100 - floor)
        if previous is not None:
            drawing.add(Line(*previous, x, y, strokeColor=LINE, strokeWidth=2))
        drawing.add(Circle(x, y, 1.8, fillColor=LINE, strokeColor=colors.white, strokeWidth=0.5))
        if len(points) <= 31 and i % every == 0:
            drawing.add(
                String(
                    x,
                    y + 2.5 * mm,
                    f"{point.happy_index:.0f}",
                    fontName=FONT,
                    fontSize=7.5,
                    textAnchor="middle",
                )
            )
        previous = (x, y)
    return drawing


def _heat_color(index: float | None) -> colors.Color:
    """Red (0) through yellow (50) to green (100); light grey where nobody answered."""
    if index is None:
        return colors.HexColor("#eeeeee")
    share = max(0.0, min(1.0, index / 100))
    if share < 0.5:
        return colors.Color(0.85, 0.25 + 1.2 * share, 0.2)
    return colors.Color(0.85 - 1.3 * (share - 0.5), 0.85, 0.2)


def heatmap_cells(
    session: Session, site_id: str, period: Period, local: LocalCounts
) -> list[list[HeatCell]]:
    return heatmap(
        session, location_id=site_id, period=period, time_zone=local.time_zone, local=local
    ).cells


def _heatmap(cells: Sequence[Sequence[HeatCell]], zone: str) -> list[Flowable]:
    """Hour of day across, day of week down, coloured by Happy Index, responses written in."""
    left, cell_w, cell_h = 12 * mm, (WIDTH - 14 * mm) / 24, 7 * mm
    drawing = Drawing(WIDTH, cell_h * 8)
    for weekday, hours in enumerate(cells):
        y = cell_h * (6 - weekday)
        drawing.add(String(0, y + 2 * mm, WEEKDAYS[weekday], fontName=FONT, fontSize=8))
        for hour, cell in enumerate(hours):
            x = left + hour * cell_w
            fill = _heat_color(cell.happy_index)
            drawing.add(Rect(x, y, cell_w, cell_h, fillColor=fill, strokeColor=colors.white))
            if cell.responses:
                drawing.add(
                    String(
                        x + cell_w / 2,
                        y + 2 * mm,
                        str(cell.responses),
                        fontName=FONT,
                        fontSize=6,
                        textAnchor="middle",
                    )
                )
    for hour in range(0, 24, 3):
        drawing.add(
            String(
                left + hour * cell_w,
                cell_h * 7 + 1 * mm,
                f"{hour:02d}",
                fontName=FONT,
                fontSize=7.5,
            )
        )
    caption = f"Local time ({zone}); colour: Happy Index, red low, green high; numbers: responses."
    return [
        _heading("When: hour by day of week"),
        drawing,
        Paragraph(caption, STYLES["Italic"]),
    ]


def _why(found: Reasons) -> list[Flowable]:
    """Per question, the site's top reasons (count, share of the answered, a bar), the share
    of presses that got a follow-up, and a note where the survey changed in the period."""
    parts: list[Flowable] = [_heading("Why: the reasons given")]
    for question in QUESTIONS:
        parts.append(KeepTogether(_question(found.question(question))))
    return parts


def _question(found: QuestionReasons) -> list[Flowable]:
    title = Paragraph(QUESTION_TITLES[found.question], STYLES["Heading4"])
    if not found.followups:
        return [title, Paragraph(NO_FOLLOWUPS, STYLES["Normal"])]
    reach = f"{found.followups} of {found.presses} presses got a follow-up"
    if found.followup_share is not None:
        reach += f" ({_share(found.followup_share, found.followup_ci)})"
    reach += f"; {found.answered} answered, {found.unanswered} left it unanswered."
    parts: list[Flowable] = [title, Paragraph(reach, STYLES["Normal"])]
    given = [option for option in found.options if option.count > 0][:3]
    if given:
        most = given[0].count
        rows = [
            [
                script_paragraph(
                    option.label or option.option,
                    STYLES["BodyText"],
                    direction=label_direction(option.label or option.option),
                ),
                option.count,
                "-" if option.share is None else f"{option.share:.0%}",
                _bar(option.count / most),
            ]
            for option in given
        ]
        table = Table(
            [["Top reasons", "Answers", "Share", ""], *rows],
            colWidths=[70 * mm, 20 * mm, 18 * mm, 50 * mm],
            hAlign="LEFT",
        )
        table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9),
                    ("FONT", (0, 1), (-1, -1), "Helvetica", 9),
                    ("ALIGN", (1, 0), (2, -1), "RIGHT"),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ]
            )
        )
        parts.append(table)
    versions = [f"{v.survey_id} v{v.survey_version}" for v in found.by_version]
    if versions:
        days = [f", on {p.start:%a %d %b}" for p in found.trend if p.question_changed]
        note = (
            f"{VERSION_CHANGED}{''.join(days[:1])} (answers to {', '.join(versions)}): the "
            "reasons above are summed by option key; the reasons CSV export splits them by "
            "version."
        )
        parts.append(Paragraph(_escape(note), STYLES["Italic"]))
    return parts


def _share(share: float, interval: tuple[float, float] | None) -> str:
    if interval is None:
        return f"{share:.0%}"
    return f"{share:.0%}, 95 % CI {interval[0]:.0%}-{interval[1]:.0%}"


def _bar(fraction: float) -> Drawing:
    """A horizontal bar, full width for the most given reason."""
    width, height = 48 * mm, 3 * mm
    drawing = Drawing(width, height)
    drawing.add(
        Rect(0, 0, max(width * fraction, 0.5), height, fillColor=colors.lightblue, strokeWidth=0)
    )
    return drawing


def _alerts(alerts: Sequence[dict[str, Any]], zone: str) -> list[Flowable]:
    heading = _heading("Alerts")
    if not alerts:
        return [heading, Paragraph(NO_ALERTS, STYLES["Normal"])]
    rows = [
        [
            _local(a["raised_at"], zone),
            script_cell(a["location"], 8),
            a["kind"],
            a["state"],
            script_cell(a["detail"][:70], 8),
        ]
        for a in alerts
    ]
    header = ["Raised", "Location", "Alert", "State", "Detail"]
    table = Table([header, *rows], repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), "Helvetica", 8)]))
    return [heading, table]


def _footer(canvas: Canvas, document: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont("Helvetica", 7)
    canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"Seed hub · page {document.page}")
    canvas.restoreState()
