"""The weekly PDF reports kept on the hub, and the page to download them and CSV exports."""

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy.orm import Session

from hub.reporting.schedule import read_sidecar, reports_dir, safe_name
from hub.users import Principal
from hub.web.auth import Db, Manager, Now, web_context
from hub.web.routes_scores import visible_tree

router = APIRouter()

REPORT_NAME = re.compile(r"[A-Za-z0-9._-]+-\d{4}-W\d{2}\.pdf")


def _sites(session: Session, user: Principal) -> list[str]:
    tree, visible = visible_tree(session, user)
    return [site for site in tree.roots() if site in visible]


def _listing(root: Path, site: str) -> list[dict[str, Any]]:
    folder = root / safe_name(site)
    reports = []
    for pdf in sorted(folder.glob("*.pdf"), reverse=True) if folder.is_dir() else []:
        state = read_sidecar(pdf)
        reports.append(
            {
                "site": site,
                "week": state.get("week"),
                "period": state.get("period"),
                "file": pdf.name,
                "size": pdf.stat().st_size,
                "emailed_at": state.get("emailed_at"),
                "url": f"/api/reports/{site}/{pdf.name}",
            }
        )
    return reports


@router.get("/api/reports", tags=["reports"])
def api_reports(request: Request, session: Db, user: Manager) -> list[dict[str, Any]]:
    """The weekly PDF reports of your sites, newest first."""
    root = reports_dir(web_context(request).settings)
    return [report for site in _sites(session, user) for report in _listing(root, site)]


@router.get("/api/reports/{site}/{name}", tags=["reports"], response_class=FileResponse)
def api_report(request: Request, session: Db, user: Manager, site: str, name: str) -> Response:
    """One weekly PDF report of one of your sites."""
    if site not in _sites(session, user) or not REPORT_NAME.fullmatch(name):
        raise HTTPException(404, "no such report among yours")
    folder = reports_dir(web_context(request).settings) / safe_name(site)
    pdf = folder / name
    if pdf.parent != folder or not pdf.is_file():
        raise HTTPException(404, "no such report among yours")
    return FileResponse(pdf, media_type="application/pdf", filename=name)


def _moment(stamp: Any) -> datetime | None:
    """A sidecar's ISO moment as a datetime, for the page's `when` filter; None if unreadable."""
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp)
    except ValueError:
        return None


def _page_rows(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reports as the page shows them: moments as datetimes, which the page formats in
    its reader's language (the API keeps its ISO strings)."""
    return [{**report, "emailed_at": _moment(report["emailed_at"])} for report in reports]


@router.get("/reports", response_class=HTMLResponse, include_in_schema=False)
def reports_page(request: Request, session: Db, user: Manager, now: Now) -> Response:
    tree, visible = visible_tree(session, user)
    root = reports_dir(web_context(request).settings)
    today = now.date()
    return web_context(request).templates.TemplateResponse(
        request,
        "reports.html",
        {
            "user": user,
            "reports": _page_rows(
                [r for site in _sites(session, user) for r in _listing(root, site)]
            ),
            "locations": [tree.places[i] for i in tree.depth_first(visible)],
            "since": (today - timedelta(days=7)).isoformat(),
            "until": today.isoformat(),
        },
    )
