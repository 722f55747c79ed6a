"""The staff notification queue: each `TaskNotification` goes once to its member's route.

The rows are written in the transaction that opens or escalates a task; this queue sends
what is due and marks it delivered in its own transaction once the route took it, retrying
with the alert deliveries' backoff and giving up after their last attempt. A hub stopped or
killed between sending and marking sends it again when it starts: at least once, and once in
the usual case. Webhook-style routes carry `Idempotency-Key: task-<id>-<reason>-<member>`
(the `idempotency_key` of the JSON and MQTT payloads too), by which receivers deduplicate.

Up to `SENDERS` notices go out at once, and each outcome is recorded as soon as it is known.
A receiver (a URL's host and port, the SMTP server, the broker) gets its first notice alone
and, once it has answered, up to `PER_RECEIVER` side by side (one chat service may serve
every team): a receiver that never answers holds one sender, for at most
`Webhook.deadline_s`, and no other receiver's notices. Once a receiver has failed without an
answer (unreachable, too slow, not connected) its other notices due in the same round are
not tried: they wait for the failed one's backoff, with no attempt counted and `last_error`
saying why. A receiver that answered (a refusal, a 404 of one revoked webhook) is no sign
that the next one will fail.

Every notice names the task, its place, team and what travellers said, and carries a signed
link to the task's one-screen page (`hub.tasks.links`), made when it is sent so that it
works `tasks.link_hours` from then. Texts from the database are escaped for each format as
prose (Persian words keep their zero-width non-joiners): in Slack they go as `plain_text`,
which neither formats, mentions nor links; in a Teams card markdown and list markers are
backslash-escaped. Webhook URLs, which often hold secrets, are only ever shown `redacted`.
"""

import hashlib
import hmac
import json
import logging
import re
import smtplib
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.alerts.delivery import Backoff, DeliveryError, Publisher
from hub.alerts.rules import zone
from hub.alerts.webhook import Webhook, WebhookError, redacted
from hub.clock import Clock, utc_now
from hub.config import HubSettings
from hub.mailer import MailError, send_mail
from hub.models import Location, Task, TaskNotification, Team, TeamMember
from hub.signing import session_secret
from hub.tasks.links import StaffLinks
from hub.tasks.teams import Route
from protocol.errors import ConfigError, SeedError
from protocol.text import for_log

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Seed-Signature"
SENDERS = 8
PER_RECEIVER = 4
BATCH = 50
MAX_BATCHES = 20
ESCALATED = "escalated"
NOT_SENT = "not sent: "
"""Starts `last_error` of a notice given up without trying (the task resolved, the member gone)."""
DEFERRED = "not tried yet, its receiver failed just before: "
"""Starts `last_error` of a notice put off because another one to its receiver failed."""
ANSWERED = re.compile(r"webhook \S+ answered \d{3}\b")
"""How a WebhookError begins when the receiver answered, with a status it refuses with."""
SMTP_SILENT = (OSError, smtplib.SMTPServerDisconnected)
"""What an SMTP server that gives no answer raises (timeouts and refused connections too)."""
MARKDOWN = re.compile(r"([\\`*_\[\]])")
"""What formats or links in an Adaptive Card's text: backslash-escaped there."""
LIST_MARKER = re.compile(r"^(\s*)([-+]|\d+\.)")
"""What would start a list in an Adaptive Card's text: its last character escaped."""
SLACK_HEADER_CHARS = 150
SLACK_TEXT_CHARS = 2000
"""Slack refuses a whole message with a longer header or section field."""


