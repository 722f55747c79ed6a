"""The PDF reports kept on the hub (daily, weekly and monthly), and the page to download them
and CSV exports.

A report is known by its file's name alone: `<site>-<label>.pdf` in the site's folder for its
cadence (as hub/reporting/schedule.py writes them), so no other name is ever listed or served.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hub.config import CADENCES, Cadence
from hub.reporting.schedule import read_sidecar, reports_dir, safe_name
from hub.users import Principal
from hub.web.auth import Db, Manager, Now, web_context
from hub.web.routes_scores import visible_tree

router = APIRouter()

Shown = Literal["all", "daily", "weekly", "monthly"]
LABELS: dict[Cadence, str] = {
    "daily": r"\d{4}-\d{2}-\d{2}",
    "weekly": r"\d{4}-W\d{2}",
    "monthly": r"\d{4}-\d{2}",
}
PAGE_ROWS = 100
"""Reports the page lists at first; each "Show older reports" adds as many."""
MAX_LISTED = 100_000
NOT_YOURS = "no such report among yours"

CadenceQuery = Annotated[Shown, Query(description="one cadence's reports (default: all)")]


class ReportOut(BaseModel):
    site: str
    cadence: Cadence
    label: str = Field(description="the day, ISO week or month: 2026-11-22, 2026-W47, 2026-11")
    week: str | None = Field(description="a weekly report's ISO week; null for the others")
    first_day: date = Field(description="the first day it covers, in the site's time zone")
    last_day: date = Field(description="the last day it covers, in the site's time zone")
    period: dict[str, str] | None = Field(
        description="the instants it covers: since (inclusive) and until (exclusive), UTC"
    )
    file: str
    size: int = Field(description="the PDF's size in bytes")
    emailed_at: str | None = Field(description="when it was last e-mailed; null if never")
    url: str


@dataclass(frozen=True)
class Kept:
    """A report's PDF on disk, as its name describes it."""

    site: str
    cadence: Cadence
    label: str
    first_day: date
    end: date
    """The day after its last."""
    pdf: Path


def _sites(session: Session, user: Principal) -> list[str]:
    tree, visible = visible_tree(session, user)
    return [site for site in tree.roots() if site in visible]


def _folder(root: Path, site: str, cadence: Cadence) -> Path:
    folder = root / safe_name(site)
    return folder if cadence == "weekly" else folder / cadence


def _days(cadence: Cadence, label: str) -> tuple[date, date] | None:
    """The first day a label covers and the day after its last; None for no real day."""
    try:
        if cadence == "daily":
            first = date.fromisoformat(label)
            return first, first + timedelta(days=1)
        if cadence == "weekly":
            year, week = label.split("-W")
            first = date.fromisocalendar(int(year), int(week), 1)
            return first, first + timedelta(days=7)
        first = date.fromisoformat(f"{label}-01")
    except ValueError:
        return None
    return first, (first + timedelta(days=32)).replace(day=1)


def _kept(root: Path, site: str, cadence: Cadence, name: str) -> Kept | None:
    """The report a name names in the site's folder for the cadence; None for any other
    name, and for anything there that is not a plain file."""
    match = re.fullmatch(rf"{re.escape(safe_name(site))}-({LABELS[cadence]})\.pdf", name)
    days = _days(cadence, match.group(1)) if match else None
    pdf = _folder(root, site, cadence) / name
    if match is None or days is None or pdf.is_symlink() or not pdf.is_file():
        return None
    return Kept(site, cadence, match.group(1), days[0], days[1], pdf)


def _cadences(shown: Shown) -> tuple[Cadence, ...]:
    return CADENCES if shown == "all" else (shown,)


def _site_reports(root: Path, site: str, shown: Shown) -> list[Kept]:
    reports = []
    for cadence in _cadences(shown):
        folder = _folder(root, site, cadence)
        names = sorted(entry.name for entry in folder.iterdir()) if folder.is_dir() else []
        reports += [kept for name in names if (kept := _kept(root, site, cadence, name))]
    return reports


def _listing(root: Path, sites: list[str], shown: Shown) -> list[Kept]:
    """The sites' reports, those whose period ended last first (on the same day, the
    shorter first), then by site."""
    reports = [kept for site in sites for kept in _site_reports(root, site, shown)]
    return sorted(reports, key=lambda kept: (kept.end, kept.first_day), reverse=True)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _period(value: Any) -> dict[str, str] | None:
    """A sidecar's period if it reads as one; None if it was lost or spoilt."""
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return {str(k): v for k, v in value.items()}
    return None


def _out(kept: Kept) -> ReportOut:
    state = read_sidecar(kept.pdf)
    return ReportOut(
        site=kept.site,
        cadence=kept.cadence,
        label=kept.label,
        week=kept.label if kept.cadence == "weekly" else None,
        first_day=kept.first_day,
        last_day=kept.end - timedelta(days=1),
        period=_period(state.get("period")),
        file=kept.pdf.name,
        size=kept.pdf.stat().st_size,
        emailed_at=_text(state.get("emailed_at")),
        url=f"/api/reports/{kept.site}/{kept.pdf.name}",
    )


@router.get("/api/reports", tags=["reports"])
def api_reports(
    request: Request,
    session: Db,
    user: Manager,
    cadence: CadenceQuery = "all",
    limit: Annotated[int | None, Query(ge=1, le=MAX_LISTED, description="the newest N")] = None,
) -> list[ReportOut]:
    """The daily, weekly and monthly PDF reports of your sites, newest first."""
    root = reports_dir(web_context(request).settings)
    return [_out(kept) for kept in _listing(root, _sites(session, user), cadence)[:limit]]


@router.get("/api/reports/{site}/{name}", tags=["reports"], response_class=FileResponse)
def api_report(request: Request, session: Db, user: Manager, site: str, name: str) -> Response:
    """One PDF report (daily, weekly or monthly) of one of your sites."""
    if site not in _sites(session, user):
        raise HTTPException(404, NOT_YOURS)
    root = reports_dir(web_context(request).settings)
    found = [kept for c in CADENCES if (kept := _kept(root, site, c, name))]
    if not found:
        raise HTTPException(404, NOT_YOURS)
    return FileResponse(found[0].pdf, media_type="application/pdf", filename=name)


def _moment(stamp: Any) -> datetime | None:
    """A sidecar's ISO moment as a datetime, for the page's `when` filter; None if unreadable."""
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp)
    except ValueError:
        return None


def _page_row(report: ReportOut) -> dict[str, Any]:
    """A report as the page shows it: its moment as a datetime, which the page formats in
    its reader's language (the API keeps its ISO string)."""
    return {**report.model_dump(), "emailed_at": _moment(report.emailed_at)}


@router.get("/reports", response_class=HTMLResponse, include_in_schema=False)
def reports_page(
    request: Request,
    session: Db,
    user: Manager,
    now: Now,
    cadence: CadenceQuery = "all",
    limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = PAGE_ROWS,
) -> Response:
    tree, visible = visible_tree(session, user)
    root = reports_dir(web_context(request).settings)
    reports = _listing(root, _sites(session, user), cadence)
    today = now.date()
    return web_context(request).templates.TemplateResponse(
        request,
        "reports.html",
        {
            "user": user,
            "reports": [_page_row(_out(kept)) for kept in reports[:limit]],
            "total": len(reports),
            "cadence": cadence,
            "more": limit + PAGE_ROWS if len(reports) > limit else None,
            "locations": [tree.places[i] for i in tree.depth_first(visible)],
            "since": (today - timedelta(days=7)).isoformat(),
            "until": today.isoformat(),
        },
    )
