"""Each staff notice reaches its route once, in that route's format: a real HTTP receiver on
loopback stands in for Slack, Teams, ntfy and a webhook, aiosmtpd for the mail server."""

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.config import AlertSettings, HubSettings, SmtpSettings, TaskSettings
from hub.models import Task, TaskNotification
from hub.signing import session_secret
from hub.tasks.links import PREFIX, StaffLinks
from hub.tasks.notify import NotificationQueue
from hub.tasks.records import open_by_hand, resolve
from hub.tasks.teams import Route, remove_member
from protocol.messages import Button
from tests.hub.alerts.conftest import Presser, smtp_inbox
from tests.hub.factories import NOON
from tests.hub.tasks.conftest import Receiver, TeamMaker

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HUB_URL = "https://hub.example.org"
TITLE = "Soap <empty> & *bins* full"


Published = list[tuple[str, bytes]]


@pytest.fixture
def published() -> Published:
    return []


@pytest.fixture
def queue_for(
    places: sessionmaker[Session], tmp_path: Path, published: Published
) -> Callable[..., NotificationQueue]:
    def make(**groups: Any) -> NotificationQueue:
        """A queue (a hub started afresh) over the same database; `groups` as HubSettings'."""
        groups.setdefault("alerts", AlertSettings(mqtt=False, webhook_allow_private=True))
        settings = HubSettings(data_dir=tmp_path, tasks=TaskSettings(public_url=HUB_URL), **groups)

        def publish(topic: str, payload: bytes) -> bool:
            published.append((topic, payload))
            return True

        return NotificationQueue(places, settings, publish, clock=lambda: NOON)

    return make


def open_task(places: sessionmaker[Session], **kwargs: Any) -> int:
    with places.begin() as session:
        return open_by_hand(
            session,
            team_id="cleaning",
            location_id="gate-a",
            title=kwargs.pop("title", TITLE),
            by="duty manager",
            now=kwargs.pop("now", NOON),
            **kwargs,
        )


def notification_rows(places: sessionmaker[Session]) -> list[TaskNotification]:
    with places() as session:
        return list(session.scalars(select(TaskNotification).order_by(TaskNotification.member_id)))


def test_each_route_gets_its_own_format_with_a_link_that_opens_the_task(
    places: sessionmaker[Session],
    presses: Presser,
    teams: TeamMaker,
    receiver: Receiver,
    queue_for: Callable[..., NotificationQueue],
    published: Published,
    tmp_path: Path,
) -> None:
    presses(
        [Button.UNHAPPY, Button.VERY_UNHAPPY, Button.HAPPY, Button.UNHAPPY], at=[NOON - MINUTE] * 4
    )
    team = teams(
        members=[
            (Route.SLACK, f"{receiver.url}/slack/T000/B000/XXXX"),
            (Route.TEAMS, f"{receiver.url}/teams/workflow?sig=abc"),
            (Route.NTFY, f"{receiver.url}/cleaning-t2"),
            (Route.WEBHOOK, f"{receiver.url}/hook"),
            (Route.MQTT, "staff/cleaning"),
        ]
    )
    task_id = open_task(places)
    assert queue_for().deliver_due(NOON) == 5
    assert {r.state for r in notification_rows(places)} == {"delivered"}
    slack, teams_card, ntfy, hook = (
        receiver.at(p)[0]
        for p in ("/slack/T000/B000/XXXX", "/teams/workflow?sig=abc", "/", "/hook")
    )
    links = [
        slack.body["blocks"][1]["elements"][0]["url"],
        teams_card.body["attachments"][0]["content"]["actions"][0]["url"],
        ntfy.body["click"],
        hook.body["link"],
        json.loads(published[0][1])["link"],
    ]
    # Each link names this task and the member it went to, signed with the hub's secret.
    settings = HubSettings(data_dir=tmp_path)
    staff_links = StaffLinks(session_secret(settings), max_age_s=3600, clock=lambda: NOON)
    with places() as session:
        passes = [staff_links.read(session, link.removeprefix(HUB_URL + PREFIX)) for link in links]
    assert [(p.task_id, p.member_id) for p in passes if p] == [
        (task_id, m.id) for m in team.members
    ]

    section = slack.body["blocks"][0]["text"]
    assert section["type"] == "mrkdwn"
    assert "Soap &lt;empty&gt; &amp; *bins* full" in section["text"]
    assert "75 % negative of 4 answers in 60 min" in section["text"]
    assert "2026-11-23 14:00 EET" in section["text"]  # noon UTC, in Helsinki
    assert slack.body["text"].startswith(f"Task {task_id} at GATE-A (gate-a)")

    [attachment] = teams_card.body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    kinds = [block["type"] for block in card["body"]]
    assert kinds == ["TextBlock", "TextBlock", "FactSet"]
    assert card["body"][1]["text"] == r"Soap <empty> & \*bins\* full"
    facts = {f["title"]: f["value"] for f in card["body"][2]["facts"]}
    assert facts["Team"] == "Cleaning"
    assert card["actions"][0]["type"] == "Action.OpenUrl"

    assert ntfy.body["topic"] == "cleaning-t2"
    assert (ntfy.body["priority"], ntfy.body["tags"]) == (3, ["warning"])
    assert TITLE in ntfy.body["message"]

    assert hook.headers["Idempotency-Key"] == f"task-{task_id}-opened-{team.members[3].id}"
    assert hook.body["task_id"] == task_id
    assert hook.body["location"] == {"id": "gate-a", "name": "GATE-A"}
    assert (hook.body["negative_share"], hook.body["responses"]) == (0.75, 4)
    assert hook.body["opened_at_local"] == "2026-11-23T14:00:00+02:00"

    [(topic, payload)] = published
    assert topic == "seed/tasks/staff/cleaning"
    assert json.loads(payload)["idempotency_key"] == f"task-{task_id}-opened-{team.members[4].id}"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Any]]:
    with smtp_inbox() as server:
        yield server