@dataclass(frozen=True)
class StaffNotice:
    """What a member is told about a task."""

    task_id: int
    reason: str
    """opened or escalated"""
    member_id: int
    member_name: str
    route: Route
    target: str
    team_id: str
    team_name: str
    location_id: str
    location_name: str
    title: str
    detail: str
    negative_share: float | None
    responses: int | None
    window_min: int
    device_id: str | None
    opened_at: datetime
    local_opened_at: datetime
    missed: str | None
    """For an escalation, what the team missed: "acknowledge" or "resolve"."""
    link: str

    @property
    def key(self) -> str:
        return f"task-{self.task_id}-{self.reason}-{self.member_id}"

    @property
    def escalated(self) -> bool:
        return self.reason == ESCALATED

    @property
    def headline(self) -> str:
        """ "Task 12 at Gate A (gate-a)", "Escalated: task 12 …" for an escalation."""
        place = f"{self.location_name} ({self.location_id})"
        if self.escalated:
            return f"Escalated: task {self.task_id} at {place}"
        return f"Task {self.task_id} at {place}"

    @property
    def said(self) -> str:
        """What travellers said in the window before the task opened."""
        if not self.responses or self.negative_share is None:
            return f"no answers in the {self.window_min} min before it opened"
        share = round(100 * self.negative_share)
        return f"{share} % negative of {self.responses} answers in {self.window_min} min"

    @property
    def opened(self) -> str:
        return f"{self.local_opened_at:%Y-%m-%d %H:%M} {self.local_opened_at.tzname()}"

    @property
    def why(self) -> str | None:
        """Why an escalation reached this member."""
        if self.missed is None:
            return None
        return f"{self.team_name} did not {self.missed} it in time"

    def facts(self) -> list[tuple[str, str]]:
        """(label, value) pairs every format shows."""
        facts = [
            ("Team", self.team_name),
            ("Place", f"{self.location_name} ({self.location_id})"),
            ("Travellers", self.said),
            ("Opened", self.opened),
        ]
        if self.device_id:
            facts.append(("Kiosk", self.device_id))
        if self.why:
            facts.append(("Escalated", self.why))
        return facts

    def as_dict(self) -> dict[str, Any]:
        """The task as the webhook and MQTT routes send it."""
        return {
            "idempotency_key": self.key,
            "reason": self.reason,
            "task_id": self.task_id,
            "title": self.title,
            "detail": self.detail,
            "team": {"id": self.team_id, "name": self.team_name},
            "location": {"id": self.location_id, "name": self.location_name},
            "device_id": self.device_id,
            "negative_share": self.negative_share,
            "responses": self.responses,
            "window_min": self.window_min,
            "opened_at": self.opened_at.isoformat(),
            "opened_at_local": self.local_opened_at.isoformat(),
            "missed": self.missed,
            "member": {"id": self.member_id, "name": self.member_name},
            "link": self.link,
        }


def slack_text(text: str) -> str:
    """Text for any Slack text field: no control characters, and the three that Slack parses
    (`&`, `<`, `>`: mentions, links) escaped as it asks."""
    escaped = for_log(text, prose=True)
    return escaped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_plain(text: str, *, limit: int = SLACK_TEXT_CHARS) -> dict[str, Any]:
    """A Slack `plain_text` object: shown as it is, never formatted or linked."""
    escaped = slack_text(text)
    if len(escaped) > limit:
        escaped = re.sub(r"&[a-z]*$", "", escaped[: limit - 1]) + "…"
    return {"type": "plain_text", "text": escaped, "emoji": False}


def card_text(text: str) -> str:
    """Text for an Adaptive Card's markdown: what would format, link or start a list, escaped."""
    escaped = MARKDOWN.sub(r"\\\1", for_log(text, prose=True))
    return LIST_MARKER.sub(lambda m: f"{m[1]}{m[2][:-1]}\\{m[2][-1]}", escaped)


def slack_message(notice: StaffNotice) -> dict[str, Any]:
    """A Slack incoming-webhook message: what came from the database only in `plain_text`,
    and in `text`, the notification's, with `mrkdwn` off. Mattermost and Rocket.Chat show
    only that `text`, and as their Markdown."""
    facts = [(label, value) for label, value in notice.facts() if label != "Place"]
    button = {
        "type": "button",
        "text": slack_plain("Open the task"),
        "url": notice.link,
        "style": "danger" if notice.escalated else "primary",
    }
    return {
        "text": f"{slack_text(notice.headline)}: {slack_text(notice.title)}",
        "mrkdwn": False,
        "blocks": [
            {"type": "header", "text": slack_plain(notice.headline, limit=SLACK_HEADER_CHARS)},
            {"type": "section", "text": slack_plain(notice.title)},
            {"type": "section", "fields": [slack_plain(f"{k}: {v}") for k, v in facts]},
            {"type": "actions", "elements": [button]},
        ],
    }


