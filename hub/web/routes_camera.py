"""Camera governance in the JSON API: who answers at a place (its audience), the approvals
that let cameras run there, a kiosk's camera switched on or off, the append-only audit log
and the printable notice. The same rules as `seed-hub camera …` (hub/camera/commands.py):
managers read what concerns their sites, admins change it; no route edits the log."""

import re
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from hub.camera.audit import audit_csv, audit_entries
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
from hub.camera.notice import render_notice
from hub.clock import as_utc
from hub.fleet.provision import Fleet
from hub.hierarchy import LocationTree
from hub.models import Audience, CameraApproval, CameraAuditEntry, Device, Location
from hub.users import Principal
from hub.web.auth import Admin, Db, Manager, Now, web_context
from hub.web.routes_phone_admin import public_base
from hub.web.routes_scores import visible_tree
from hub.web.schemas_scores import IsoTime
from protocol.errors import ConfigError
from protocol.messages import DEVICE_ID_PATTERN
from protocol.text import PrintableText

router = APIRouter(tags=["camera"])

RECENT_SWITCHES = 20
"""The latest audit entries a place's camera view holds."""
DEVICE_ID = DEVICE_ID_PATTERN.pattern.join("^$")
DeviceId = Annotated[str, Path(pattern=DEVICE_ID)]
ApprovalId = Annotated[int, Path(ge=1, le=2**31 - 1)]
NoticeSize = Annotated[
    Literal["A4", "A5", "a4", "a5"], Query(description="the paper: A4 (default) or A5")
]
Since = Annotated[datetime | None, Query(description="ISO 8601, inclusive (default: the first)")]
Until = Annotated[datetime | None, Query(description="ISO 8601, exclusive (default: now)")]
DeviceQuery = Annotated[str | None, Query(pattern=DEVICE_ID, description="one kiosk's switches")]
PlaceQuery = Annotated[
    str | None, Query(max_length=64, description="a location and everything beneath it")
]


class ApprovalOut(BaseModel):
    approval: int
    location: str = Field(description="it covers this place and everything beneath it")
    location_name: str
    approved_by: str
    impact_assessment: str = Field(description="the impact assessment's reference")
    approved_on: date
    deployer_name: str = Field(description="who runs the cameras")
    deployer_contact: str = Field(description="where people ask or object")
    legal_basis: str
    recorded_by: str
    recorded_at: IsoTime
    withdrawn_at: IsoTime | None
    withdrawn_by: str | None
    active: bool = Field(description="not withdrawn")


class AuditEntryOut(BaseModel):
    entry: int
    at: IsoTime
    actor: str = Field(
        description="a user, cli:<login>, hub (the hub's own enforcement) or kiosk:<device> "
        "(a camera the kiosk's own file turned on)"
    )
    action: Literal["on", "off", "default", "approve", "withdraw", "audience"] = Field(
        description="a camera switched on or off, or left to the kiosk's own file (default); "
        "an approval recorded or withdrawn; a place's audience set"
    )
    reason: str
    device: str = Field(description="- for an approval or an audience")
    location: str | None
    model_sha256: str | None = Field(description="the emotion model shipped at the time")
    approval: int | None = Field(description="the approval a switch on relied on")
    prev_sha256: str | None = Field(description="the entry before's entry_sha256")
    entry_sha256: str | None = Field(
        description="sha256 of the entry and prev_sha256: `seed-hub camera log --verify` "
        "checks the chain"
    )


class KioskCameraOut(BaseModel):
    device: str
    location: str | None
    location_name: str | None
    camera_enabled: bool | None = Field(
        description="what the hub's remote config asks; null: the kiosk's own file decides"
    )
    camera: str | None = Field(description="what the kiosk last reported: off, starting, ok, fault")
    camera_fault: str | None


class LocationCameraOut(BaseModel):
    location: str
    name: str
    audience: Audience = Field(description="the place's own")
    effective_audience: Audience = Field(description="the strictest on its way up the tree")
    audience_from: str = Field(description="the place whose audience is the effective one")
    audience_from_name: str
    allowed: bool = Field(description="whether a camera may be turned on here")
    refusal: str | None = Field(description="why not")
    approval: ApprovalOut | None = Field(description="the nearest active one, here or above")
    kiosks: list[KioskCameraOut] = Field(description="the kiosks here and beneath")
    recent: list[AuditEntryOut] = Field(
        description=f"the latest {RECENT_SWITCHES} switches here and beneath, newest first"
    )


class AudienceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    audience: Audience


class AudienceOut(BaseModel):
    location: str
    audience: Audience
    effective_audience: Audience
    turned_off: list[str] = Field(description="the kiosks whose camera the change turned off")


class ApprovalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approved_by: PrintableText = Field(min_length=1, max_length=200)
    impact_assessment: PrintableText = Field(min_length=1, max_length=200)
    approved_on: date = Field(description="not in the future")
    deployer_name: PrintableText = Field(min_length=1, max_length=200)
    deployer_contact: PrintableText = Field(min_length=1, max_length=300)
    legal_basis: PrintableText = Field(min_length=1, max_length=300)


class WithdrawnOut(BaseModel):
    approval: ApprovalOut
    turned_off: list[str] = Field(description="the kiosks no other approval covers, turned off")


class CameraIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool
    reason: PrintableText | None = Field(
        default=None, max_length=500, description="kept in the audit log (default: the approval)"
    )


class CameraOut(BaseModel):
    device: str
    camera_enabled: bool | None
    config_version: int | None = Field(description="the remote config that carries it")


def _approval_out(session: Session, approval: CameraApproval) -> ApprovalOut:
    place = session.get(Location, approval.location_id)
    return ApprovalOut(
        approval=approval.approval_id,
        location=approval.location_id,
        location_name=approval.location_id if place is None else place.name,
        approved_by=approval.approved_by,
        impact_assessment=approval.impact_assessment,
        approved_on=approval.approved_on,
        deployer_name=approval.deployer_name,
        deployer_contact=approval.deployer_contact,
        legal_basis=approval.legal_basis,
        recorded_by=approval.recorded_by,
        recorded_at=approval.recorded_at,
        withdrawn_at=approval.withdrawn_at,
        withdrawn_by=approval.withdrawn_by,
        active=approval.withdrawn_at is None,
    )


def _entry_out(entry: CameraAuditEntry) -> AuditEntryOut:
    return AuditEntryOut.model_validate(
        {
            "entry": entry.entry_id,
            "at": entry.at,
            "actor": entry.actor,
            "action": entry.action,
            "reason": entry.reason,
            "device": entry.device_id,
            "location": entry.location_id,
            "model_sha256": entry.model_sha256,
            "approval": entry.approval_id,
            "prev_sha256": entry.prev_sha256,
            "entry_sha256": entry.entry_sha256,
        }
    )


def _place(session: Session, user: Principal, location_id: str) -> LocationTree:
    """The tree, once the place is known to be among the user's (404 otherwise, as the
    score endpoints answer)."""
    tree, visible = visible_tree(session, user)
    if location_id not in visible:
        raise HTTPException(404, f"no location {location_id!r} among yours")
    return tree


def _kiosks(session: Session, tree: LocationTree, location_id: str) -> list[KioskCameraOut]:
    kiosks = []
    for state in camera_states(session, location_id):
        device = session.get(Device, state.device_id)
        place = tree.places.get(state.location_id or "")
        kiosks.append(
            KioskCameraOut(
                device=state.device_id,
                location=state.location_id,
                location_name=None if place is None else place.name,
                camera_enabled=state.desired,
                camera=state.reported,
                camera_fault=None if device is None else device.camera_fault,
            )
        )
    return kiosks


def _audience_from(
    session: Session, tree: LocationTree, location_id: str, audience: Audience
) -> Location:
    """The nearest place, itself or above, whose own audience makes the effective one."""
    for place in [location_id, *tree.ancestors(location_id)]:
        row = session.get(Location, place)
        if row is not None and row.audience == audience:
            return row
    here = session.get(Location, location_id)
    assert here is not None  # in the tree
    return here


def _refusal(session: Session, location_id: str) -> str | None:
    try:
        check_camera_allowed(session, location_id)
    except CameraRefused as exc:
        return exc.why
    return None


