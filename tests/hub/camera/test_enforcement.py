"""A kiosk can turn its camera on in its own kiosk.toml, past the hub: when its status says
the camera is on where none may be, the hub turns it off through its remote config, once;
where one may be, the log gets an "on" entry in the kiosk's name. A camera in a fault is
on (its monitor retries), but for one refused for want of an indicator (it never starts)."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from edge.camera.config import CAMERA_UNSEEN
from hub.camera.governance import KIOSK_TURNED_ON, set_audience
from hub.fleet.remote_config import write_config
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


def _report(ingestor: Ingestor, camera: str, minute: int = 0, fault: str | None = None) -> None:
    at = NOON + timedelta(minutes=minute)
    document = json.loads(encode(status(sent_at=at)))
    document["camera"] = camera
    document["camera_fault"] = fault
    ingestor.process([Inbound(TOPIC, json.dumps(document).encode(), at)])


def _entries(sessions: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with sessions() as session:
        entries = session.scalars(
            select(CameraAuditEntry)
            .where(CameraAuditEntry.device_id == "k1")
            .order_by(CameraAuditEntry.entry_id)
        )
        return [(e.action, e.actor, e.reason) for e in entries]


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


def test_a_camera_that_is_off_or_refused_for_want_of_an_indicator_is_left_alone(
    sessions: sessionmaker[Session], ingestor: Ingestor
) -> None:
    _report(ingestor, "off")
    _report(ingestor, "fault", minute=1, fault=CAMERA_UNSEEN)
    assert _seen(sessions) == (None, None, [])


def test_a_camera_in_a_fault_it_retries_is_on_and_turned_off_where_none_may_be(
    sessions: sessionmaker[Session], ingestor: Ingestor
) -> None:
    _report(ingestor, "fault", fault="no frame for 10 s; retrying")
    wanted, _, reasons = _seen(sessions)
    assert wanted is False
    assert reasons == [
        "camera reported fault where it may not be on: no camera approval covers gate-a"
    ]


def test_an_approved_camera_the_kiosk_turned_on_itself_is_logged_on_once_in_its_name(
    sessions: sessionmaker[Session], ingestor: Ingestor
) -> None:
    with sessions.begin() as session:
        approval = approve(session, "hel")
    _report(ingestor, "ok")
    _report(ingestor, "fault", minute=1, fault="no frame for 10 s; retrying")
    _report(ingestor, "ok", minute=2)
    assert _seen(sessions) == (None, None, []), "left on, its config untouched"
    assert _entries(sessions) == [("on", "kiosk:k1", KIOSK_TURNED_ON)]
    with sessions() as session:
        entry = session.scalars(select(CameraAuditEntry).where(CameraAuditEntry.action == "on"))
        assert entry.one().approval_id == approval.approval_id


def test_a_camera_over_the_configured_config_limit_is_still_turned_off(
    sessions: sessionmaker[Session],
) -> None:
    """The off-config is the kiosk's config with camera_enabled false: it must fit the hub's
    configured limit, not the default 4096 bytes."""
    with sessions.begin() as session:
        place(session, "hel", kind="site")
        place(session, "gate-a", parent="hel")
        device = Device(device_id="k1", location_id="gate-a", registered=True, state="online")
        session.add(device)
        write_config(device, {"survey": _big_survey()}, now=NOON, max_bytes=16_384)
        assert len(device.desired_config or "") > 4096
    ingestor = Ingestor(sessions, Topics("seed"), IngestPolicy(max_payload_bytes=16_384))
    _report(ingestor, "ok")
    wanted, version, reasons = _seen(sessions)
    assert (wanted, version, len(reasons)) == (False, 2, 1)


def _big_survey() -> dict[str, object]:
    """A survey in eight languages with long texts: some 9 kB of config."""
    languages = ["en", "fi", "sv", "de", "fr", "nl", "fa", "ja"]
    text = {language: f"{language} " + "a" * 110 for language in languages}
    options = [{"key": f"o{n}", "text": text} for n in range(6)]
    return {
        "survey_id": "big",
        "version": 1,
        "languages": languages,
        "question": text,
        "negative": {"text": text, "options": options},
    }
