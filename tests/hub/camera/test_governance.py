"""Where a camera may be on: audiences (the AI Act, Art. 5(1)(f)), approvals before the first
frame, and the cameras the hub turns off, each switch in the audit log."""

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from edge.camera.config import CAMERA_UNSEEN
from hub.camera.audit import NO_DEVICE, shipped_model_sha256, verify_chain
from hub.camera.governance import (
    CameraRefused,
    approval_for,
    approvals,
    camera_states,
    check_camera_allowed,
    effective_audience,
    record_approval,
    set_audience,
    withdraw_approval,
)
from hub.config import HubSettings
from hub.fleet.provision import UNSET, Fleet, Site
from hub.ingest import store
from hub.models import Audience, CameraAuditEntry, Device
from protocol.errors import ConfigError
from protocol.messages import decode_remote_config
from tests.hub.camera.factories import approve
from tests.hub.factories import NOON, place

SECURITY = "hel-t2-security"
GATE = "hel-t2-gate"
CANTEEN = "hel-t3-canteen"


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """Helsinki airport: two areas, a touchpoint or two in each; committed at the end."""
    with sessions.begin() as session:
        place(session, "hel", kind="site")
        for area in ("hel-t2", "hel-t3"):
            place(session, area, kind="area", parent="hel")
        for touchpoint in (SECURITY, GATE):
            place(session, touchpoint, parent="hel-t2")
        place(session, CANTEEN, parent="hel-t3")
        yield session


@pytest.fixture
def fleet(session: Session, tmp_path: Path) -> Fleet:
    fleet = Fleet(session, HubSettings(data_dir=tmp_path), clock=lambda: NOON)
    for device_id, location_id in (("k1", SECURITY), ("k2", GATE), ("k3", CANTEEN)):
        fleet.add(device_id, Site(site=None, location=location_id), auth="password", out_dir=None)
    return fleet


def _device(session: Session, device_id: str) -> Device:
    device = session.get(Device, device_id)
    assert device is not None
    return device


def _desired(session: Session, device_id: str) -> bool | None:
    config = _device(session, device_id).desired_config
    assert config is not None
    return decode_remote_config(config.encode()).camera_enabled


def _log(session: Session) -> list[tuple[str, str, str]]:
    """The cameras switched, oldest first: (device, action, reason)."""
    entries = session.scalars(
        select(CameraAuditEntry)
        .where(CameraAuditEntry.device_id != NO_DEVICE)
        .order_by(CameraAuditEntry.entry_id)
    )
    return [(e.device_id, e.action, e.reason) for e in entries]


def _governance(session: Session) -> list[tuple[str, str | None, str, int | None]]:
    """Approvals and audiences, oldest first: (action, place, actor, approval)."""
    entries = session.scalars(
        select(CameraAuditEntry)
        .where(CameraAuditEntry.device_id == NO_DEVICE)
        .order_by(CameraAuditEntry.entry_id)
    )
    return [(e.action, e.location_id, e.actor, e.approval_id) for e in entries]


@pytest.mark.parametrize(
    ("audience", "where"),
    [(Audience.EMPLOYEES, "at workplaces"), (Audience.EDUCATION, "in education")],
)
def test_a_camera_is_refused_where_staff_or_pupils_answer_even_when_the_site_says_so(
    session: Session, fleet: Fleet, audience: Audience, where: str
) -> None:
    approve(session, "hel")
    set_audience(session, "hel", audience, actor="test", now=NOON)
    with pytest.raises(CameraRefused, match=rf"Art\. 5\(1\)\(f\), forbids .* {where}") as refused:
        fleet.configure("k1", camera_enabled=True)
    assert f"is {audience} (set at site hel)" in str(refused.value)
    assert "camera audience hel public" in str(refused.value), "what to do if it is wrong"
    assert effective_audience(session, SECURITY) is audience
    assert _device(session, "k1").desired_config_version is None
    assert _log(session) == []


def test_the_strictest_audience_on_the_way_up_counts(session: Session) -> None:
    set_audience(session, "hel-t2", Audience.EMPLOYEES, actor="test", now=NOON)
    set_audience(session, GATE, Audience.EDUCATION, actor="test", now=NOON)
    set_audience(session, SECURITY, Audience.PUBLIC, actor="test", now=NOON)
    assert effective_audience(session, SECURITY) is Audience.EMPLOYEES
    assert effective_audience(session, GATE) is Audience.EDUCATION
    assert effective_audience(session, CANTEEN) is Audience.PUBLIC
    with pytest.raises(ConfigError, match="no location 'nowhere'"):
        effective_audience(session, "nowhere")


