"""Camera approvals as a deployer records them, for tests that turn a camera on or store a
camera's readings (the hub keeps a reading only where a camera may be on)."""

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy.orm import Session

from hub.camera.governance import approval_for, record_approval
from hub.clock import utc_now
from hub.ingest.store import add_location
from hub.models import CameraApproval, Location

APPROVED_ON = date(2026, 11, 2)


def approve(
    session: Session, location_id: str, *, now: datetime | None = None, by: str = "Dr. Data"
) -> CameraApproval:
    """An approval at `location_id` (and so beneath it), recorded by a test."""
    return record_approval(
        session,
        location_id,
        approved_by=by,
        impact_assessment="DPIA-2026-07",
        approved_on=APPROVED_ON,
        deployer_name="Helsinki Airport Oy",
        deployer_contact="privacy@airport.example",
        legal_basis="GDPR Art. 6(1)(f), legitimate interest",
        actor="test",
        now=now or utc_now(),
    )


def approve_places(session: Session, location_ids: Iterable[str]) -> None:
    """Each place approved for cameras (unless an approval covers it already), made first
    (in UTC, as ingest makes a place it has not heard of) where it does not exist yet: call
    it before storing readings there."""
    for location_id in sorted(set(location_ids)):
        if session.get(Location, location_id) is None:
            add_location(session, location_id=location_id, name=location_id, time_zone="UTC")
            session.flush()
        if approval_for(session, location_id) is None:
            approve(session, location_id)
