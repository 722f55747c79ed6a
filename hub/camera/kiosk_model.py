"""Which emotion model a kiosk's camera runs: the sha256 its own status reported, not the
hub's copy of the model (a kiosk may run another)."""

from sqlalchemy.orm import Session

from hub.models import Device


def device_model_sha256(session: Session, device_id: str) -> str | None:
    """The sha256 of the emotion model that the kiosk's camera reported loaded in its latest
    online status; None for an unknown kiosk, one whose camera was off, or one that did not
    say (a kiosk older than the field)."""
    device = session.get(Device, device_id)
    return device.model_sha256 if device is not None else None