def test_a_camera_needs_an_approval_first(session: Session, fleet: Fleet) -> None:
    with pytest.raises(CameraRefused, match=f"no camera approval covers {SECURITY}") as refused:
        fleet.configure("k1", camera_enabled=True)
    assert f"seed-hub camera approve {SECURITY} --approved-by" in str(refused.value)
    with pytest.raises(CameraRefused, match="no location"):
        check_camera_allowed(session, None)
    assert _log(session) == []


def test_an_approval_at_a_site_covers_its_touchpoints_and_the_nearest_one_counts(
    session: Session,
) -> None:
    site = approve(session, "hel")
    assert check_camera_allowed(session, SECURITY) is site
    assert check_camera_allowed(session, CANTEEN) is site
    gate = approve(session, GATE)
    assert approval_for(session, GATE) is gate
    assert approval_for(session, SECURITY) is site
    assert [a.approval_id for a in approvals(session, "hel-t2")] == [
        site.approval_id,
        gate.approval_id,
    ]
    assert [a.approval_id for a in approvals(session, CANTEEN)] == [site.approval_id]


def test_configure_logs_each_switch_once_with_the_model_it_runs(
    session: Session, fleet: Fleet
) -> None:
    approval = approve(session, "hel", by="Dr. Data")
    fleet.configure("k1", actor="cli:ops", camera_enabled=True)
    fleet.configure("k1", actor="cli:ops", camera_enabled=True)  # no switch: not logged
    fleet.configure("k1", actor="cli:ops", heartbeat_s=30.0)
    fleet.configure("k1", actor="cli:ops", reason="pilot over", camera_enabled=False)
    fleet.configure("k1", actor="cli:ops", camera_enabled=False)
    fleet.configure("k2", actor="cli:ops", camera_enabled=True)
    fleet.configure("k2", actor="cli:ops", camera_enabled=UNSET)
    fleet.configure("k2", actor="cli:ops", camera_enabled=UNSET)  # no switch: not logged
    fleet.configure("k1", actor="cli:ops", camera_enabled=UNSET)
    assert _log(session) == [
        ("k1", "on", "approved: DPIA-2026-07 by Dr. Data"),
        ("k1", "off", "pilot over"),
        ("k2", "on", "approved: DPIA-2026-07 by Dr. Data"),
        ("k2", "default", "left to the kiosk's own file by cli:ops"),
        ("k1", "default", "left to the kiosk's own file by cli:ops"),
    ]
    first = session.scalars(select(CameraAuditEntry).where(CameraAuditEntry.action == "on")).first()
    assert first is not None
    assert (first.actor, first.location_id, first.approval_id, first.at) == (
        "cli:ops",
        SECURITY,
        approval.approval_id,
        NOON,
    )
    assert first.model_sha256 == shipped_model_sha256() and first.model_sha256 is not None
    assert _desired(session, "k1") is None
    assert verify_chain(session).chained == 6, "the approval and five switches"


@pytest.mark.parametrize("before", [True, False])
def test_leaving_the_camera_to_the_kiosks_file_is_refused_where_none_may_be_on(
    session: Session, fleet: Fleet, before: bool
) -> None:
    """The kiosk's own file may turn the camera on: `--camera default` asks the same as on."""
    approve(session, "hel-t2")
    fleet.configure("k1", actor="cli:ops", camera_enabled=before)
    set_audience(session, "hel-t2", Audience.EMPLOYEES, actor="cli:ops", now=NOON)
    with pytest.raises(CameraRefused, match=r"Art\. 5\(1\)\(f\)"):
        fleet.configure("k1", actor="cli:ops", camera_enabled=UNSET)
    assert _desired(session, "k1") is False
    with pytest.raises(CameraRefused, match=f"no camera approval covers {CANTEEN}"):
        fleet.configure("k3", actor="cli:ops", camera_enabled=UNSET)
    approve(session, CANTEEN)
    fleet.configure("k3", actor="cli:ops", camera_enabled=UNSET)


