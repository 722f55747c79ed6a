"""Where a camera may be on: each place's audience, the deployer's approvals, and the cameras
the hub turns off (through their remote config, with an audit entry) where one may not be.

A place's effective audience is the strictest on its way up the tree (education, then
employees, then public): a site marked `employees` makes every place beneath it a workplace.
An approval at a place covers it and every place beneath it until it is withdrawn.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from edge.camera.config import CAMERA_UNSEEN
from hub.camera.audit import ACTOR_MAX_CHARS, bounded_text, log_governance, log_switch
from hub.fleet.remote_config import current_settings, write_config
from hub.hierarchy import LocationTree
from hub.models import Audience, CameraApproval, CameraAuditEntry, Device, Location
from hub.surveys.store import DEFAULT_MAX_CONFIG_BYTES
from protocol.errors import ConfigError, ProtocolError

log = logging.getLogger(__name__)

STRICTNESS = (Audience.PUBLIC, Audience.EMPLOYEES, Audience.EDUCATION)
"""Least strict first."""
CAMERA_RUNNING = frozenset({"starting", "ok"})
"""What a kiosk's status says of a camera that is on and reading."""
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
EARLIEST_APPROVAL = date(2000, 1, 1)
APPROVE_COMMAND = (
    "seed-hub camera approve {location} --approved-by NAME --impact-assessment REFERENCE "
    "--approved-on YYYY-MM-DD --deployer NAME --contact ADDRESS --legal-basis TEXT"
)
KIOSK_TURNED_ON = "turned on by the kiosk's own config"


class CameraRefused(ConfigError):  # noqa: N818 (the name the web and the CLI use)
    """A camera may not be on at a place: `why` says why, the message also what to do;
    `audience` is the one that forbids it, if that is why."""

    def __init__(self, why: str, fix: str = "", *, audience: Audience | None = None) -> None:
        super().__init__(f"{why}; {fix}" if fix else why)
        self.why = why
        self.fix = fix
        self.audience = audience


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
            audience=audience,
        )
    approval = approval_for(session, location_id)
    if approval is None:
        raise CameraRefused(
            f"no camera approval covers {location_id}",
            f"record one first: {APPROVE_COMMAND.format(location=location_id)} "
            "(one at its site covers every place beneath it)",
        )
    return approval


def camera_refusal(session: Session, location_id: str | None) -> CameraRefused | None:
    """Why a camera may not be on at the place; None: it may."""
    try:
        check_camera_allowed(session, location_id)
    except CameraRefused as refused:
        return refused
    return None


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
            audience=audience,
        )
    _check_approved_on(approved_on, today=now.astimezone(ZoneInfo(chain[0].time_zone)).date())
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
    log_governance(
        session,
        action="approve",
        location_id=location_id,
        reason=f"approval {approval.approval_id} recorded: {_approved(approval)} on "
        f"{approved_on}; run by {approval.deployer_name} ({approval.deployer_contact}); "
        f"legal basis: {approval.legal_basis}",
        actor=actor,
        now=now,
        approval_id=approval.approval_id,
    )
    log.info("camera approval %d recorded at %s by %s", approval.approval_id, location_id, actor)
    return approval


def _check_approved_on(approved_on: date, *, today: date) -> None:
    if approved_on > today:
        raise ConfigError(f"approved on {approved_on}: a date in the future; give the day it was")
    if approved_on < EARLIEST_APPROVAL:
        raise ConfigError(
            f"approved on {approved_on}: before {EARLIEST_APPROVAL}; give the day it was"
        )


def _approved(approval: CameraApproval) -> str:
    return f"{approval.impact_assessment} approved by {approval.approved_by}"


def approved_reason(approval: CameraApproval) -> str:
    """What a switch on under `approval` says in the log, unless told otherwise."""
    return f"approved: {approval.impact_assessment} by {approval.approved_by}"


def desired_camera(device: Device) -> bool | None:
    """camera_enabled in the device's remote config (None: left to the kiosk's own file)."""
    try:
        wanted = current_settings(device).get("camera_enabled")
    except ProtocolError:
        return None
    return wanted if isinstance(wanted, bool) else None


def reported_running(camera: str | None, fault: str | None) -> bool:
    """A kiosk's status says its camera is on: starting, reading, or in a fault it retries
    (it reads again once it recovers); not one refused for want of an indicator, which
    never starts."""
    if camera in CAMERA_RUNNING:
        return True
    return camera == "fault" and not (fault or "").startswith(CAMERA_UNSEEN)


def camera_on(device: Device) -> bool:
    """On by the hub's config, or by the kiosk's own file where the hub has not said off."""
    desired = desired_camera(device)
    running = reported_running(device.camera, device.camera_fault)
    return desired is True or (desired is None and running)


def has_camera(device: Device) -> bool:
    """The kiosk reports a camera (a [camera] section in its file), or the hub turned one on."""
    return device.camera is not None or desired_camera(device) is True


def _write_off(device: Device, *, now: datetime, max_config_bytes: int) -> None:
    """camera_enabled False merged into the kiosk's current config, nothing else changed."""
    try:
        settings = current_settings(device)
    except ProtocolError:  # unreadable: a config saying only "off" still turns it off
        settings = {}
    settings["camera_enabled"] = False
    settings.setdefault("location_id", device.location_id)
    write_config(device, settings, now=now, max_bytes=max_config_bytes)


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
    _write_off(device, now=now, max_config_bytes=max_config_bytes)
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


