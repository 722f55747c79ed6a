"""Scheduled site reports: after each local day, ISO week (Monday 00:00 in the site's own
time zone) or month ends, the site's PDF for it is written to
data_dir/reports/<site>/<site>-<YYYY-Www>.pdf (weekly, for every site), .../daily/<site>-
<YYYY-MM-DD>.pdf or .../monthly/<site>-<YYYY-MM>.pdf (where someone gets them), and e-mailed
to each recipient of that cadence: the summary as plain text and HTML, the PDF attached.

State lives in files, not the database: a PDF already there is not written again, and a JSON
sidecar beside it holds the summary mailed and records each address mailed, so a restarted
hub neither redoes nor resends a report to anyone.
The reports are the hub's user's alone: folders 0700, files 0600.
"""

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from hub.clock import Clock, utc_now
from hub.config import CADENCES, Cadence, HubSettings
from hub.file_modes import private_folder, private_tree
from hub.hierarchy import LocationTree
from hub.mailer import Attachment, send_mail
from hub.periodic import PeriodicJob, always
from hub.reporting.pdf import write_site_report
from hub.reporting.summary import local_span, summary_html, summary_text
from hub.rollups.buckets import Period
from protocol.errors import SeedError
from protocol.files import write_private

log = logging.getLogger(__name__)

CHECK_EVERY_S = 600.0
SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(site: str) -> str:
    """A site id as a folder and file name: nothing but letters, digits, '.', '-', '_'."""
    return SAFE.sub("_", site)


def reports_dir(settings: HubSettings) -> Path:
    return settings.data_dir / "reports"


@dataclass(frozen=True)
class SiteReport:
    """One site's day, ISO week or month, as its own clocks on the wall count it."""

    site: str
    cadence: Cadence
    label: str
    """2026-11-22, 2026-W47 or 2026-11."""
    period: Period
    previous: Period
    """The day, week or month before: what the summary compares with."""

    def pdf(self, root: Path) -> Path:
        folder = root / safe_name(self.site)
        if self.cadence != "weekly":
            folder /= self.cadence
        return folder / f"{safe_name(self.site)}-{self.label}.pdf"


def last_full(cadence: Cadence, site: str, time_zone: str, now: datetime) -> SiteReport:
    """The day, week or month that ended at the latest local midnight starting one, at or
    before `now`."""
    zone = ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    if cadence == "daily":
        end, start, before = today, today - timedelta(days=1), today - timedelta(days=2)
        label = start.isoformat()
    elif cadence == "weekly":
        end = today - timedelta(days=today.weekday())
        start, before = end - timedelta(days=7), end - timedelta(days=14)
        year, week, _ = start.isocalendar()
        label = f"{year}-W{week:02d}"
    else:
        end = today.replace(day=1)
        start = (end - timedelta(days=1)).replace(day=1)
        before = (start - timedelta(days=1)).replace(day=1)
        label = f"{start:%Y-%m}"
    return SiteReport(site, cadence, label, _period(start, end, zone), _period(before, start, zone))


def _period(start: date, end: date, zone: ZoneInfo) -> Period:
    """[local midnight of `start`, local midnight of `end`) as UTC instants."""
    return Period(
        datetime.combine(start, time(), tzinfo=zone).astimezone(UTC),
        datetime.combine(end, time(), tzinfo=zone).astimezone(UTC),
    )


def last_full_week(site: str, time_zone: str, now: datetime) -> SiteReport:
    """The week that ended at the latest Monday 00:00 in the zone, at or before `now`."""
    return last_full("weekly", site, time_zone, now)


def sidecar(pdf: Path) -> Path:
    return pdf.with_suffix(".json")


