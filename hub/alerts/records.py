"""Repository functions for rules, alerts, comments and the delivery queue."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from hub.alerts.rules import Rule, check_rule
from hub.models import Alert, AlertComment, AlertDelivery, AlertRule, Location
from protocol.errors import ConfigError

AlertState = Literal["open", "acknowledged", "all"]


def add_rule(session: Session, *, rule: Rule, created_by: str, now: datetime) -> AlertRule:
    """Save a new rule (its id is made here; `rule.id` is ignored)."""
    check_rule(rule)
    if session.get(Location, rule.location_id) is None:
        raise ConfigError(f"no location {rule.location_id!r}")
    row = AlertRule(
        location_id=rule.location_id,
        kind=rule.kind.value,
        threshold=rule.threshold,
        window_min=rule.window_min,
        min_responses=rule.min_responses,
        button=rule.button.value if rule.button else None,
        quiet_from=f"{rule.quiet.start:%H:%M}" if rule.quiet else None,
        quiet_until=f"{rule.quiet.end:%H:%M}" if rule.quiet else None,
        created_at=now,
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    return row


def list_rules(session: Session, *, within: Collection[str] | None = None) -> list[Rule]:
    query = select(AlertRule).order_by(AlertRule.id)
    if within is not None:
        query = query.where(AlertRule.location_id.in_(within))
    return [Rule.from_row(row) for row in session.scalars(query)]


def remove_rule(session: Session, *, rule_id: int) -> None:
    """Delete a rule; its alerts stay, with the rule's text."""
    if session.get(AlertRule, rule_id) is None:
        raise ConfigError(f"no alert rule {rule_id}")
    session.execute(update(Alert).where(Alert.rule_id == rule_id).values(rule_id=None))
    session.execute(delete(AlertRule).where(AlertRule.id == rule_id))


def open_alert(
    session: Session,
    *,
    rule: Rule,
    subject: str,
    location_id: str,
    message: str,
    now: datetime,
    channels: Iterable[str],
) -> Alert:
    """An alert and its pending deliveries, in the caller's transaction."""
    alert = Alert(
        rule_id=rule.id,
        location_id=location_id,
        subject=subject,
        kind=rule.kind.value,
        rule_text=rule.describe()[:300],
        message=message,
        opened_at=now,
    )
    session.add(alert)
    session.flush()
    session.add_all(
        AlertDelivery(
            alert_id=alert.id, channel=c, state="pending", attempts=0, next_attempt_at=now
        )
        for c in channels
    )
    return alert


@dataclass(frozen=True)
class CommentView:
    author: str
    at: datetime
    text: str


@dataclass(frozen=True)
class AlertView:
    id: int
    location: str
    location_name: str
    rule: int | None
    rule_text: str
    kind: str
    subject: str
    message: str
    opened_at: datetime
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    comments: list[CommentView]


def list_alerts(
    session: Session,
    *,
    within: Collection[str] | None = None,
    state: AlertState = "all",
    limit: int = 200,
) -> list[AlertView]:
    """Newest first; `within` limits them to those locations."""
    query = select(Alert).order_by(Alert.opened_at.desc(), Alert.id.desc()).limit(limit)
    if within is not None:
        query = query.where(Alert.location_id.in_(within))
    if state == "open":
        query = query.where(Alert.acknowledged_at.is_(None))
    elif state == "acknowledged":
        query = query.where(Alert.acknowledged_at.is_not(None))
    return _views(session, list(session.scalars(query)))


def alert_view(session: Session, *, alert_id: int) -> AlertView | None:
    alert = session.get(Alert, alert_id)
    return _views(session, [alert])[0] if alert else None


def _views(session: Session, alerts: list[Alert]) -> list[AlertView]:
    ids = [a.id for a in alerts]
    comments: dict[int, list[CommentView]] = {i: [] for i in ids}
    for c in session.scalars(
        select(AlertComment).where(AlertComment.alert_id.in_(ids)).order_by(AlertComment.id)
    ):
        comments[c.alert_id].append(CommentView(c.author, c.at, c.text))
    names = {
        location_id: name
        for location_id, name in session.execute(
            select(Location.location_id, Location.name).where(
                Location.location_id.in_({a.location_id for a in alerts})
            )
        )
    }
    return [
        AlertView(
            id=a.id,
            location=a.location_id,
            location_name=names.get(a.location_id, a.location_id),
            rule=a.rule_id,
            rule_text=a.rule_text,
            kind=a.kind,
            subject=a.subject,
            message=a.message,
            opened_at=a.opened_at,
            resolved_at=a.resolved_at,
            acknowledged_at=a.acknowledged_at,
            acknowledged_by=a.acknowledged_by,
            comments=comments[a.id],
        )
        for a in alerts
    ]


def acknowledge(
    session: Session, *, alert_id: int, username: str, now: datetime, comment: str | None = None
) -> None:
    """The first acknowledgement counts; a later one only adds its comment."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise ConfigError(f"no alert {alert_id}")
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        alert.acknowledged_by = username
    if comment:
        add_comment(session, alert_id=alert_id, username=username, now=now, text=comment)


def add_comment(
    session: Session, *, alert_id: int, username: str, now: datetime, text: str
) -> None:
    if session.get(Alert, alert_id) is None:
        raise ConfigError(f"no alert {alert_id}")
    session.add(AlertComment(alert_id=alert_id, author=username, at=now, text=text))
