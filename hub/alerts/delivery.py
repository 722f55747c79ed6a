"""The delivery queue: each alert goes once to each channel, retried with backoff.

An alert's delivery rows are written in the transaction that opens it; this loop sends what
is due and marks it delivered in its own transaction after the channel accepted it. A hub
stopped or killed before that mark sends it again when it starts: at least once, and once
in the usual case; receivers deduplicate by the alert id that every channel carries.
"""

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.alerts.webhook import Webhook
from hub.config import HubSettings
from hub.mailer import send_mail
from hub.models import Alert, AlertDelivery, Location
from protocol.errors import SeedError
from protocol.text import for_log
from protocol.topics import Topics

log = logging.getLogger(__name__)

BATCH = 50
Publisher = Callable[[str, bytes], bool]
"""(topic, payload) -> True once the broker has it."""


class DeliveryError(SeedError):
    """A channel did not take an alert; the queue tries again later."""


@dataclass(frozen=True)
class Notice:
    """What every channel is told about an alert."""

    id: int
    location: str
    location_name: str
    kind: str
    rule: str
    message: str
    opened_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "location": self.location,
            "location_name": self.location_name,
            "kind": self.kind,
            "rule": self.rule,
            "message": self.message,
            "opened_at": self.opened_at.isoformat(),
        }

    def as_json(self) -> bytes:
        return json.dumps(self.as_dict()).encode()


class Channel(Protocol):
    def send(self, notice: Notice) -> None:
        """Hand the notice over, or raise DeliveryError (or any SeedError) saying why, with no
        secret in the message: it is logged and kept in `alert_deliveries.last_error`."""


@dataclass(frozen=True)
class MqttChannel:
    publish: Publisher
    topics: Topics

    def send(self, notice: Notice) -> None:
        if not self.publish(self.topics.alerts(notice.location), notice.as_json()):
            raise DeliveryError("the broker did not acknowledge the alert (not connected?)")


@dataclass(frozen=True)
class WebhookChannel:
    hook: Webhook

    def send(self, notice: Notice) -> None:
        self.hook.post(notice.as_json(), idempotency_key=f"alert-{notice.id}")


@dataclass(frozen=True)
class EmailChannel:
    settings: HubSettings

    def send(self, notice: Notice) -> None:
        name, message = for_log(notice.location_name), for_log(notice.message)
        body = (
            f"{message}\n\nWhere: {name} ({for_log(notice.location)})\n"
            f"Rule: {for_log(notice.rule)}\nOpened: {notice.opened_at:%Y-%m-%d %H:%M} UTC\n"
            f"Alert id: {notice.id}\n"
        )
        subject = f"[Seed alert {notice.id}] {name}: {message}"[:200]
        send_mail(self.settings, self.settings.alerts.email_to, subject, body)


def channels_from(settings: HubSettings, publish: Publisher) -> dict[str, Channel]:
    """The channels the settings turn on, by name."""
    channels: dict[str, Channel] = {}
    if settings.alerts.mqtt:
        channels["mqtt"] = MqttChannel(publish, Topics(settings.mqtt.topic_prefix))
    if settings.alerts.webhook_url:
        token = settings.alerts.webhook_token
        hook = Webhook(
            settings.alerts.webhook_url,
            token=token.get_secret_value() if token else None,
            allow_private=settings.alerts.webhook_allow_private,
        )
        channels["webhook"] = WebhookChannel(hook)
    if settings.alerts.email_to:
        channels["email"] = EmailChannel(settings)
    return channels


@dataclass(frozen=True)
class Backoff:
    base_s: float = 5
    max_s: float = 3600
    max_attempts: int = 12

    def delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failure: base, 2 base, 4 base, … up to max."""
        return timedelta(seconds=min(self.max_s, self.base_s * 2 ** min(attempts - 1, 30)))

    def record(self, row: "Attempted", error: str | None, now: datetime) -> None:
        """One attempt's outcome on its queue row: delivered; or failed for good after the
        last attempt; or due again after the backoff."""
        row.attempts += 1
        if error is None:
            row.state, row.delivered_at, row.last_error = "delivered", now, None
            return
        row.last_error = error[:500]
        if row.attempts >= self.max_attempts:
            row.state = "failed"
        else:
            row.next_attempt_at = now + self.delay(row.attempts)


class Attempted(Protocol):
    """A queue row (an alert's delivery, a staff notice)."""

    state: str
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None


class DeliveryQueue:
    def __init__(
        self, sessions: sessionmaker[Session], channels: Mapping[str, Channel], backoff: Backoff
    ) -> None:
        self._sessions = sessions
        self._channels = channels
        self._backoff = backoff

    def deliver_due(self, now: datetime) -> int:
        """Send every delivery that is due; returns how many were delivered."""
        delivered = 0
        for channel, notice in self._due(now):
            error = self._try(channel, notice)
            self._record(notice.id, channel, error, now)
            delivered += error is None
        return delivered

    def _due(self, now: datetime) -> list[tuple[str, Notice]]:
        with self._sessions() as session:
            rows = session.execute(
                select(AlertDelivery.channel, Alert, Location.name)
                .join(Alert, Alert.id == AlertDelivery.alert_id)
                .join(Location, Location.location_id == Alert.location_id)
                .where(AlertDelivery.state == "pending", AlertDelivery.next_attempt_at <= now)
                .order_by(AlertDelivery.next_attempt_at, AlertDelivery.alert_id)
                .limit(BATCH)
            ).all()
        return [
            (
                channel,
                Notice(a.id, a.location_id, name, a.kind, a.rule_text, a.message, a.opened_at),
            )
            for channel, a, name in rows
        ]

    def _try(self, channel: str, notice: Notice) -> str | None:
        sender = self._channels.get(channel)
        if sender is None:
            return f"the channel {channel} is not configured in this hub"
        try:
            sender.send(notice)
        except SeedError as exc:
            log.warning("alert %d via %s failed: %s", notice.id, channel, for_log(exc))
            return for_log(exc)
        except Exception as exc:  # a fault of one delivery must not stop the others
            log.exception("alert %d via %s failed unexpectedly", notice.id, channel)
            return for_log(f"{type(exc).__name__}: {exc}")
        return None

    def _record(self, alert_id: int, channel: str, error: str | None, now: datetime) -> None:
        with self._sessions.begin() as session:
            row = session.get(AlertDelivery, (alert_id, channel))
            if row is None:
                return
            self._backoff.record(row, error, now)