def test_withdrawing_an_approval_turns_off_the_cameras_nothing_else_covers(
    session: Session, fleet: Fleet
) -> None:
    site = approve(session, "hel")
    approve(session, GATE)
    for device_id in ("k1", "k2", "k3"):
        fleet.configure(device_id, camera_enabled=True)
    turned_off = withdraw_approval(session, site.approval_id, actor="cli:dpo", now=NOON)
    assert turned_off == ["k1", "k3"]
    assert _governance(session)[-1] == ("withdraw", "hel", "cli:dpo", site.approval_id)
    assert [_desired(session, d) for d in ("k1", "k2", "k3")] == [False, True, False]
    off = session.scalars(select(CameraAuditEntry).where(CameraAuditEntry.action == "off"))
    assert {(e.device_id, e.actor, e.approval_id) for e in off} == {
        ("k1", "cli:dpo", site.approval_id),
        ("k3", "cli:dpo", site.approval_id),
    }
    assert all(e.reason.startswith(f"approval {site.approval_id} withdrawn") for e in off)
    assert site.withdrawn_by == "cli:dpo"
    with pytest.raises(CameraRefused, match="no camera approval covers"):
        fleet.configure("k1", camera_enabled=True)
    with pytest.raises(ConfigError, match="withdrawn already"):
        withdraw_approval(session, site.approval_id, actor="cli:dpo", now=NOON)


def test_a_new_audience_turns_off_every_camera_on_there_with_its_reason(
    session: Session, fleet: Fleet
) -> None:
    approve(session, "hel")
    fleet.configure("k1", camera_enabled=True)
    fleet.configure("k3", camera_enabled=True)
    # k2 turned its camera on in its own kiosk.toml: the hub hears of it in its status
    store.register_device(session, device_id="k2", location_id=GATE)
    _device(session, "k2").camera = "ok"
    turned_off = set_audience(session, "hel-t2", Audience.EMPLOYEES, actor="cli:ops", now=NOON)
    assert turned_off == ["k1", "k2"]
    assert [_desired(session, d) for d in ("k1", "k2", "k3")] == [False, False, True]
    reason = (
        "audience changed to employees: the AI Act, Art. 5(1)(f), forbids emotion "
        "recognition at workplaces"
    )
    assert _log(session)[-2:] == [("k1", "off", reason), ("k2", "off", reason)]
    assert set_audience(session, "hel-t2", Audience.EDUCATION, actor="cli:ops", now=NOON) == []
    assert set_audience(session, "hel-t2", Audience.EDUCATION, actor="cli:ops", now=NOON) == []
    assert _governance(session) == [
        ("approve", "hel", "test", 1),
        ("audience", "hel-t2", "cli:ops", None),
        ("audience", "hel-t2", "cli:ops", None),
    ], "a change each, not the same audience again"
    states = {s.device_id: s for s in camera_states(session, "hel")}
    assert states["k1"].refused is not None and states["k1"].audience is Audience.EDUCATION
    assert states["k3"].refused is None and states["k3"].desired is True


def test_moving_a_kiosk_logs_its_camera_off_at_the_old_place_and_on_at_the_new(
    session: Session, fleet: Fleet
) -> None:
    approval = approve(session, "hel-t2")
    fleet.configure("k1", camera_enabled=True)
    fleet.move("k1", Site(site=None, location=GATE), actor="cli:ops")
    assert _desired(session, "k1") is True
    fleet.move("k1", Site(site=None, location=CANTEEN), actor="cli:ops")
    assert _desired(session, "k1") is False
    entries = session.scalars(select(CameraAuditEntry).where(CameraAuditEntry.device_id == "k1"))
    assert [(e.action, e.location_id, e.reason) for e in entries][1:] == [
        ("off", SECURITY, f"moved to {GATE}"),
        ("on", GATE, f"moved from {SECURITY}; approved: DPIA-2026-07 by Dr. Data"),
        ("off", GATE, f"moved to {CANTEEN}: no camera approval covers {CANTEEN}"),
    ]
    fleet.move("k1", Site(site=None, location=SECURITY), actor="cli:ops")
    assert len(_log(session)) == 4, "its camera was off: nothing to log"
    assert approval.approval_id == 1


def test_a_kiosk_with_a_camera_moved_where_none_may_be_gets_it_off_though_it_was_off(
    session: Session, fleet: Fleet
) -> None:
    _device(session, "k1").camera = "off"  # a [camera] in its file, off for now
    _device(session, "k2").camera = "fault"  # refused for want of an indicator: not on
    _device(session, "k2").camera_fault = CAMERA_UNSEEN
    fleet.move("k1", Site(site=None, location=CANTEEN), actor="cli:ops")
    fleet.move("k2", Site(site=None, location=CANTEEN), actor="cli:ops")
    fleet.move("k3", Site(site=None, location=GATE), actor="cli:ops")  # no camera
    assert [_desired(session, d) for d in ("k1", "k2", "k3")] == [False, False, None]
    assert _log(session) == [], "none was on"