@router.get("/api/locations/{location_id}/camera")
def api_location_camera(session: Db, user: Manager, location_id: str) -> LocationCameraOut:
    """Whether cameras may run at the place and why: its audience (its own and the
    strictest above it), the approval that covers it, its kiosks' cameras as the hub asks
    and as they report, and the latest switches there."""
    tree = _place(session, user, location_id)
    location = session.get(Location, location_id)
    assert location is not None  # in the tree
    effective = effective_audience(session, location_id)
    source = _audience_from(session, tree, location_id, effective)
    approval = approval_for(session, location_id)
    refusal = _refusal(session, location_id)
    places = tree.subtree(location_id)
    recent = audit_entries(session, location_ids=places, limit=RECENT_SWITCHES)
    return LocationCameraOut(
        location=location_id,
        name=location.name,
        audience=Audience(location.audience),
        effective_audience=effective,
        audience_from=source.location_id,
        audience_from_name=source.name,
        allowed=refusal is None,
        refusal=refusal,
        approval=None if approval is None else _approval_out(session, approval),
        kiosks=_kiosks(session, tree, location_id),
        recent=[_entry_out(e) for e in reversed(recent)],
    )


@router.put("/api/locations/{location_id}/audience")
def api_set_audience(
    request: Request, session: Db, user: Admin, location_id: str, body: AudienceIn, now: Now
) -> AudienceOut:
    """Who answers at the place. Employees or education turn off, with a logged reason,
    every camera on beneath it: the EU AI Act (Art. 5(1)(f)) forbids reading emotions from
    faces at workplaces and in education. Refused (409, nothing changed) when a kiosk's
    config turning its camera off cannot be written (too big for the broker)."""
    _place(session, user, location_id)
    try:
        turned_off = set_audience(
            session,
            location_id,
            body.audience,
            actor=user.username,
            now=now,
            max_config_bytes=_max_config_bytes(request),
        )
    except ConfigError as exc:
        raise HTTPException(409, str(exc)) from exc
    return AudienceOut(
        location=location_id,
        audience=body.audience,
        effective_audience=effective_audience(session, location_id),
        turned_off=turned_off,
    )


@router.get("/api/locations/{location_id}/camera-approvals")
def api_camera_approvals(session: Db, user: Manager, location_id: str) -> list[ApprovalOut]:
    """The approvals recorded for the place, withdrawn ones too."""
    _place(session, user, location_id)
    return [_approval_out(session, a) for a in approvals(session, location_id)]


@router.post("/api/locations/{location_id}/camera-approvals", status_code=201)
def api_record_approval(
    session: Db, user: Admin, location_id: str, body: ApprovalIn, now: Now
) -> ApprovalOut:
    """Record the deployer's approval for cameras at the place and beneath it: who approved,
    on which impact assessment and when, who runs the cameras, where to reach them, and on
    what legal basis. Without one, no camera there can be turned on."""
    _place(session, user, location_id)
    try:
        approval = record_approval(
            session,
            location_id,
            approved_by=body.approved_by,
            impact_assessment=body.impact_assessment,
            approved_on=body.approved_on,
            deployer_name=body.deployer_name,
            deployer_contact=body.deployer_contact,
            legal_basis=body.legal_basis,
            actor=user.username,
            now=now,
        )
    except CameraRefused as exc:  # employees or pupils answer there
        raise HTTPException(409, str(exc)) from exc
    except ConfigError as exc:
        raise HTTPException(422, str(exc)) from exc
    return _approval_out(session, approval)


@router.post("/api/camera-approvals/{approval_id}/withdraw")
def api_withdraw_approval(
    request: Request, session: Db, user: Admin, approval_id: ApprovalId, now: Now
) -> WithdrawnOut:
    """Withdraw an approval: the cameras beneath it that no other approval covers are turned
    off, each with an entry in the audit log."""
    if session.get(CameraApproval, approval_id) is None:
        raise HTTPException(404, f"no camera approval {approval_id}")
    try:
        turned_off = withdraw_approval(
            session,
            approval_id,
            actor=user.username,
            now=now,
            max_config_bytes=_max_config_bytes(request),
        )
    except ConfigError as exc:
        raise HTTPException(409, str(exc)) from exc
    approval = session.get(CameraApproval, approval_id)
    assert approval is not None
    return WithdrawnOut(approval=_approval_out(session, approval), turned_off=turned_off)


