"""Kiosk notices: the kiosks with a display at a place with an unresolved task are told who is
called (then on the way) and since when, and cleared once it is resolved; a new config
version only when that changes, and nothing at all with the setting off."""

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.fleet.remote_config import current_settings, write_config
from hub.ingest import store
from hub.models import Device, Team
from hub.tasks.kiosk_notice import sync_kiosk_notices
from hub.tasks.records import acknowledge, open_by_hand, resolve
from protocol.messages import KioskNotice, decode_remote_config
from protocol.surveys import Survey
from tests.hub.factories import NOON
from tests.hub.tasks.conftest import TeamMaker
from tests.protocol.test_surveys import survey as survey_document

MINUTE = timedelta(minutes=1)
HELSINKI = "Europe/Helsinki"
MAX_BYTES = 4096


@pytest.fixture
def kiosks(places: sessionmaker[Session]) -> sessionmaker[Session]:
    """Two kiosks with a display at gate-a, one at gate-b; one without a display and one
    revoked, both at gate-a."""
    with places.begin() as session:
        for device_id, location_id, display in (
            ("a1", "gate-a", True),
            ("a2", "gate-a", True),
            ("b1", "gate-b", True),
            ("a-buttons", "gate-a", False),
            ("a-revoked", "gate-a", True),
        ):
            device = store.register_device(
                session, device_id=device_id, location_id=location_id, now=NOON
            )
            device.display = display
        revoked = session.get(Device, "a-revoked")
        assert revoked is not None
        revoked.revoked_at = NOON
    return places


def sync(sessions: sessionmaker[Session], *, minutes: int = 0, enabled: bool = True) -> list[str]:
    with sessions.begin() as session:
        return sync_kiosk_notices(
            session, now=NOON + minutes * MINUTE, enabled=enabled, max_config_bytes=MAX_BYTES
        )


def notices(sessions: sessionmaker[Session], device_id: str) -> list[KioskNotice] | None:
    """The notices in the kiosk's latest config, as the kiosk would decode them."""
    with sessions() as session:
        device = session.get(Device, device_id)
        assert device is not None
        if device.desired_config is None:
            return None
        return decode_remote_config(device.desired_config.encode()).notices


def version(sessions: sessionmaker[Session], device_id: str) -> int | None:
    with sessions() as session:
        device = session.get(Device, device_id)
        assert device is not None
        return device.desired_config_version


def open_task(
    sessions: sessionmaker[Session], team_id: str = "cleaning", location_id: str = "gate-a"
) -> int:
    with sessions.begin() as session:
        return open_by_hand(
            session, team_id=team_id, location_id=location_id, title="Wet floor", by="ops", now=NOON
        )


def test_a_task_tells_the_kiosks_at_its_place_and_no_other(
    kiosks: sessionmaker[Session], teams: TeamMaker
) -> None:
    teams(name="Cleaning T2")
    open_task(kiosks)
    assert sync(kiosks) == ["a1", "a2"]
    expected = [KioskNotice(kind="requested", team="Cleaning T2", since=NOON, time_zone=HELSINKI)]
    assert notices(kiosks, "a1") == notices(kiosks, "a2") == expected
    for device_id in ("b1", "a-buttons", "a-revoked"):  # another place, no display, revoked
        assert version(kiosks, device_id) is None
    with kiosks() as session:
        device = session.get(Device, "a1")
        assert device is not None
        assert current_settings(device)["location_id"] == "gate-a"


def test_the_same_notice_is_not_written_again(
    kiosks: sessionmaker[Session], teams: TeamMaker
) -> None:
    teams()
    open_task(kiosks)
    sync(kiosks)
    assert [sync(kiosks, minutes=m) for m in (1, 2, 3)] == [[], [], []]
    assert version(kiosks, "a1") == 1


def test_acknowledged_says_on_the_way_since_then_and_resolved_clears_once(
    kiosks: sessionmaker[Session], teams: TeamMaker
) -> None:
    teams(name="Cleaning T2")
    task_id = open_task(kiosks)
    sync(kiosks)
    with kiosks.begin() as session:
        acknowledge(session, task_id=task_id, actor="Mia", now=NOON + 3 * MINUTE)
    assert sync(kiosks, minutes=4) == ["a1", "a2"]
    assert notices(kiosks, "a1") == [
        KioskNotice(
            kind="on_the_way", team="Cleaning T2", since=NOON + 3 * MINUTE, time_zone=HELSINKI
        )
    ]
    with kiosks.begin() as session:
        resolve(session, task_id=task_id, actor="Mia", now=NOON + 9 * MINUTE)
    assert sync(kiosks, minutes=10) == ["a1", "a2"]
    assert notices(kiosks, "a1") == []  # said explicitly: an empty list clears
    assert sync(kiosks, minutes=11) == []
    assert version(kiosks, "a1") == 3


