"""Weekly site reports: after each week ends (Monday 00:00 in the site's own time zone) the
site's PDF for that week is written to data_dir/reports/<site>/<site>-<YYYY-Www>.pdf and
e-mailed to the site's recipients.

State lives in files, not the database: a PDF already there is not written again, and a JSON
sidecar beside it records the e-mail, so a restarted hub neither redoes nor resends a week.
The reports are the hub's user's alone: folders 0700, files 0600.
"""

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from hub.clock import Clock, utc_now
from hub.config import HubSettings
from hub.file_modes import private_folder, private_tree
from hub.hierarchy import LocationTree
from hub.mailer import Attachment, send_mail
from hub.periodic import PeriodicJob, always
from hub.reporting.pdf import write_site_report
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
class SiteWeek:
    """One site's ISO week, as its own clocks on the wall count it."""

    site: str
    week: str  # 2026-W47
    period: Period

    def pdf(self, root: Path) -> Path:
        folder = safe_name(self.site)
        return root / folder / f"{folder}-{self.week}.pdf"


def last_full_week(site: str, time_zone: str, now: datetime) -> SiteWeek:
    """The week that ended at the latest Monday 00:00 in the zone, at or before `now`."""
    zone = ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    start = datetime.combine(monday - timedelta(days=7), time(), tzinfo=zone)
    end = datetime.combine(monday, time(), tzinfo=zone)
    year, week, _ = start.date().isocalendar()
    return SiteWeek(site, f"{year}-W{week:02d}", Period(start.astimezone(UTC), end.astimezone(UTC)))


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
    """A thread that writes and e-mails each site's weekly report, once."""

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
        self._job = PeriodicJob("weekly reports", self.run_once, check_every_s, may_run=may_run)

    def start(self) -> None:
        private_tree(reports_dir(self.settings))  # reports an older hub left open to others
        self._job.start()

    def stop(self) -> None:
        self._job.stop()

    def run_once(self) -> list[SiteWeek]:
        """Write what is due, e-mail what has not been; returns the site-weeks written now."""
        with self.sessions() as session:
            tree = LocationTree.load(session)
            weeks = [
                last_full_week(site, tree.places[site].time_zone, self.clock())
                for site in tree.roots()
            ]
            written = [w for w in weeks if self._write(session, w)]
        for week in weeks:
            self._mail(week)
        return written

    def _write(self, session: Session, week: SiteWeek) -> bool:
        root = reports_dir(self.settings)
        pdf = week.pdf(root)
        if pdf.exists():
            return False
        private_folder(root)
        private_folder(pdf.parent)
        # all or nothing: a crash mid-write leaves no PDF that looks done
        write_site_report(session, week.site, week.period, pdf, clock=self.clock)
        _write_json(
            sidecar(pdf),
            {
                "site": week.site,
                "week": week.week,
                "period": week.period.as_dict(),
                "written_at": self.clock().isoformat(),
                "emailed_at": None,
                "emailed_to": [],
            },
        )
        log.info("weekly report of %s for %s written to %s", week.site, week.week, pdf)
        return True

    def _mail(self, week: SiteWeek) -> None:
        recipients = self.settings.reports.recipients.get(week.site, [])
        pdf = week.pdf(reports_dir(self.settings))
        state = read_sidecar(pdf)
        if not recipients or not pdf.exists() or state.get("emailed_at"):
            return
        try:
            send_mail(
                self.settings,
                recipients,
                f"Seed: {week.site} weekly report {week.week}",
                f"The perception report of {week.site} for {week.week} is attached.",
                [Attachment(pdf.name, pdf.read_bytes(), "application/pdf")],
            )
        except SeedError as exc:
            log.warning("weekly report %s not e-mailed yet (tried again later): %s", pdf, exc)
            return
        _write_json(
            sidecar(pdf),
            {**state, "emailed_at": self.clock().isoformat(), "emailed_to": recipients},
        )
