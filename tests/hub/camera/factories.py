"""Camera approvals as a deployer records them, for tests that turn a camera on."""

from datetime import date, datetime

from sqlalchemy.orm import Session

from hub.camera.governance import record_approval
from hub.clock import utc_now
from hub.models import CameraApproval

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
