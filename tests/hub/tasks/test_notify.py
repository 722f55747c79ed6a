"""Each staff notice reaches its route once, in that route's format: a real HTTP receiver on
loopback stands in for Slack, Teams, ntfy and a webhook, aiosmtpd for the mail server."""

import dataclasses
import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.alerts.webhook import Webhook
from hub.config import AlertSettings, HubSettings, MqttSettings, SmtpSettings, TaskSettings
from hub.fleet.broker_files import hash_password
from hub.models import Location, Task, TaskNotification
from hub.signing import session_secret
from hub.tasks.links import PREFIX, StaffLinks
from hub.tasks.notify import DEFERRED, NotificationQueue
from hub.tasks.records import open_by_hand, resolve
from hub.tasks.teams import Route, remove_member
from protocol.messages import Button
from tests.hub.alerts.conftest import Presser, smtp_inbox
from tests.hub.factories import NOON
from tests.hub.tasks.conftest import Receiver, TeamMaker
from tests.integration.test_fleet_security import hub_options, provisioned_fleet, session_of

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
        groups.setdefault("tasks", TaskSettings(public_url=HUB_URL))
        settings = HubSettings(data_dir=tmp_path, **groups)

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
        slack.body["blocks"][3]["elements"][0]["url"],
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

    header, title, facts_section, _ = slack.body["blocks"]
    assert header["text"]["text"] == f"Task {task_id} at GATE-A (gate-a)"
    assert title["text"] == {
        "type": "plain_text",
        "text": "Soap &lt;empty&gt; &amp; *bins* full",
        "emoji": False,
    }
    slack_facts = [field["text"] for field in facts_section["fields"]]
    assert "Travellers: 75 % negative of 4 answers in 60 min" in slack_facts
    assert "Opened: 2026-11-23 14:00 EET" in slack_facts  # noon UTC, in Helsinki
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


@dataclass
class Silent:
    """A TCP server on loopback that accepts every connection and never answers."""

    url: str
    connections: list[socket.socket] = field(default_factory=list)
    closed: threading.Event = field(default_factory=threading.Event)

    def hang_up(self) -> None:
        self.closed.set()
        for connection in self.connections:
            connection.close()


@pytest.fixture
def silent() -> Iterator[Silent]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    state = Silent(f"http://127.0.0.1:{server.getsockname()[1]}")

    def accept() -> None:
        while not state.closed.is_set():
            try:
                state.connections.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield state
    state.hang_up()
    thread.join()
    server.close()


def row_of(places: sessionmaker[Session], member_id: int) -> TaskNotification:
    [row] = [r for r in notification_rows(places) if r.member_id == member_id]
    return row


def test_a_silent_receiver_holds_up_no_other_and_only_one_of_its_own_notices(
    places: sessionmaker[Session],
    teams: TeamMaker,
    receiver: Receiver,
    silent: Silent,
    queue_for: Callable[..., NotificationQueue],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Webhook, "deadline_s", 3)
    team = teams(
        members=[
            (Route.WEBHOOK, f"{silent.url}/first"),
            (Route.SLACK, f"{silent.url}/second"),
            (Route.WEBHOOK, f"{receiver.url}/hook"),
        ]
    )
    silent_one, silent_two, working = (m.id for m in team.members)
    open_task(places)
    queue = queue_for()
    round_ = threading.Thread(target=queue.deliver_due, args=(NOON,))
    round_.start()
    deadline = time.monotonic() + 2
    while row_of(places, working).state != "delivered":
        assert time.monotonic() < deadline, "the working receiver's notice waited"
        time.sleep(0.05)
    assert round_.is_alive(), "recorded while the silent receiver still holds its sender"
    round_.join()

    assert len(silent.connections) == 1, "one try at a receiver that gave no answer"
    tried, put_off = row_of(places, silent_one), row_of(places, silent_two)
    if tried.attempts == 0:  # which of the two went first is up to the order of the rows
        tried, put_off = put_off, tried
    assert (tried.state, tried.attempts, tried.next_attempt_at) == ("pending", 1, NOON + 5 * SECOND)
    assert tried.last_error is not None
    assert "no complete answer within 3 s" in tried.last_error
    assert (put_off.state, put_off.attempts, put_off.next_attempt_at) == (
        "pending",
        0,
        NOON + 5 * SECOND,
    )
    assert put_off.last_error == DEFERRED + tried.last_error
    assert len(receiver.posts) == 1


