"""A site's report for a period as a PDF: ranking, daily trend, heat map, the reasons given
(why), alerts.

Every figure comes from hub.reporting.analytics and hub.reporting.reasons; this module only
lays them out, with reportlab's own drawing primitives (no plotting library, nothing fetched).
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.graphics.shapes import Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
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
from hub.reporting.analytics import HeatCell, OverviewRow, TrendPoint, heatmap, overview, trend
from hub.reporting.pdf_fonts import cell as script_cell
from hub.reporting.pdf_fonts import label_direction
from hub.reporting.pdf_fonts import paragraph as script_paragraph
from hub.reporting.reasons import QUESTIONS, QuestionReasons, Reasons, reasons
from hub.rollups.buckets import Period
from hub.rollups.read import local_counts
from protocol.errors import ConfigError
from protocol.files import write_private

STYLES = getSampleStyleSheet()
WIDTH = A4[0] - 36 * mm
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
NO_ALERTS = "No alerts were raised in this period."
NO_FOLLOWUPS = "No follow-up question was shown after this answer in this period."
QUESTION_TITLES = {"negative": "After an unhappy answer", "positive": "After a happy answer"}
VERSION_CHANGED = "The survey changed within this period"


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
    session: Session, site_id: str, period: Period, path: Path, *, clock: Clock = utc_now
) -> None:
    """Write the report of one site (and everything beneath it) over the period to `path`,
    all or nothing, readable by its owner only (it names places and how they fare); `clock`
    says when it was written."""
    tree = LocationTree.load(session)
    if site_id not in tree:
        raise ConfigError(f"no location {site_id!r}; list them with `seed-hub locations list`")
    place = tree.places[site_id]
    locations = tree.subtree(site_id)
    zone = place.time_zone
    rows = overview(session, tree=tree, visible=locations, period=period).locations
    local = local_counts(session, location_id=site_id, period=period, time_zone=zone)
    days = trend(
        session, location_id=site_id, period=period, time_zone=zone, step="day", local=local
    )
    cells = heatmap(session, location_id=site_id, period=period, time_zone=zone, local=local).cells
    alerts = site_alerts(session, locations, period)
    why = reasons(session, tree=tree, location_id=site_id, period=period)
    story = [
        *_title(place.name, period, zone, written=clock()),
        *_ranking(rows),
        PageBreak(),
        *_trend(days),
        *_heatmap(cells, zone),
        PageBreak(),
        *_why(why),
        Spacer(1, 6 * mm),
        *_alerts(alerts, zone),
    ]
    pdf = BytesIO()
    document = SimpleDocTemplate(
        pdf,
        pagesize=A4,
        title=f"{place.name}: perception report",
        author="Seed hub",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
    )
    document.build(story, onFirstPage=_footer, onLaterPages=_footer)
    write_private(path, pdf.getvalue())


def _local(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y %H:%M")


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
            "-" if row.change is None else f"{row.change:+.1f}",
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
        Paragraph("Ranking", STYLES["Heading2"]),
        table,
        Paragraph(note, STYLES["Italic"]),
    ]


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _trend(days: Sequence[TrendPoint]) -> list[Flowable]:
    """Responses per local day as bars, the Happy Index (0-100) as a line over them."""
    height, left, bottom = 70 * mm, 12 * mm, 12 * mm
    plot_w, plot_h = WIDTH - 2 * left, height - bottom - 6 * mm
    drawing = Drawing(WIDTH, height)
    drawing.add(Rect(left, bottom, plot_w, plot_h, fillColor=None, strokeColor=colors.grey))
    most = max((d.responses for d in days), default=0) or 1
    step = plot_w / max(len(days), 1)
    points: list[float] = []
    for i, day in enumerate(days):
        x = left + i * step
        bar = plot_h * day.responses / most
        drawing.add(Rect(x + step * 0.15, bottom, step * 0.7, bar, fillColor=colors.lightblue))
        if day.happy_index is not None:
            points += [x + step / 2, bottom + plot_h * day.happy_index / 100]
        if len(days) <= 31 or i % 7 == 0:
            drawing.add(String(x + step / 2, bottom - 9, day.start.isoformat()[5:], fontSize=6))
    if len(points) >= 4:
        drawing.add(PolyLine(points, strokeColor=colors.darkgreen, strokeWidth=1.5))
    for value in (0, 50, 100):
        y = bottom + plot_h * value / 100
        drawing.add(Line(left - 2, y, left, y))
        drawing.add(String(left - 4, y - 2, str(value), fontSize=6, textAnchor="end"))
    caption = f"Bars: responses per day (most {most}). Line: Happy Index, 0-100."
    return [
        Paragraph("Daily trend", STYLES["Heading2"]),
        drawing,
        Paragraph(caption, STYLES["Italic"]),
    ]


def _heat_color(index: float | None) -> colors.Color:
    """Red (0) through yellow (50) to green (100); light grey where nobody answered."""
    if index is None:
        return colors.HexColor("#eeeeee")
    share = max(0.0, min(1.0, index / 100))
    if share < 0.5:
        return colors.Color(0.85, 0.25 + 1.2 * share, 0.2)
    return colors.Color(0.85 - 1.3 * (share - 0.5), 0.85, 0.2)


def _heatmap(cells: Sequence[Sequence[HeatCell]], zone: str) -> list[Flowable]:
    """Hour of day across, day of week down, coloured by Happy Index, responses written in."""
    left, cell_w, cell_h = 12 * mm, (WIDTH - 14 * mm) / 24, 7 * mm
    drawing = Drawing(WIDTH, cell_h * 8)
    for weekday, hours in enumerate(cells):
        y = cell_h * (6 - weekday)
        drawing.add(String(0, y + 2 * mm, WEEKDAYS[weekday], fontSize=7))
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
                        fontSize=5,
                        textAnchor="middle",
                    )
                )
    for hour in range(0, 24, 3):
        drawing.add(String(left + hour * cell_w, cell_h * 7 + 1 * mm, f"{hour:02d}", fontSize=6))
    caption = f"Local time ({zone}); colour: Happy Index, red low, green high; numbers: responses."
    return [
        Paragraph("When: hour by day of week", STYLES["Heading2"]),
        drawing,
        Paragraph(caption, STYLES["Italic"]),
    ]


def _why(found: Reasons) -> list[Flowable]:
    """Per question, the site's top reasons (count, share of the answered, a bar), the share
    of presses that got a follow-up, and a note where the survey changed in the period."""
    parts: list[Flowable] = [Paragraph("Why: the reasons given", STYLES["Heading2"])]
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
    heading = Paragraph("Alerts", STYLES["Heading2"])
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