def test_email_is_plain_text_with_the_link(
    places: sessionmaker[Session],
    teams: TeamMaker,
    queue_for: Callable[..., NotificationQueue],
    smtp_server: tuple[int, Any],
) -> None:
    port, inbox = smtp_server
    teams(members=[(Route.EMAIL, "cleaner@example.org")])
    task_id = open_task(places, title="Bins full")
    smtp = SmtpSettings(host="127.0.0.1", port=port, starttls=False)
    assert queue_for(smtp=smtp).deliver_due(NOON) == 1
    assert queue_for(smtp=smtp).deliver_due(NOON + timedelta(days=1)) == 0
    [raw] = inbox.messages
    mail: Message = message_from_bytes(raw)
    assert mail["To"] == "cleaner@example.org"
    assert mail["Subject"] == f"[Seed task {task_id}] GATE-A: Bins full"
    assert mail.get_content_type() == "text/plain"
    body = mail.get_payload(decode=True)
    assert isinstance(body, bytes)
    text = body.decode()
    assert f"{HUB_URL}{PREFIX}" in text
    assert "Opened: 2026-11-23 14:00 EET" in text
    assert "no answers in the 60 min before it opened" in text


SECRET_URL_PARTS = ("s3cret", "T0KEN-PATH", "sig=xyz")


def test_a_failing_route_backs_off_gives_up_and_keeps_no_secret(
    places: sessionmaker[Session],
    teams: TeamMaker,
    receiver: Receiver,
    queue_for: Callable[..., NotificationQueue],
) -> None:
    host = receiver.url.removeprefix("http://")
    teams(members=[(Route.SLACK, f"http://bot:s3cret@{host}/T0KEN-PATH?sig=xyz")])
    receiver.answers = [500, 503, 500]
    open_task(places)
    alerts = AlertSettings(mqtt=False, webhook_allow_private=True, retry_base_s=5, max_attempts=3)
    queue = queue_for(alerts=alerts)
    assert queue.deliver_due(NOON) == 0
    [row] = notification_rows(places)
    assert (row.state, row.attempts, row.next_attempt_at) == ("pending", 1, NOON + 5 * SECOND)
    assert queue.deliver_due(NOON + 4 * SECOND) == 0  # not due yet: nothing sent
    assert len(receiver.posts) == 1
    assert queue.deliver_due(NOON + 5 * SECOND) == 0
    [row] = notification_rows(places)
    assert row.next_attempt_at == NOON + 15 * SECOND  # 5 s, then 10 s more
    assert queue.deliver_due(NOON + 15 * SECOND) == 0
    [row] = notification_rows(places)
    assert (row.state, row.attempts) == ("failed", 3)
    assert queue.deliver_due(NOON + timedelta(days=1)) == 0
    assert len(receiver.posts) == 3
    assert receiver.posts[0].headers["Authorization"].startswith("Basic ")
    assert row.last_error is not None
    assert "500" in row.last_error
    assert not [s for s in SECRET_URL_PARTS if s in row.last_error]


def test_an_unreachable_route_keeps_no_secret_either(
    places: sessionmaker[Session],
    teams: TeamMaker,
    queue_for: Callable[..., NotificationQueue],
) -> None:
    teams(members=[(Route.TEAMS, "http://bot:s3cret@127.0.0.1:9/T0KEN-PATH?sig=xyz")])
    open_task(places)
    assert queue_for().deliver_due(NOON) == 0
    [row] = notification_rows(places)
    assert row.state == "pending"
    assert row.last_error is not None
    assert "127.0.0.1:9" in row.last_error
    assert not [s for s in SECRET_URL_PARTS if s in row.last_error]


