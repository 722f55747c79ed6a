"""Alerts and alert rules: the JSON API and the /alerts page. A manager sees his sites only."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from hub.alerts import records
from hub.alerts.rules import QuietHours, Rule, RuleKind
from hub.hierarchy import LocationTree
from hub.models import Alert, AlertRule
from hub.users import Principal
from hub.web.auth import Db, Manager, Now, web_context
from protocol.errors import ConfigError
from protocol.messages import Button
from protocol.text import control_character_in

router = APIRouter()
AlertId = Annotated[int, Field(ge=1, le=2**31 - 1)]


def _lines(text: str) -> str:
    """Text of several lines: line feeds and tabs, and no other control character."""
    text = text.replace("\r\n", "\n")
    character = control_character_in(text.replace("\n", " ").replace("\t", " "))
    if character is not None:
        raise ValueError(f"control character {character} is not allowed")
    return text


CommentText = Annotated[str, AfterValidator(_lines)]


class Comment(BaseModel):
    author: str
    at: datetime
    text: str


class AlertOut(BaseModel):
    id: int
    location: str
    location_name: str
    rule: int | None = Field(description="the rule's id; null once the rule is removed")
    rule_text: str
    kind: str
    subject: str = Field(description="the location, or the kiosk of a health alert")
    message: str
    opened_at: datetime
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    comments: list[Comment]


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: CommentText | None = Field(default=None, max_length=2000)


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: CommentText = Field(min_length=1, max_length=2000)


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    location: str = Field(max_length=64, description="applies here and to every place beneath")
    kind: RuleKind
    threshold: float = Field(allow_inf_nan=False, ge=0, le=10_000_000)
    window_min: int = Field(default=15, ge=0, le=7 * 24 * 60)
    min_responses: int = Field(default=0, ge=0, le=1_000_000)
    button: Button | None = None
    quiet: str | None = Field(
        default=None, pattern=r"^\d\d:\d\d-\d\d:\d\d$", examples=["22:00-06:00"]
    )


class RuleOut(BaseModel):
    id: int
    location: str
    kind: RuleKind
    threshold: float
    window_min: int
    min_responses: int
    button: Button | None
    quiet: str | None
    description: str


def _visible(session: Session, user: Principal) -> set[str]:
    return user.visible(LocationTree.load(session))


def _alert_out(session: Session, alert_id: int) -> AlertOut:
    view = records.alert_view(session, alert_id=alert_id)
    assert view is not None
    return AlertOut.model_validate(view, from_attributes=True)


def _own_alert(session: Session, user: Principal, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None or alert.location_id not in _visible(session, user):
        raise HTTPException(404, f"no alert {alert_id}")
    return alert


@router.get("/api/alerts", tags=["alerts"])
def alerts(
    session: Db,
    user: Manager,
    location: Annotated[str | None, Query(max_length=64)] = None,
    state: Literal["open", "acknowledged", "all"] = "all",
) -> list[AlertOut]:
    """Newest first; `location` takes in every place beneath it."""
    tree = LocationTree.load(session)
    within = user.visible(tree)
    if location is not None:
        if location not in within:
            raise HTTPException(404, f"no location {location}")
        within &= tree.subtree(location)
    views = records.list_alerts(session, within=within, state=state)
    return [AlertOut.model_validate(v, from_attributes=True) for v in views]


@router.post("/api/alerts/{alert_id}/acknowledge", tags=["alerts"])
def acknowledge(
    session: Db, user: Manager, alert_id: AlertId, body: AcknowledgeIn, now: Now
) -> AlertOut:
    _own_alert(session, user, alert_id)
    records.acknowledge(
        session,
        alert_id=alert_id,
        username=user.username,
        now=now,
        comment=body.comment,
    )
    return _alert_out(session, alert_id)


@router.post("/api/alerts/{alert_id}/comments", tags=["alerts"])
def comment(session: Db, user: Manager, alert_id: AlertId, body: CommentIn, now: Now) -> AlertOut:
    _own_alert(session, user, alert_id)
    records.add_comment(session, alert_id=alert_id, username=user.username, now=now, text=body.text)
    return _alert_out(session, alert_id)


def _rule_out(rule: Rule) -> RuleOut:
    return RuleOut(
        id=rule.id,
        location=rule.location_id,
        kind=rule.kind,
        threshold=rule.threshold,
        window_min=rule.window_min,
        min_responses=rule.min_responses,
        button=rule.button,
        quiet=str(rule.quiet) if rule.quiet else None,
        description=rule.describe(),
    )


@router.get("/api/alert-rules", tags=["alerts"])
def alert_rules(session: Db, user: Manager) -> list[RuleOut]:
    return [_rule_out(r) for r in records.list_rules(session, within=_visible(session, user))]


@router.post("/api/alert-rules", tags=["alerts"], status_code=201)
def add_alert_rule(session: Db, user: Manager, body: RuleIn, now: Now) -> RuleOut:
    """A rule at one of the user's locations; 422 says which value makes no sense."""
    if body.location not in _visible(session, user):
        raise HTTPException(404, f"no location {body.location}")
    try:
        rule = Rule(
            id=0,
            location_id=body.location,
            kind=body.kind,
            threshold=body.threshold,
            window_min=body.window_min,
            min_responses=body.min_responses,
            button=body.button,
            quiet=QuietHours.parse(body.quiet) if body.quiet else None,
        )
        row = records.add_rule(session, rule=rule, created_by=user.username, now=now)
    except ConfigError as exc:
        raise HTTPException(422, str(exc)) from exc
    return _rule_out(Rule.from_row(row))


@router.delete("/api/alert-rules/{rule_id}", tags=["alerts"], status_code=204)
def remove_alert_rule(session: Db, user: Manager, rule_id: AlertId) -> Response:
    row = session.get(AlertRule, rule_id)
    if row is None or row.location_id not in _visible(session, user):
        raise HTTPException(404, f"no alert rule {rule_id}")
    records.remove_rule(session, rule_id=rule_id)
    return Response(status_code=204)


@router.get("/alerts", response_class=HTMLResponse, include_in_schema=False)
def alerts_page(request: Request, user: Manager) -> Response:
    return web_context(request).templates.TemplateResponse(request, "alerts.html", {"user": user})
