"""A kiosk can turn its camera on in its own kiosk.toml, past the hub: when its status says
the camera is on where none may be, the hub turns it off through its remote config, once."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.camera.governance import set_audience
from hub.ingest.pipeline import Inbound, Ingestor, IngestPolicy
from hub.models import Audience, CameraAuditEntry, Device
from protocol.messages import decode_remote_config, encode
from protocol.topics import Topics
from tests.hub.camera.factories import approve
from tests.hub.factories import NOON, place, status

TOPIC = "seed/devices/k1/status"


@pytest.fixture
def ingestor(sessions: sessionmaker[Session]) -> Ingestor:
    with sessions.begin() as session:
        place(session, "hel", kind="site")
        place(session, "gate-a", parent="hel")  # where the factories' statuses come from
    return Ingestor(sessions, Topics("seed"), IngestPolicy())


def _report(ingestor: Ingestor, camera: str, minute: int = 0) -> None:
    at = NOON + timedelta(minutes=minute)
    document = json.loads(encode(status(sent_at=at)))
    document["camera"] = camera
    ingestor.process([Inbound(TOPIC, json.dumps(document).encode(), at)])


def _seen(sessions: sessionmaker[Session]) -> tuple[bool | None, int | None, list[str]]:
    """k1's camera_enabled and config version, and the reasons logged for it."""
    with sessions() as session:
        device = session.get(Device, "k1")
        assert device is not None
        config = device.desired_config
        wanted = None if config is None else decode_remote_config(config.encode()).camera_enabled
        reasons = session.scalars(
            select(CameraAuditEntry.reason).where(CameraAuditEntry.action == "off")
        )
        return wanted, device.desired_config_version, list(reasons)


def test_a_camera_reported_on_without_approval_is_turned_off_once(
    sessions: sessionmaker[Session], ingestor: Ingestor
) -> None:
    _report(ingestor, "starting")
    wanted, version, reasons = _seen(sessions)
    assert wanted is False and version == 1
    assert reasons == [
        "camera reported starting where it may not be on: no camera approval covers gate-a"
    ]
    _report(ingestor, "ok", minute=1)  # the kiosk has not applied it yet: no second entry
    assert _seen(sessions) == (False, 1, reasons)
    with sessions() as session:
        (entry,) = session.scalars(select(CameraAuditEntry))
        assert (entry.actor, entry.device_id, entry.location_id) == ("hub", "k1", "gate-a")


def test_a_camera_reported_on_at_a_workplace_is_turned_off_although_approved(
    sessions: sessionmaker[Session], ingestor: Ingestor
) -> None:
    with sessions.begin() as session:
        approve(session, "hel")
        set_audience(session, "hel", Audience.EMPLOYEES, actor="test", now=NOON)
    _report(ingestor, "ok")
    wanted, _, (reason,) = _seen(sessions)
    assert wanted is False
    assert "is employees (set at site hel)" in reason and "Art. 5(1)(f)" in reason


def test_an_approved_camera_or_one_that_is_off_is_left_alone(
    sessions: sessionmaker[Session], ingestor: Ingestor
) -> None:
    _report(ingestor, "off")
    _report(ingestor, "fault", minute=1)
    assert _seen(sessions) == (None, None, [])
    with sessions.begin() as session:
        approve(session, "hel")
    _report(ingestor, "ok", minute=2)
    assert _seen(sessions) == (None, None, [])