def turn_off_refused(
    session: Session,
    location_ids: Iterable[str],
    *,
    why: Callable[[CameraRefused], str],
    actor: str,
    now: datetime,
    max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES,
    approval_id: int | None = None,
) -> list[str]:
    """Every active kiosk with a camera at these places or beneath them, where a camera may
    not be on, gets camera_enabled False (unless its config says so already): one offline
    now whose own file turns its camera on is off when it comes back. Those that were on
    are logged off with `why(refusal)` as the reason; returns their ids."""
    tree = LocationTree.load(session)
    places = {place for root in location_ids if root in tree for place in tree.subtree(root)}
    refusals: dict[str | None, CameraRefused | None] = {}
    turned_off = []
    for device in _kiosks_at(session, places):
        if not has_camera(device) or desired_camera(device) is False:
            continue
        if device.location_id not in refusals:
            refusals[device.location_id] = camera_refusal(session, device.location_id)
        refused = refusals[device.location_id]
        if refused is None:
            continue
        if not camera_on(device):
            _write_off(device, now=now, max_config_bytes=max_config_bytes)
            continue
        _turn_off(
            session,
            device,
            reason=why(refused),
            actor=actor,
            now=now,
            max_config_bytes=max_config_bytes,
            approval_id=approval_id,
        )
        turned_off.append(device.device_id)
    return turned_off


def _kiosks_at(session: Session, location_ids: set[str]) -> list[Device]:
    return list(
        session.scalars(
            select(Device)
            .where(Device.location_id.in_(location_ids), Device.revoked_at.is_(None))
            .order_by(Device.device_id)
        )
    )


def set_audience(
    session: Session,
    location_id: str,
    audience: Audience,
    *,
    actor: str,
    now: datetime,
    max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES,
) -> list[str]:
    """Say who answers at the place; every kiosk with a camera beneath it where a camera may
    no longer be on is turned off. Returns the ids of those that were on."""
    location = _located(session, location_id)[0]
    audience = Audience(audience)
    before = Audience(location.audience)
    location.audience = audience.value
    session.flush()
    if audience is not before:
        log_governance(
            session,
            action="audience",
            location_id=location_id,
            reason=f"audience at {location_id} set to {audience} (was {before})",
            actor=actor,
            now=now,
        )
        log.info("audience at %s set to %s by %s", location_id, audience, actor)

    def why(refused: CameraRefused) -> str:
        if refused.audience is None:
            return f"audience at {location_id} set to {audience}: {refused.why}"
        return f"audience changed to {refused.audience}: {law(refused.audience)}"

    return turn_off_refused(
        session, [location_id], why=why, actor=actor, now=now, max_config_bytes=max_config_bytes
    )


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
    log_governance(
        session,
        action="withdraw",
        location_id=approval.location_id,
        reason=f"approval {approval_id} withdrawn: {_approved(approval)}",
        actor=actor,
        now=now,
        approval_id=approval_id,
    )
    log.info("camera approval %d withdrawn by %s", approval_id, actor)
    return turn_off_refused(
        session,
        [approval.location_id],
        why=lambda refused: f"approval {approval_id} withdrawn: {refused.why}",
        actor=actor,
        now=now,
        max_config_bytes=max_config_bytes,
        approval_id=approval_id,
    )


def enforce_reported_camera(
    session: Session,
    device: Device,
    now: datetime,
    *,
    max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES,
) -> bool:
    """A kiosk whose status says its camera is on (its own file may enable it, bypassing the
    hub) where a camera may not be on gets a config turning it off, once: not again while
    its config already says off. Where one may be on, a camera no entry says is on gets an
    "on" entry in the kiosk's name. True when it was turned off now."""
    if device.revoked_at is not None or not reported_running(device.camera, device.camera_fault):
        return False
    desired = desired_camera(device)
    if desired is False:
        return False  # turned off already; the kiosk has not applied it yet
    try:
        approval = check_camera_allowed(session, device.location_id)
    except CameraRefused as refused:
        return _turn_off_reported(session, device, refused, now, max_config_bytes)
    if _last_action(session, device.device_id) != "on":
        log_switch(
            session,
            device_id=device.device_id,
            location_id=device.location_id,
            action="on",
            reason=KIOSK_TURNED_ON if desired is None else approved_reason(approval),
            actor=f"kiosk:{device.device_id}",
            now=now,
            approval_id=approval.approval_id,
        )
    return False


def _turn_off_reported(
    session: Session, device: Device, refused: CameraRefused, now: datetime, max_bytes: int
) -> bool:
    try:
        _turn_off(
            session,
            device,
            reason=f"camera reported {device.camera} where it may not be on: {refused.why}",
            actor="hub",
            now=now,
            max_config_bytes=max_bytes,
        )
    except ConfigError as exc:  # its config is over the limit already: the batch is stored
        log.error(
            "could not turn off the camera of %s, reported %s where it may not be on (%s): %s",
            device.device_id,
            device.camera,
            refused.why,
            exc,
        )
        return False
    return True


def _last_action(session: Session, device_id: str) -> str | None:
    return session.scalar(
        select(CameraAuditEntry.action)
        .where(CameraAuditEntry.device_id == device_id)
        .order_by(CameraAuditEntry.entry_id.desc())
        .limit(1)
    )


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
    refused = camera_refusal(session, place)
    approval = approval_for(session, place) if place is not None else None
    return CameraState(
        device_id=device.device_id,
        location_id=place,
        audience=effective_audience(session, place) if place is not None and located else None,
        approval_id=None if approval is None else approval.approval_id,
        desired=desired_camera(device),
        reported=device.camera,
        refused=None if refused is None else refused.why,
    )
