"""The sha256 of the emotion model a kiosk's camera reports is kept on the device, on SQLite
and PostgreSQL alike: replaced by each online status, cleared when the camera is off, kept
through the last will."""

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from hub.camera.kiosk_model import device_model_sha256
from hub.ingest import store
from protocol.messages import DeviceState, DeviceStatus
from tests.hub.factories import NOON, status

SHIPPED = "ab" * 32
OTHER = "cd" * 32


def reporting(camera: str, sha256: str | None) -> DeviceStatus:
    return status().model_copy(update={"camera": camera, "model_sha256": sha256})


def apply(sessions: sessionmaker[Session], report: DeviceStatus, minutes: int, **how: bool) -> None:
    with sessions.begin() as session:
        store.apply_status(
            session, status=report, received_at=NOON + timedelta(minutes=minutes), **how
        )


def stored(sessions: sessionmaker[Session]) -> str | None:
    with sessions() as session:
        return device_model_sha256(session, "k1")


def test_the_kiosks_reported_model_is_stored_on_the_device(
    sessions: sessionmaker[Session],
) -> None:
    assert stored(sessions) is None, "an unknown kiosk has reported nothing"
    apply(sessions, reporting("ok", SHIPPED), 0)
    assert stored(sessions) == SHIPPED
    apply(sessions, reporting("ok", OTHER), 1)
    assert stored(sessions) == OTHER, "the kiosk's own model, whatever the hub ships"
    apply(sessions, status(DeviceState.OFFLINE), 2)
    assert stored(sessions) == OTHER, "the last will says nothing of the camera"
    apply(sessions, reporting("off", None), 3)
    assert stored(sessions) is None, "a camera off has no model loaded"


def test_a_retained_status_fills_in_an_unknown_kiosk_only(
    sessions: sessionmaker[Session],
) -> None:
    apply(sessions, reporting("ok", SHIPPED), 0, retained=True)
    assert stored(sessions) == SHIPPED
    apply(sessions, reporting("ok", OTHER), 1)
    apply(sessions, reporting("ok", SHIPPED), 2, retained=True)
    assert stored(sessions) == OTHER, "a replayed status is older than the one seen"
