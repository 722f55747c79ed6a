"""Where a camera may be on: each place's audience, the deployer's approvals, and the cameras
the hub turns off (through their remote config, with an audit entry) where one may not be.

A place's effective audience is the strictest on its way up the tree (education, then
employees, then public): a site marked `employees` makes every place beneath it a workplace.
An approval at a place covers it and every place beneath it until it is withdrawn.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.camera.audit import ACTOR_MAX_CHARS, bounded_text, log_switch
from hub.fleet.remote_config import current_settings, write_config
from hub.hierarchy import LocationTree
from hub.models import Audience, CameraApproval, Device, Location
from hub.surveys.store import DEFAULT_MAX_CONFIG_BYTES
from protocol.errors import ConfigError, ProtocolError

log = logging.getLogger(__name__)

STRICTNESS = (Audience.PUBLIC, Audience.EMPLOYEES, Audience.EDUCATION)
"""Least strict first."""
CAMERA_RUNNING = frozenset({"starting", "ok"})
"""What a kiosk's status says of a camera that is on."""
FORBIDDEN_WHERE = {
    Audience.EMPLOYEES: "at workplaces",
    Audience.EDUCATION: "in education institutions",
}
APPROVAL_FIELDS = {  # keyword -> (what a message calls it, the column's size)
    "approved_by": ("who approved", 200),
    "impact_assessment": ("the impact assessment's reference", 200),
    "deployer_name": ("the deployer's name", 200),
    "deployer_contact": ("the deployer's contact", 300),
    "legal_basis": ("the legal basis", 300),
}
APPROVE_COMMAND = (
    "seed-hub camera approve {location} --approved-by NAME --impact-assessment REFERENCE "
    "--approved-on YYYY-MM-DD --deployer NAME --contact ADDRESS --legal-basis TEXT"
)


class CameraRefused(ConfigError):  # noqa: N818 (the name the web and the CLI use)
    """A camera may not be on at a place: `why` says why, the message also what to do."""

    def __init__(self, why: str, fix: str = "") -> None:
        super().__init__(f"{why}; {fix}" if fix else why)
        self.why = why
        self.fix = fix


def law(audience: Audience) -> str:
    """Why a camera may not be on where `audience` answers."""
    return (
        "the AI Act, Art. 5(1)(f), forbids emotion recognition "
        f"{FORBIDDEN_WHERE.get(audience, 'there')}"
    )


def _chain(session: Session, location_id: str) -> list[Location]:
    """The location and those above it, nearest first (empty if there is no such location)."""
    chain: list[Location] = []
    location = session.get(Location, location_id)
    while location is not None and location not in chain:
        chain.append(location)
        location = session.get(Location, location.parent_id) if location.parent_id else None
    return chain


def _strictest(chain: list[Location]) -> tuple[Audience, Location | None]:
    """The strictest audience on the chain and the place that sets it (None: public)."""
    found, source = Audience.PUBLIC, None
    for location in chain:
        audience = Audience(location.audience)
        if STRICTNESS.index(audience) > STRICTNESS.index(found):
            found, source = audience, location
    return found, source


def _located(session: Session, location_id: str) -> list[Location]:
    chain = _chain(session, location_id)
    if not chain:
        raise ConfigError(f"no location {location_id!r}; add it with `seed-hub locations add`")
    return chain


def effective_audience(session: Session, location_id: str) -> Audience:
    """The strictest audience at the place or above it."""
    return _strictest(_located(session, location_id))[0]


def approval_for(session: Session, location_id: str) -> CameraApproval | None:
    """The nearest active approval at the place or above it (at one place, the latest)."""
    order = {location.location_id: n for n, location in enumerate(_chain(session, location_id))}
    if not order:
        return None
    found = session.scalars(
        select(CameraApproval).where(
            CameraApproval.location_id.in_(order), CameraApproval.withdrawn_at.is_(None)
        )
    )
    return min(found, key=lambda a: (order[a.location_id], -a.approval_id), default=None)


def approvals(session: Session, location_id: str | None = None) -> list[CameraApproval]:
    """Every approval, withdrawn ones too, oldest first; with `location_id`, those at it,
    above it (they cover it) and beneath it."""
    query = select(CameraApproval).order_by(CameraApproval.approval_id)
    if location_id is not None:
        tree = LocationTree.load(session)
        if location_id not in tree:
            raise ConfigError(f"no location {location_id!r}")
        places = tree.subtree(location_id) | set(tree.ancestors(location_id))
        query = query.where(CameraApproval.location_id.in_(places))
    return list(session.scalars(query))