def test_an_unreachable_receiver_is_tried_once_a_round_and_every_notice_in_the_end(
    places: sessionmaker[Session],
    teams: TeamMaker,
    queue_for: Callable[..., NotificationQueue],
) -> None:
    teams(members=[(Route.WEBHOOK, "http://127.0.0.1:9/a"), (Route.NTFY, "http://127.0.0.1:9/b")])
    open_task(places)
    alerts = AlertSettings(mqtt=False, webhook_allow_private=True, retry_base_s=5, max_attempts=2)
    queue = queue_for(alerts=alerts)
    assert queue.deliver_due(NOON) == 0
    assert sorted(r.attempts for r in notification_rows(places)) == [0, 1]
    for later in (5, 15, 25):  # one notice at a time, until each has had its attempts
        queue.deliver_due(NOON + later * SECOND)
    rows = notification_rows(places)
    assert [(r.state, r.attempts) for r in rows] == [("failed", 2), ("failed", 2)]
    assert not [r for r in rows if (r.last_error or "").startswith(DEFERRED)]


def test_a_receiver_that_answers_a_refusal_still_gets_its_other_notices(
    places: sessionmaker[Session],
    teams: TeamMaker,
    receiver: Receiver,
    queue_for: Callable[..., NotificationQueue],
) -> None:
    teams(members=[(Route.SLACK, f"{receiver.url}/revoked"), (Route.SLACK, f"{receiver.url}/ok")])
    receiver.answers = [404]
    open_task(places)
    assert queue_for().deliver_due(NOON) == 1
    assert len(receiver.posts) == 2
    refused = [r for r in notification_rows(places) if r.state == "pending"]
    assert [(r.attempts, "404" in (r.last_error or "")) for r in refused] == [(1, True)]


PERSIAN = "سطل\u200cها پر است، صابون تمام شد"  # noqa: RUF001 (Persian letters)
""""The bins are full, the soap has run out": the first word needs its zero-width non-joiner."""


def test_persian_arrives_as_written_in_every_format(
    places: sessionmaker[Session],
    teams: TeamMaker,
    receiver: Receiver,
    queue_for: Callable[..., NotificationQueue],
    smtp_server: tuple[int, Any],
) -> None:
    port, inbox = smtp_server
    teams(
        members=[
            (Route.SLACK, f"{receiver.url}/slack"),
            (Route.TEAMS, f"{receiver.url}/teams"),
            (Route.NTFY, f"{receiver.url}/ntfy"),
            (Route.WEBHOOK, f"{receiver.url}/hook"),
            (Route.EMAIL, "cleaner@example.org"),
        ]
    )
    open_task(places, title=PERSIAN)
    smtp = SmtpSettings(host="127.0.0.1", port=port, starttls=False)
    assert queue_for(smtp=smtp).deliver_due(NOON) == 5
    slack, card, ntfy, hook = (receiver.at(p)[0].body for p in ("/slack", "/teams", "/", "/hook"))
    assert slack["blocks"][1]["text"]["text"] == PERSIAN
    assert card["attachments"][0]["content"]["body"][1]["text"] == PERSIAN
    assert ntfy["message"].startswith(PERSIAN + "\n")
    assert hook["title"] == PERSIAN
    [raw] = inbox.messages
    body = message_from_bytes(raw).get_payload(decode=True)
    assert isinstance(body, bytes)
    assert PERSIAN in body.decode()


HOSTILE = (
    "<!channel> *Pay* _now_ ~at~ `<https://evil.example|the hub>` [here](https://evil.example)"
)


@pytest.mark.parametrize(
    ("title", "in_a_card"),
    [
        (
            HOSTILE,
            r"<!channel> \*Pay\* \_now\_ ~at~ \`<https://evil.example|the hub>\` "
            r"\[here\](https://evil.example)",
        ),
        ("- not a list", r"\- not a list"),
        ("+ nor this", r"\+ nor this"),
        ("12. nor this", r"12\. nor this"),
    ],
)
def test_hostile_titles_neither_format_nor_link_in_chat(
    places: sessionmaker[Session],
    teams: TeamMaker,
    receiver: Receiver,
    queue_for: Callable[..., NotificationQueue],
    title: str,
    in_a_card: str,
) -> None:
    teams(members=[(Route.SLACK, f"{receiver.url}/slack"), (Route.TEAMS, f"{receiver.url}/teams")])
    open_task(places, title=title)
    assert queue_for().deliver_due(NOON) == 2
    slack, card = (receiver.at(p)[0].body for p in ("/slack", "/teams"))
    escaped = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert slack["blocks"][1]["text"] == {"type": "plain_text", "text": escaped, "emoji": False}
    texts = [b["text"] for b in slack["blocks"] if "text" in b]
    texts += [f for b in slack["blocks"] for f in b.get("fields", [])]
    assert {t["type"] for t in texts} == {"plain_text"}, "nothing is read as mrkdwn"
    assert slack["text"].endswith(f": {escaped}") and slack["mrkdwn"] is False
    assert "<" not in json.dumps(slack)
    assert card["attachments"][0]["content"]["body"][1]["text"] == in_a_card