def test_revoking_a_kiosk_whose_camera_is_on_logs_it_off(session: Session, fleet: Fleet) -> None:
    approve(session, "hel")
    fleet.configure("k1", camera_enabled=True)
    _device(session, "k2").camera = "ok"  # on by its own file
    for device_id in ("k1", "k2", "k3"):
        fleet.revoke(device_id, actor="cli:ops")
    assert [(d, a) for d, a, _ in _log(session)] == [("k1", "on"), ("k1", "off"), ("k2", "off")]
    assert _log(session)[-1][2].startswith("kiosk revoked")


def test_a_place_put_under_a_workplace_turns_off_the_cameras_there(
    session: Session, fleet: Fleet
) -> None:
    """`devices add/move --site S --location T` puts a bare T under S: its kiosks' cameras
    are checked as a changed audience checks them."""
    store.add_location(session, location_id="bare", name="Bare", time_zone="UTC")
    store.add_location(session, location_id="osl", name="Oslo", time_zone="UTC")
    approve(session, "bare")
    fleet.add("k4", Site(site=None, location="bare"), auth="password", out_dir=None)
    fleet.add("k5", Site(site=None, location="bare"), auth="password", out_dir=None)
    fleet.configure("k4", camera_enabled=True)
    _device(session, "k5").camera = "off"
    set_audience(session, "osl", Audience.EMPLOYEES, actor="cli:ops", now=NOON)
    fleet.move("k1", Site(site="osl", location="bare"), actor="cli:ops")
    assert [_desired(session, d) for d in ("k4", "k5")] == [False, False]
    assert _log(session)[-1] == (
        "k4",
        "off",
        "bare placed under osl: the audience at bare is employees (set at site osl): the AI "
        "Act, Art. 5(1)(f), forbids emotion recognition at workplaces",
    )


def test_adding_a_known_kiosk_elsewhere_moves_its_camera_as_move_does(
    session: Session, fleet: Fleet
) -> None:
    approve(session, "hel-t2")
    fleet.configure("k1", camera_enabled=True)
    fleet.add("k1", Site(site=None, location=CANTEEN), auth="password", out_dir=None)
    assert _desired(session, "k1") is False
    assert _log(session)[-1] == (
        "k1",
        "off",
        f"moved to {CANTEEN}: no camera approval covers {CANTEEN}",
    )


FIELDS: dict[str, Any] = {
    "approved_by": "Dr. Data",
    "impact_assessment": "DPIA-1",
    "approved_on": date(2026, 11, 1),
    "deployer_name": "Airport",
    "deployer_contact": "privacy@airport.example",
    "legal_basis": "GDPR Art. 6(1)(f)",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"approved_by": "  "}, "who approved: give 1 to 200 characters"),
        ({"deployer_contact": "x" * 301}, "contact: give 1 to 300"),
        ({"legal_basis": "a\u202eb"}, "control character U\\+202E"),
        ({"approved_on": NOON.date() + timedelta(days=2)}, "in the future"),
        ({"approved_on": date(1, 1, 1)}, "before 2000-01-01"),
        ({"approved_on": date(1999, 12, 31)}, "before 2000-01-01"),
    ],
)
def test_an_approval_says_who_what_and_when_in_full(
    session: Session, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        record_approval(session, "hel", **{**FIELDS, **change}, actor="t", now=NOON)
    assert approvals(session) == []


def test_no_approval_can_allow_a_camera_at_a_workplace(session: Session) -> None:
    set_audience(session, "hel-t3", Audience.EMPLOYEES, actor="t", now=NOON)
    with pytest.raises(CameraRefused, match="no approval can allow"):
        record_approval(session, CANTEEN, **FIELDS, actor="t", now=NOON)
    approval = record_approval(session, "hel", **FIELDS, actor="t", now=NOON)
    assert approval.recorded_by == "t" and approval.withdrawn_at is None


def test_a_reason_the_log_cannot_hold_is_refused_before_the_camera_goes_on(
    session: Session, fleet: Fleet
) -> None:
    approve(session, "hel")
    with pytest.raises(ConfigError, match="reason"):
        fleet.configure("k1", reason="pilot\r\nforged: entry", camera_enabled=True)
    assert _device(session, "k1").desired_config is None
    assert _log(session) == []