def check_camera_allowed(session: Session, location_id: str | None) -> CameraApproval:
    """The approval under which a camera may be on at the place, or CameraRefused."""
    if location_id is None:
        raise CameraRefused(
            "the kiosk stands at no location",
            "place it first (`seed-hub devices move DEVICE --location ...`)",
        )
    chain = _chain(session, location_id)
    if not chain:
        raise CameraRefused(
            f"no location {location_id!r}", "add it with `seed-hub locations add` and approve it"
        )
    audience, source = _strictest(chain)
    if source is not None:
        inherited = "" if source is chain[0] else f" (set at {source.kind} {source.location_id})"
        raise CameraRefused(
            f"the audience at {location_id} is {audience}{inherited}: {law(audience)}",
            "the camera must stay off there; if only the public answers there, correct it "
            f"with `seed-hub camera audience {source.location_id} public`",
        )
    approval = approval_for(session, location_id)
    if approval is None:
        raise CameraRefused(
            f"no camera approval covers {location_id}",
            f"record one first: {APPROVE_COMMAND.format(location=location_id)} "
            "(one at its site covers every place beneath it)",
        )
    return approval


def record_approval(
    session: Session,
    location_id: str,
    *,
    approved_by: str,
    impact_assessment: str,
    approved_on: date,
    deployer_name: str,
    deployer_contact: str,
    legal_basis: str,
    actor: str,
    now: datetime,
) -> CameraApproval:
    """Record the deployer's go-ahead for cameras at the place and beneath it."""
    chain = _located(session, location_id)
    audience, source = _strictest(chain)
    if source is not None:
        raise CameraRefused(
            f"the audience at {location_id} is {audience}: {law(audience)}",
            "no approval can allow a camera there",
        )
    today = now.astimezone(ZoneInfo(chain[0].time_zone)).date()
    if approved_on > today:
        raise ConfigError(f"approved on {approved_on}: a date in the future; give the day it was")
    given = {
        "approved_by": approved_by,
        "impact_assessment": impact_assessment,
        "deployer_name": deployer_name,
        "deployer_contact": deployer_contact,
        "legal_basis": legal_basis,
    }
    fields = {
        name: bounded_text(given[name], what=what, max_chars=size)
        for name, (what, size) in APPROVAL_FIELDS.items()
    }
    approval = CameraApproval(
        location_id=location_id,
        approved_on=approved_on,
        recorded_by=bounded_text(actor, what="actor", max_chars=ACTOR_MAX_CHARS),
        recorded_at=now,
        **fields,
    )
    session.add(approval)
    session.flush()
    log.info("camera approval %d recorded at %s by %s", approval.approval_id, location_id, actor)
    return approval


def _desired(device: Device) -> bool | None:
    """camera_enabled in the device's remote config (None: left to the kiosk's own file)."""
    try:
        wanted = current_settings(device).get("camera_enabled")
    except ProtocolError:
        return None
    return wanted if isinstance(wanted, bool) else None


def camera_on(device: Device) -> bool:
    """On by the hub's config, or by the kiosk's own file where the hub has not said off."""
    desired = _desired(device)
    return desired is True or (desired is None and device.camera in CAMERA_RUNNING)


def _turn_off(
    session: Session,
    device: Device,
    *,
    reason: str,
    actor: str,
    now: datetime,
    max_config_bytes: int,
    approval_id: int | None = None,
) -> None:
    try:
        settings = current_settings(device)
    except ProtocolError:  # unreadable: a config saying only "off" still turns it off
        settings = {}
    settings["camera_enabled"] = False
    settings.setdefault("location_id", device.location_id)
    write_config(device, settings, now=now, max_bytes=max_config_bytes)
    log_switch(
        session,
        device_id=device.device_id,
        location_id=device.location_id,
        action="off",
        reason=reason,
        actor=actor,
        now=now,
        approval_id=approval_id,
    )
    log.warning("camera of %s turned off: %s", device.device_id, reason)


def _cameras_on(session: Session, location_ids: set[str]) -> list[Device]:
    devices = session.scalars(
        select(Device)
        .where(Device.location_id.in_(location_ids), Device.revoked_at.is_(None))
        .order_by(Device.device_id)
    )
    return [device for device in devices if camera_on(device)]


