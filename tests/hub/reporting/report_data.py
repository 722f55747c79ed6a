"""A site with an area and touchpoints, and a week of presses there, for the report tests."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from hub.ingest import store
from hub.models import Location
from hub.rollups.buckets import Period
from protocol.messages import BUTTONS, Button
from tests.hub.factories import press

WEEK = Period(datetime(2026, 11, 15, 22, tzinfo=UTC), datetime(2026, 11, 22, 22, tzinfo=UTC))
"""Monday 16 to Sunday 22 November 2026, Helsinki time (UTC+2)."""

TOUCHPOINTS = ("hel-gate-a", "hel-wc-b")


@dataclass(frozen=True)
class Presses:
    """What was stored, to check every figure against."""

    total: int
    misuse: int
    by_button: dict[Button, int]

    @property
    def scored(self) -> int:
        return self.total - self.misuse


def add_site(session: Session, site: str = "hel", zone: str = "Europe/Helsinki") -> None:
    """site -> area site-t1 -> touchpoints site-gate-a and site-wc-b (created or re-parented)."""
    now = datetime.now(UTC)
    chain = [(site, "site", None), (f"{site}-t1", "area", site)]
    chain += [(f"{site}-{name}", "touchpoint", f"{site}-t1") for name in ("gate-a", "wc-b")]
    for location_id, kind, parent in chain:
        location = session.get(Location, location_id) or Location(
            location_id=location_id, name=location_id.upper(), created_at=now
        )
        location.kind, location.parent_id, location.time_zone = kind, parent, zone
        session.add(location)
    session.flush()


def add_presses(
    session: Session, *, site: str = "hel", period: Period = WEEK, every_min: int = 47
) -> Presses:
    """Presses at both touchpoints across the period; every seventh one flagged as misuse."""
    events = []
    at, i = period.since, 0
    while at < period.until:
        events.append(
            press(
                BUTTONS[i % 4 if i % 3 else 0],
                device_id=f"{site}-k{i % 2}",
                location_id=f"{site}-{('gate-a', 'wc-b')[i % 2]}",
                seq=i + 1,
                at=at,
                misuse=i % 7 == 6,
            )
        )
        at, i = at + timedelta(minutes=every_min), i + 1
    store.store_events(session, events=events, received_at=period.until)
    by_button = {b: sum(1 for e in events if e.button is b and not e.misuse) for b in BUTTONS}
    return Presses(len(events), sum(e.misuse for e in events), by_button)