def test_private_addresses_are_refused_unless_allowed(
    places: sessionmaker[Session],
    teams: TeamMaker,
    receiver: Receiver,
    queue_for: Callable[..., NotificationQueue],
) -> None:
    teams(members=[(Route.WEBHOOK, f"{receiver.url}/hook")])
    open_task(places)
    assert queue_for(alerts=AlertSettings(mqtt=False)).deliver_due(NOON) == 0
    [row] = notification_rows(places)
    assert "loopback" in (row.last_error or "")
    assert receiver.posts == []


def test_delivered_once_across_a_restart(
    places: sessionmaker[Session],
    teams: TeamMaker,
    receiver: Receiver,
    queue_for: Callable[..., NotificationQueue],
) -> None:
    teams(members=[(Route.WEBHOOK, f"{receiver.url}/hook")])
    receiver.answers = [500]
    task_id = open_task(places)
    assert queue_for().deliver_due(NOON) == 0
    assert queue_for().deliver_due(NOON + 5 * SECOND) == 1  # a hub started afresh
    assert queue_for().deliver_due(NOON + timedelta(days=1)) == 0
    delivered = [p.body["task_id"] for p in receiver.posts[1:]]
    assert delivered == [task_id]
    [row] = notification_rows(places)
    assert (row.state, row.attempts, row.delivered_at, row.last_error) == (
        "delivered",
        2,
        NOON + 5 * SECOND,
        None,
    )


def test_a_notice_for_a_task_resolved_meanwhile_is_not_sent(
    places: sessionmaker[Session],
    teams: TeamMaker,
    receiver: Receiver,
    queue_for: Callable[..., NotificationQueue],
) -> None:
    teams(members=[(Route.WEBHOOK, f"{receiver.url}/hook")])
    task_id = open_task(places)
    with places.begin() as session:
        resolve(session, task_id=task_id, actor="duty manager", now=NOON)
    assert queue_for().deliver_due(NOON) == 0
    [row] = notification_rows(places)
    assert (row.state, row.attempts) == ("failed", 0)
    assert (row.last_error or "").startswith("not sent: the task was resolved")
    assert receiver.posts == []


def test_an_escalation_says_what_was_missed_and_pushes_harder(
    places: sessionmaker[Session],
    teams: TeamMaker,
    receiver: Receiver,
    queue_for: Callable[..., NotificationQueue],
) -> None:
    team = teams(escalation=[(Route.NTFY, f"{receiver.url}/ntfy/duty-manager")])
    task_id = open_task(places)
    with places.begin() as session:
        task = session.get(Task, task_id)
        assert task is not None
        task.device_id = "k1"
        task.escalated_at = NOON + 16 * MINUTE
        session.add(
            TaskNotification(
                task_id=task_id,
                member_id=team.members[0].id,
                reason="escalated",
                state="pending",
                attempts=0,
                created_at=NOON + 16 * MINUTE,
                next_attempt_at=NOON + 16 * MINUTE,
            )
        )
    assert queue_for().deliver_due(NOON + 16 * MINUTE) == 2  # opened (none on duty) and escalated
    # sent side by side: which arrives first is up to the threads
    opened, escalated = sorted(receiver.posts, key=lambda p: p.body["priority"])
    assert (opened.path, escalated.path) == ("/ntfy", "/ntfy")
    assert escalated.body["topic"] == "duty-manager"
    assert (escalated.body["priority"], escalated.body["tags"]) == (4, ["rotating_light"])
    assert escalated.body["title"] == f"Escalated: task {task_id} at GATE-A (gate-a)"
    assert "Cleaning did not acknowledge it in time" in escalated.body["message"]
    assert "Kiosk: k1" in escalated.body["message"]


def test_a_notice_for_a_member_removed_meanwhile_is_not_sent(
    places: sessionmaker[Session],
    teams: TeamMaker,
    receiver: Receiver,
    queue_for: Callable[..., NotificationQueue],
) -> None:
    team = teams(
        members=[(Route.WEBHOOK, f"{receiver.url}/a"), (Route.WEBHOOK, f"{receiver.url}/b")]
    )
    open_task(places)
    with places.begin() as session:
        remove_member(session, member_id=team.members[0].id, now=NOON)
    assert queue_for().deliver_due(NOON) == 1
    gone, kept = notification_rows(places)
    assert (gone.state, gone.last_error) == (
        "failed",
        "not sent: the member left the team before this notice could go out",
    )
    assert kept.state == "delivered"
    assert [p.path for p in receiver.posts] == ["/b"]