def set_audience(
    session: Session,
    location_id: str,
    audience: Audience,
    *,
    actor: str,
    now: datetime,
    max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES,
) -> list[str]:
    """Say who answers at the place; turns off every camera on where the effective audience
    is no longer public. Returns the device ids turned off."""
    location = _located(session, location_id)[0]
    location.audience = Audience(audience).value
    session.flush()
    log.info("audience at %s set to %s by %s", location_id, audience, actor)
    turned_off = []
    for device in _cameras_on(session, LocationTree.load(session).subtree(location_id)):
        effective = effective_audience(session, device.location_id or location_id)
        if effective is Audience.PUBLIC:
            continue
        reason = f"audience changed to {effective}: {law(effective)}"
        _turn_off(
            session,
            device,
            reason=reason,
            actor=actor,
            now=now,
            max_config_bytes=max_config_bytes,
        )
        turned_off.append(device.device_id)
    return turned_off


def withdraw_approval(
    session: Session,
    approval_id: int,
    *,
    actor: str,
    now: datetime,
    max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES,
) -> list[str]:
    """Withdraw an approval; turns off the cameras beneath it that no other active approval
    covers. Returns the device ids turned off."""
    approval = session.get(CameraApproval, approval_id)
    if approval is None:
        raise ConfigError(f"no camera approval {approval_id} (see `seed-hub camera approvals`)")
    if approval.withdrawn_at is not None:
        raise ConfigError(
            f"camera approval {approval_id} was withdrawn already, on "
            f"{approval.withdrawn_at:%Y-%m-%d} by {approval.withdrawn_by}"
        )
    approval.withdrawn_at = now
    approval.withdrawn_by = bounded_text(actor, what="actor", max_chars=ACTOR_MAX_CHARS)
    session.flush()
    log.info("camera approval %d withdrawn by %s", approval_id, actor)
    turned_off = []
    for device in _cameras_on(session, LocationTree.load(session).subtree(approval.location_id)):
        try:
            check_camera_allowed(session, device.location_id)
        except CameraRefused as refused:
            _turn_off(
                session,
                device,
                reason=f"approval {approval_id} withdrawn: {refused.why}",
                actor=actor,
                now=now,
                max_config_bytes=max_config_bytes,
                approval_id=approval_id,
            )
            turned_off.append(device.device_id)
    return turned_off


def enforce_reported_camera(
    session: Session,
    device: Device,
    now: datetime,
    *,
    max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES,
) -> bool:
    """A kiosk whose status says its camera is on (its own file may enable it, bypassing the
    hub) where a camera may not be on gets a config turning it off, once: not again while
    its config already says off. True when it was turned off now."""
    if device.camera not in CAMERA_RUNNING or device.revoked_at is not None:
        return False
    if _desired(device) is False:
        return False  # turned off already; the kiosk has not applied it yet
    try:
        check_camera_allowed(session, device.location_id)
    except CameraRefused as refused:
        try:
            _turn_off(
                session,
                device,
                reason=f"camera reported {device.camera} where it may not be on: {refused.why}",
                actor="hub",
                now=now,
                max_config_bytes=max_config_bytes,
            )
        except ConfigError as exc:  # a config too big: the batch is stored all the same
            log.error("could not turn off the camera of %s: %s", device.device_id, exc)
            return False
        return True
    return False


@dataclass(frozen=True)
class CameraState:
    """One kiosk's camera as the hub sees it."""

    device_id: str
    location_id: str | None
    audience: Audience | None
    approval_id: int | None
    desired: bool | None
    """camera_enabled in its remote config; None: as the kiosk's own file says."""
    reported: str | None
    """off, starting, ok or fault; None: no camera, or no status yet."""
    refused: str | None
    """Why a camera may not be on there; None: it may."""


def camera_states(session: Session, location_id: str | None = None) -> list[CameraState]:
    """Every active kiosk's camera (with `location_id`: at the place and beneath it)."""
    query = select(Device).where(Device.revoked_at.is_(None)).order_by(Device.device_id)
    if location_id is not None:
        tree = LocationTree.load(session)
        if location_id not in tree:
            raise ConfigError(f"no location {location_id!r}")
        query = query.where(Device.location_id.in_(tree.subtree(location_id)))
    return [_state(session, device) for device in session.scalars(query)]


def _state(session: Session, device: Device) -> CameraState:
    place = device.location_id
    located = place is not None and bool(_chain(session, place))
    refused: str | None = None
    try:
        check_camera_allowed(session, place)
    except CameraRefused as exc:
        refused = exc.why
    approval = approval_for(session, place) if place is not None else None
    return CameraState(
        device_id=device.device_id,
        location_id=place,
        audience=effective_audience(session, place) if place is not None and located else None,
        approval_id=None if approval is None else approval.approval_id,
        desired=_desired(device),
        reported=device.camera,
        refused=refused,
    )