def test_nothing_is_sent_with_the_setting_off_and_turning_it_off_takes_the_field_out(
    kiosks: sessionmaker[Session], teams: TeamMaker
) -> None:
    teams()
    task_id = open_task(kiosks)
    assert sync(kiosks, enabled=False) == []
    assert version(kiosks, "a1") is None
    sync(kiosks)
    assert sync(kiosks, minutes=1, enabled=False) == ["a1", "a2"]
    assert notices(kiosks, "a1") is None  # no field: a kiosk older than notices reads it
    assert sync(kiosks, minutes=2, enabled=False) == []
    with kiosks.begin() as session:  # an empty list goes too
        resolve(session, task_id=task_id, actor="ops", now=NOON)
    sync(kiosks, minutes=3)
    assert sync(kiosks, minutes=4) == []  # nothing shown, nothing to show: no new version
    assert version(kiosks, "a1") == 2


def test_a_place_that_never_had_a_task_gets_no_config(kiosks: sessionmaker[Session]) -> None:
    assert sync(kiosks) == []
    assert version(kiosks, "a1") is None


def test_the_kiosks_other_settings_and_survey_stay_as_they_are(
    kiosks: sessionmaker[Session], teams: TeamMaker
) -> None:
    with kiosks.begin() as session:
        device = session.get(Device, "a1")
        assert device is not None
        write_config(
            device,
            {"location_id": "gate-a", "response_interval_s": 7.0},
            now=NOON,
            max_bytes=MAX_BYTES,
        )
    teams()
    task_id = open_task(kiosks)
    sync(kiosks)
    with kiosks.begin() as session:
        resolve(session, task_id=task_id, actor="ops", now=NOON)
    sync(kiosks, minutes=1)
    with kiosks() as session:
        device = session.get(Device, "a1")
        assert device is not None
        assert current_settings(device) == {
            "location_id": "gate-a",
            "response_interval_s": 7.0,
            "notices": [],
        }
        assert device.desired_config_version == 3


def test_one_notice_per_team_by_name_at_most_three(
    kiosks: sessionmaker[Session], teams: TeamMaker
) -> None:
    for team_id, name in (
        ("security", "security lanes"),
        ("cleaning", "Cleaning T2"),
        ("gates", "Gate staff"),
        ("zeta", "Zeta"),
    ):
        teams(team_id, name=name)
    first = open_task(kiosks, "cleaning")
    open_task(kiosks, "cleaning")  # a second task of the same team: one notice
    for team_id in ("security", "gates", "zeta"):
        open_task(kiosks, team_id)
    open_task(kiosks, "security", location_id="gate-b")
    with kiosks.begin() as session:
        acknowledge(session, task_id=first, actor="Mia", now=NOON + MINUTE)
    sync(kiosks, minutes=2)
    shown = notices(kiosks, "a1")
    assert shown is not None
    assert [(n.team, n.kind) for n in shown] == [
        ("Cleaning T2", "on_the_way"),
        ("Gate staff", "requested"),
        ("security lanes", "requested"),
    ]
    assert [(n.team, n.kind) for n in notices(kiosks, "b1") or []] == [
        ("security lanes", "requested")
    ]


def test_a_team_name_is_shown_printable_and_short(
    kiosks: sessionmaker[Session], teams: TeamMaker
) -> None:
    teams()
    with kiosks.begin() as session:  # written past add_team's checks
        team = session.get(Team, "cleaning")
        assert team is not None
        team.name = "Clean\u202eing\n" + "x" * 150
    open_task(kiosks)
    sync(kiosks)
    [notice] = notices(kiosks, "a1") or []
    assert notice.team.startswith("Clean ing x") and notice.team.endswith("…")
    assert len(notice.team) == 80


def test_a_config_too_big_for_the_broker_is_skipped_and_the_others_still_told(
    kiosks: sessionmaker[Session], teams: TeamMaker, caplog: pytest.LogCaptureFixture
) -> None:
    survey = Survey.model_validate(survey_document())
    with kiosks.begin() as session:
        device = session.get(Device, "a2")
        assert device is not None
        write_config(device, {"survey": survey.model_dump()}, now=NOON, max_bytes=MAX_BYTES)
        room = len(device.desired_config or "") + 40  # less than a notice takes
    teams()
    open_task(kiosks)
    with kiosks.begin() as session:
        assert sync_kiosk_notices(session, now=NOON, enabled=True, max_config_bytes=room) == ["a1"]
    assert "kiosk notices not sent to a2" in caplog.text
    assert version(kiosks, "a2") == 1


def test_a_kiosk_whose_config_cannot_be_read_is_skipped_and_the_others_still_told(
    kiosks: sessionmaker[Session], teams: TeamMaker, caplog: pytest.LogCaptureFixture
) -> None:
    with kiosks.begin() as session:
        device = session.get(Device, "a2")
        assert device is not None
        device.desired_config, device.desired_config_version = '{"v": 2}', 1
    teams()
    open_task(kiosks)
    assert sync(kiosks) == ["a1"]
    assert "its config is unreadable" in caplog.text