def teams_message(notice: StaffNotice) -> dict[str, Any]:
    """A Microsoft Teams workflow webhook message: one Adaptive Card."""
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": card_text(notice.headline),
                "size": "Large",
                "weight": "Bolder",
                "color": "Attention" if notice.escalated else "Default",
                "wrap": True,
            },
            {"type": "TextBlock", "text": card_text(notice.title), "wrap": True},
            {
                "type": "FactSet",
                "facts": [{"title": t, "value": card_text(v)} for t, v in notice.facts()],
            },
        ],
        "actions": [{"type": "Action.OpenUrl", "title": "Open the task", "url": notice.link}],
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def plain_text(notice: StaffNotice) -> str:
    """The notice as plain text (e-mail and ntfy), each line escaped."""
    lines = [for_log(notice.title, prose=True), ""]
    lines += [f"{label}: {for_log(value, prose=True)}" for label, value in notice.facts()]
    return "\n".join(lines)


def ntfy_request(notice: StaffNotice) -> tuple[str, dict[str, Any]]:
    """(the server's root URL, the JSON publish) for a route `https://server/<topic>`."""
    parts = urlsplit(notice.target)
    base, _, topic = parts.path.rstrip("/").rpartition("/")
    if not topic:
        raise ConfigError(
            f"the ntfy route {redacted(notice.target)} names no topic: https://ntfy.example.org/TOPIC"
        )
    root = urlunsplit((parts.scheme, parts.netloc, base or "/", "", ""))
    body = {
        "topic": topic,
        "title": for_log(notice.headline, prose=True),
        "message": plain_text(notice),
        "click": notice.link,
        "tags": ["rotating_light"] if notice.escalated else ["warning"],
        "priority": 4 if notice.escalated else 3,
        "actions": [{"action": "view", "label": "Open the task", "url": notice.link}],
    }
    return root, body


def email_message(notice: StaffNotice, *, link_hours: float) -> tuple[str, str]:
    """(subject, plain-text body)."""
    escalated = "escalated: " if notice.escalated else ""
    subject = f"[Seed task {notice.task_id}] {escalated}{notice.location_name}: {notice.title}"
    body = (
        f"{for_log(notice.headline, prose=True)}\n\n{plain_text(notice)}\n\n"
        f"Acknowledge, resolve or add a note here:\n{notice.link}\n"
        f"(the link works for {link_hours:g} hours and needs no sign-in)\n"
    )
    return for_log(subject, prose=True)[:200], body