def read_sidecar(pdf: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(sidecar(pdf).read_text())
    except (OSError, ValueError):
        return {}
    return data


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_private(path, json.dumps(data, indent=2).encode())


class ReportScheduler:
    """A thread that writes each site's due reports and e-mails each once to each recipient."""

    def __init__(
        self,
        settings: HubSettings,
        sessions: sessionmaker[Session],
        *,
        clock: Clock = utc_now,
        check_every_s: float = CHECK_EVERY_S,
        may_run: Callable[[], bool] = always,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.clock = clock
        self.check_every_s = check_every_s
        self._job = PeriodicJob("site reports", self.run_once, check_every_s, may_run=may_run)

    def start(self) -> None:
        private_tree(reports_dir(self.settings))  # reports an older hub left open to others
        self._job.start()

    def stop(self) -> None:
        self._job.stop()

    def run_once(self) -> list[SiteReport]:
        """Write what is due, e-mail what has not been; returns the reports written now."""
        now = self.clock()
        with self.sessions() as session:
            tree = LocationTree.load(session)
            due = [
                report
                for site in tree.roots()
                for report in self._due(site, tree.places[site].time_zone, now)
            ]
            written = [report for report in due if self._write(session, report)]
        for report in due:
            self._mail(report)
        return written

    def _due(self, site: str, time_zone: str, now: datetime) -> list[SiteReport]:
        """Every site's weekly report; a daily or monthly one where someone gets it."""
        wanted = self.settings.reports
        return [
            last_full(cadence, site, time_zone, now)
            for cadence in CADENCES
            if cadence == "weekly" or wanted.addresses(site, cadence)
        ]

    def _write(self, session: Session, report: SiteReport) -> bool:
        root = reports_dir(self.settings)
        pdf = report.pdf(root)
        if pdf.exists():
            return False
        for folder in dict.fromkeys((root, root / safe_name(report.site), pdf.parent)):
            private_folder(folder)
        # all or nothing: a crash mid-write leaves no PDF that looks done
        summary = write_site_report(
            session,
            report.site,
            report.period,
            pdf,
            clock=self.clock,
            previous=report.previous,
        )
        intro = (
            f"The {report.cadence} perception report of {summary.name} for "
            f"{local_span(report.period, summary.time_zone)} is attached."
        )
        _write_json(
            sidecar(pdf),
            {
                "site": report.site,
                "cadence": report.cadence,
                "label": report.label,
                **({"week": report.label} if report.cadence == "weekly" else {}),
                "period": report.period.as_dict(),
                "written_at": self.clock().isoformat(),
                "emailed_at": None,
                "emailed_to": [],
                "body": {
                    "text": summary_text([summary], intro=intro),
                    "html": summary_html([summary], intro=intro, title=_subject(report)),
                },
            },
        )
        log.info(
            "%s report of %s for %s written to %s", report.cadence, report.site, report.label, pdf
        )
        return True

    def _mail(self, report: SiteReport) -> None:
        """Mail the report to each of its recipients not mailed yet, a message each."""
        addresses = self.settings.reports.addresses(report.site, report.cadence)
        pdf = report.pdf(reports_dir(self.settings))
        if not addresses or not pdf.exists():
            return
        state = read_sidecar(pdf)
        sent: list[str] = list(state.get("emailed_to") or [])
        body = state.get("body") or {}
        text = body.get("text") or f"The perception report of {report.site} is attached."
        for address in (a for a in addresses if a not in sent):
            try:
                send_mail(
                    self.settings,
                    [address],
                    _subject(report),
                    text,
                    [Attachment(pdf.name, pdf.read_bytes(), "application/pdf")],
                    html=body.get("html"),
                )
            except SeedError as exc:
                log.warning("report %s not e-mailed yet (tried again later): %s", pdf, exc)
                continue
            sent.append(address)
            state = {**state, "emailed_at": self.clock().isoformat(), "emailed_to": sent}
            _write_json(sidecar(pdf), state)  # each address as it goes: a crash resends one


def _subject(report: SiteReport) -> str:
    return f"Seed: {report.site} {report.cadence} report {report.label}"