def test_a_long_place_name_is_cut_to_what_a_slack_header_takes(
    places: sessionmaker[Session],
    teams: TeamMaker,
    receiver: Receiver,
    queue_for: Callable[..., NotificationQueue],
) -> None:
    with places.begin() as session:
        gate = session.get(Location, "gate-a")
        assert gate is not None
        gate.name = "Gate & " * 28
    teams(members=[(Route.SLACK, f"{receiver.url}/slack")])
    open_task(places)
    assert queue_for().deliver_due(NOON) == 1
    header = receiver.posts[0].body["blocks"][0]["text"]["text"]
    assert len(header) <= 150 and header.endswith("…")
    assert "&" not in header.replace("&amp;", ""), "no entity cut in half"


def test_an_unexpected_failure_is_logged_without_its_traceback_unless_debugging(
    places: sessionmaker[Session],
    teams: TeamMaker,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_broker(_topic: str, _payload: bytes) -> bool:
        raise RuntimeError("the client library broke")

    teams(members=[(Route.MQTT, "staff/cleaning")])
    open_task(places)
    settings = HubSettings(data_dir=tmp_path, alerts=AlertSettings(mqtt=False))
    queue = NotificationQueue(places, settings, broken_broker, clock=lambda: NOON)
    with caplog.at_level(logging.DEBUG, logger="hub.tasks.notify"):
        assert queue.deliver_due(NOON) == 0
    warning, debug = caplog.records
    assert (warning.levelno, warning.exc_info) == (logging.WARNING, None)
    assert "failed unexpectedly: RuntimeError: the client library broke" in warning.getMessage()
    assert debug.levelno == logging.DEBUG and debug.exc_info is not None
    [row] = notification_rows(places)
    assert row.last_error == "RuntimeError: the client library broke"


@pytest.mark.mosquitto
def test_a_notice_by_mqtt_passes_the_fleets_acl_and_no_kiosk_reads_it(
    places: sessionmaker[Session],
    teams: TeamMaker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On the broker `seed-hub fleet init` configures, with its hub ACL: Mosquitto would drop
    a publish the ACL does not allow and still acknowledge it under MQTT 3.1.1."""
    teams(members=[(Route.MQTT, "staff/cleaning")])
    task_id = open_task(places)
    with provisioned_fleet(tmp_path / "fleet", monkeypatch) as fleet:
        kiosk = fleet.options(fleet.provision("kiosk-1", auth="password"), "kiosk-1")
        # a staff pager's account beside the hub's on loopback, added by hand (after the
        # kiosk: adding one rewrites these files)
        fleet_dir = tmp_path / "fleet" / "fleet"
        with (fleet_dir / "hub.passwd").open("a") as passwords:
            passwords.write(f"staff-pager:{hash_password('pager-password')}\n")
        with (fleet_dir / "hub.acl").open("a") as acl:
            acl.write("\nuser staff-pager\ntopic read seed/tasks/#\n")
        fleet.broker.reload()
        time.sleep(0.5)
        tasks = ("seed/tasks/#",)
        pager = dataclasses.replace(
            hub_options("staff-pager", tasks), username="staff-pager", password="pager-password"
        )
        with (
            session_of(pager) as reader,
            session_of(dataclasses.replace(kiosk, subscriptions=tasks)) as snooper,
            session_of(hub_options(MqttSettings().client_id)) as hub,
        ):
            settings = HubSettings(data_dir=tmp_path, alerts=AlertSettings(mqtt=False))
            publish = hub.connection.publish_and_wait
            assert NotificationQueue(places, settings, publish).deliver_due(NOON) == 1
            deadline = time.monotonic() + 5
            while not reader.received:
                assert time.monotonic() < deadline, "the broker dropped the notice"
                time.sleep(0.05)
            time.sleep(0.5)
            assert snooper.received == []
    [message] = reader.received
    assert message.topic == "seed/tasks/staff/cleaning"
    assert json.loads(message.payload)["task_id"] == task_id


def test_a_plain_webhook_is_signed_when_a_secret_is_set_and_chat_routes_are_not(
    places: sessionmaker[Session],
    teams: TeamMaker,
    receiver: Receiver,
    queue_for: Callable[..., NotificationQueue],
) -> None:
    teams(members=[(Route.WEBHOOK, f"{receiver.url}/hook"), (Route.SLACK, f"{receiver.url}/slack")])
    open_task(places)
    secret = "a-long-shared-secret-for-the-receiver"
    tasks = TaskSettings(public_url=HUB_URL, webhook_secret=secret)
    assert queue_for(tasks=tasks).deliver_due(NOON) == 2
    [hook] = receiver.at("/hook")
    expected = hmac.new(secret.encode(), hook.raw, hashlib.sha256).hexdigest()
    assert hook.headers["X-Seed-Signature"] == f"sha256={expected}"
    [slack] = receiver.at("/slack")
    assert "X-Seed-Signature" not in slack.headers