@dataclass(frozen=True)
class Routes:
    """Hands a notice to its member's route, or raises a SeedError saying why not."""

    settings: HubSettings
    publish: Publisher

    def send(self, notice: StaffNotice) -> None:
        if notice.route is Route.EMAIL:
            subject, body = email_message(notice, link_hours=self.settings.tasks.link_hours)
            send_mail(self.settings, [notice.target], subject, body)
        elif notice.route is Route.MQTT:
            topic = f"{self.settings.mqtt.topic_prefix}/tasks/{notice.target}"
            if not self.publish(topic, json.dumps(notice.as_dict()).encode()):
                raise DeliveryError("the broker did not acknowledge the notice (not connected?)")
        elif notice.route is Route.NTFY:
            self._post(*ntfy_request(notice), notice=notice)
        elif notice.route is Route.SLACK:
            self._post(notice.target, slack_message(notice), notice=notice)
        elif notice.route is Route.TEAMS:
            self._post(notice.target, teams_message(notice), notice=notice)
        else:
            self._post(notice.target, notice.as_dict(), notice=notice, signed=True)

    def _post(
        self, url: str, body: dict[str, Any], *, notice: StaffNotice, signed: bool = False
    ) -> None:
        hook = Webhook(url, allow_private=self.settings.alerts.webhook_allow_private)
        payload = json.dumps(body).encode()
        secret = self.settings.tasks.webhook_secret
        headers = {}
        if signed and secret is not None:
            headers[SIGNATURE_HEADER] = signature(secret.get_secret_value(), payload)
        hook.post(payload, idempotency_key=notice.key, extra_headers=headers)


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex>`: what a receiver computes over the raw body to know the hub sent it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Outcome:
    """What became of one try."""

    error: str | None = None
    """None once the route took the notice, else why not (no secret of its URL)."""
    unanswered: bool = False
    """The receiver gave no answer at all: its other notices wait for a later round."""


@dataclass
class Line:
    """The notices due to one receiver: the first alone; once the receiver has answered, up
    to PER_RECEIVER side by side (a chat service serving many teams is one receiver)."""

    waiting: deque[StaffNotice] = field(default_factory=deque)
    sending: int = 0
    answered: bool = False

    def room(self) -> int:
        """How many more of its notices may go out now."""
        width = PER_RECEIVER if self.answered else 1
        return min(len(self.waiting), max(0, width - self.sending))


class NotificationQueue:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: HubSettings,
        publish: Publisher,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._sessions = sessions
        self._routes = Routes(settings, publish)
        self._base_url = settings.staff_base_url
        self._links = StaffLinks(
            session_secret(settings), max_age_s=settings.tasks.link_hours * 3600, clock=clock
        )
        alerts = settings.alerts
        self._backoff = Backoff(alerts.retry_base_s, alerts.retry_max_s, alerts.max_attempts)

    def deliver_due(self, now: datetime) -> int:
        """Send every notice that is due, a batch after another (at most MAX_BATCHES), up to
        SENDERS at once, recording each outcome as it comes; a receiver that gives no answer
        has the rest of its line put off. Returns how many were delivered."""
        delivered = 0
        for _ in range(MAX_BATCHES):
            due = self._due(now)
            delivered += self._deliver(due, now)
            if len(due) < BATCH:  # each row sent is delivered, failed or put off: none is due again
                break
        return delivered

    def _deliver(self, due: list[tuple[StaffNotice, str | None]], now: datetime) -> int:
        lines: dict[str, Line] = {}
        for notice, not_sent in due:
            if not_sent:
                self._give_up(notice, NOT_SENT + not_sent)
            else:
                lines.setdefault(receiver(notice), Line()).waiting.append(notice)
        if not lines:
            return 0
        delivered = 0
        running: dict[Future[Outcome], tuple[Line, StaffNotice]] = {}
        with ThreadPoolExecutor(SENDERS, "task-notice") as senders:

            def start(line: Line) -> None:
                for _ in range(line.room()):
                    notice = line.waiting.popleft()
                    line.sending += 1
                    running[senders.submit(self._try, notice)] = (line, notice)

            for line in lines.values():
                start(line)
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    line, notice = running.pop(future)
                    delivered += self._settle(line, notice, future.result(), now)
                    start(line)
        return delivered

    def _settle(self, line: Line, notice: StaffNotice, outcome: Outcome, now: datetime) -> bool:
        """Record the outcome of one notice; if its receiver did not answer, put the rest of
        its line off. True if it was delivered."""
        line.sending -= 1
        self._record(notice, outcome.error, now)
        if outcome.unanswered and outcome.error is not None:
            while line.waiting:
                self._defer(line.waiting.popleft(), DEFERRED + outcome.error, now)
        else:
            line.answered = True
        return outcome.error is None

    def _due(self, now: datetime) -> list[tuple[StaffNotice, str | None]]:
        """(notice, why it is not to be sent, if so) for each due row."""
        with self._sessions() as session:
            rows = session.execute(
                select(TaskNotification, Task, TeamMember, Team.name, Location)
                .join(Task, Task.id == TaskNotification.task_id)
                .join(TeamMember, TeamMember.id == TaskNotification.member_id)
                .join(Team, Team.team_id == Task.team_id)
                .join(Location, Location.location_id == Task.location_id)
                .where(TaskNotification.state == "pending", TaskNotification.next_attempt_at <= now)
                .order_by(TaskNotification.next_attempt_at, TaskNotification.task_id)
                .limit(BATCH)
            ).all()
            return [
                (self._notice(n, task, member, team, place), _not_sent(task, member))
                for n, task, member, team, place in rows
            ]

    def _notice(
        self, row: TaskNotification, task: Task, member: TeamMember, team: str, place: Location
    ) -> StaffNotice:
        missed = None
        if row.reason == ESCALATED:
            acked = task.acknowledged_at is not None and (
                task.escalated_at is None or task.acknowledged_at < task.escalated_at
            )
            missed = "resolve" if acked else "acknowledge"
        path = self._links.path(task_id=task.id, member_id=member.id)
        return StaffNotice(
            task_id=task.id,
            reason=row.reason,
            member_id=member.id,
            member_name=for_log(member.name, prose=True),
            route=Route(member.route),
            target=member.target,
            team_id=task.team_id,
            team_name=for_log(team, prose=True),
            location_id=task.location_id,
            location_name=for_log(place.name, prose=True),
            title=for_log(task.title, prose=True),
            detail=for_log(task.detail, prose=True),
            negative_share=task.negative_share,
            responses=task.responses,
            window_min=task.window_min,
            device_id=task.device_id,
            opened_at=task.opened_at,
            local_opened_at=task.opened_at.astimezone(zone(place.time_zone)),
            missed=missed,
            link=self._base_url + path,
        )

    def _try(self, notice: StaffNotice) -> Outcome:
        what = f"task {notice.task_id} ({notice.reason}) to member {notice.member_id}"
        try:
            self._routes.send(notice)
        except SeedError as exc:
            error = _scrubbed(notice, exc)
            log.warning("%s via %s failed: %s", what, notice.route, error)
            return Outcome(error, unanswered=unanswered(exc))
        except Exception as exc:  # a fault of one notice must not stop the others
            error = _scrubbed(notice, f"{type(exc).__name__}: {exc}")
            log.warning("%s via %s failed unexpectedly: %s", what, notice.route, error)
            log.debug("%s: where it failed", what, exc_info=True)  # may show the URL's secrets
            return Outcome(error)
        return Outcome()

    def _record(self, notice: StaffNotice, error: str | None, now: datetime) -> None:
        with self._sessions.begin() as session:
            row = _row(session, notice)
            if row is None:
                return
            self._backoff.record(row, error, now)

    def _give_up(self, notice: StaffNotice, why: str) -> None:
        with self._sessions.begin() as session:
            row = _row(session, notice)
            if row is not None:
                row.state, row.last_error = "failed", why[:500]

    def _defer(self, notice: StaffNotice, why: str, now: datetime) -> None:
        """Put off untried, as long as a failed attempt would have been; no attempt counted."""
        with self._sessions.begin() as session:
            row = _row(session, notice)
            if row is not None:
                row.last_error = why[:500]
                row.next_attempt_at = now + self._backoff.delay(row.attempts + 1)


def receiver(notice: StaffNotice) -> str:
    """Who takes the notice: "smtp" (the SMTP server), "mqtt" (the broker) or a URL's
    `host:port`."""
    if notice.route in (Route.EMAIL, Route.MQTT):
        return notice.route.value
    try:
        parts = urlsplit(notice.target)
        return f"{parts.hostname}:{parts.port or parts.scheme}"
    except ValueError:
        return notice.target  # refused as a URL when it is sent: a receiver of its own


def unanswered(error: SeedError) -> bool:
    """Whether the receiver gave no answer at all (unreachable, too slow, not connected),
    rather than refusing this one notice (a status, a recipient) or being misconfigured."""
    if isinstance(error, WebhookError):
        return not ANSWERED.match(str(error))
    if isinstance(error, MailError):
        return isinstance(error.__cause__, SMTP_SILENT)
    return isinstance(error, DeliveryError)


def _row(session: Session, notice: StaffNotice) -> TaskNotification | None:
    return session.get(TaskNotification, (notice.task_id, notice.member_id, notice.reason))


def _not_sent(task: Task, member: TeamMember) -> str | None:
    if task.state == "resolved":
        return "the task was resolved before this notice could go out"
    if member.removed_at is not None:
        return "the member left the team before this notice could go out"
    return None


def _scrubbed(notice: StaffNotice, error: object) -> str:
    """The error with the member's URL, which may hold a secret, shown redacted."""
    text = str(error)
    if notice.route not in (Route.EMAIL, Route.MQTT):
        text = text.replace(notice.target, redacted(notice.target))
    return for_log(text)