@router.post("/api/devices/{device_id}/camera")
def api_device_camera(
    request: Request, session: Db, user: Admin, device_id: DeviceId, body: CameraIn, now: Now
) -> CameraOut:
    """Turn a kiosk's camera on or off through its remote config, as you: logged with the
    reason given. On is refused (409, saying why) where the audience is not the public or
    no approval covers the kiosk's place."""
    device = session.get(Device, device_id)
    if device is None or not device.registered:
        raise HTTPException(404, f"no kiosk {device_id!r}")
    fleet = Fleet(session, web_context(request).settings, clock=lambda: now)
    try:
        config = fleet.configure(
            device_id,
            actor=user.username,
            reason=(body.reason or "").strip() or None,
            camera_enabled=body.enabled,
        )
    except ConfigError as exc:  # CameraRefused among them
        raise HTTPException(409, str(exc)) from exc
    return CameraOut(
        device=device_id, camera_enabled=config.camera_enabled, config_version=config.version
    )


def _max_config_bytes(request: Request) -> int:
    """A remote config must fit the broker's packet limit, as `Fleet.configure` holds it to."""
    return web_context(request).settings.ingest.max_payload_bytes


def _bound(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    try:
        return as_utc(moment)
    except OverflowError as exc:
        raise HTTPException(422, "time out of range") from exc


def _audit(
    session: Session,
    user: Principal,
    since: datetime | None,
    until: datetime | None,
    device: str | None,
    location: str | None,
) -> list[CameraAuditEntry]:
    start, end = _bound(since), _bound(until)
    if start is not None and end is not None and start >= end:
        raise HTTPException(422, "since must come before until")
    places = None if location is None else _place(session, user, location).subtree(location)
    return audit_entries(session, since=start, until=end, device_id=device, location_ids=places)


@router.get("/api/camera-audit")
def api_camera_audit(
    session: Db,
    user: Admin,
    since: Since = None,
    until: Until = None,
    device: DeviceQuery = None,
    location: PlaceQuery = None,
) -> list[AuditEntryOut]:
    """Every camera switched on or off, oldest first: when, by whom, why, which kiosk and
    place, the model's sha256 and the approval relied on. The log is append-only: no route
    edits or deletes an entry."""
    return [_entry_out(e) for e in _audit(session, user, since, until, device, location)]


@router.get("/api/exports/camera-audit.csv", tags=["exports"], response_class=Response)
def export_camera_audit(
    session: Db,
    user: Admin,
    now: Now,
    since: Since = None,
    until: Until = None,
    device: DeviceQuery = None,
    location: PlaceQuery = None,
) -> Response:
    """The camera audit log as CSV, for the deployer's records or an inspector."""
    entries = _audit(session, user, since, until, device, location)
    place = _safe(location) if location else "all"
    name = f"seed-camera-audit-{place}-{now.date().isoformat()}.csv"
    return _download(audit_csv(entries).encode(), "text/csv; charset=utf-8", name)


@router.get("/api/locations/{location_id}/camera-notice.pdf", response_class=Response)
def api_camera_notice(
    request: Request, session: Db, user: Manager, location_id: str, size: NoticeSize = "A4"
) -> Response:
    """The notice to put up beside the place's kiosks, in its languages: what the camera
    infers, that no image is kept, who runs it, on what legal basis, and how to object.
    Refused (409) until an approval covers the place."""
    _place(session, user, location_id)
    paper = size.upper()
    try:
        pdf = render_notice(
            session,
            location_id,
            size=paper,
            base_url=public_base(request),
            settings=web_context(request).settings.camera,
        )
    except ConfigError as exc:  # CameraRefused: no approval yet
        raise HTTPException(409, str(exc)) from exc
    name = f"camera-notice-{_safe(location_id)}-{paper.lower()}.pdf"
    return _download(pdf, "application/pdf", name)


def _safe(text: str) -> str:
    """Safe in a header and on any disk."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def _download(content: bytes, media_type: str, file_name: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
    )
