"""The task desk: an alert's task reaches its team, a missed target time its escalation
contact (once), and a resolved task is measured once its window after has passed; in a
running hub too, with a real broker."""

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.alerts.engine import AlertEngine
from hub.alerts.records import add_rule
from hub.alerts.rules import Rule, RuleKind
from hub.alerts.webhook import Webhook
from hub.app import Hub
from hub.clock import utc_now
from hub.config import AlertSettings, HubSettings, TaskSettings
from hub.ingest import store
from hub.models import Device, Task, TaskNotification
from hub.tasks.desk import TaskDesk
from hub.tasks.records import open_by_hand, resolve, task_view
from hub.tasks.teams import Role, Route, add_member, add_team
from protocol.broker_url import parse_broker_url
from protocol.messages import Button, decode_remote_config
from protocol.mqtt import Message, MqttConnection, MqttOptions
from tests.hub.alerts.conftest import Presser
from tests.hub.factories import NOON, press
from tests.hub.tasks.conftest import Receiver, TeamMaker
from tests.hub.tasks.test_notify import Silent, silent

__all__ = ["silent"]

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
ALERTS = AlertSettings(mqtt=False, webhook_allow_private=True)  # the receiver is on loopback


def desk_for(places: sessionmaker[Session], tmp_path: Path) -> TaskDesk:
    settings = HubSettings(
        data_dir=tmp_path, alerts=ALERTS, tasks=TaskSettings(public_url="https://hub.example.org")
    )
    return TaskDesk(places, settings, lambda _topic, _payload: True, clock=lambda: NOON)


def test_an_alert_becomes_a_task_that_escalates_once_and_is_measured_after_its_fix(
    places: sessionmaker[Session],
    presses: Presser,
    make_rule: Callable[..., int],
    engine_for: Callable[..., AlertEngine],
    teams: TeamMaker,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    team = teams(
        members=[(Route.WEBHOOK, f"{receiver.url}/cleaner")],
        escalation=[(Route.WEBHOOK, f"{receiver.url}/duty-manager")],
        ack_minutes=15,
        resolve_minutes=60,
    )
    make_rule(RuleKind.ANSWER_COUNT, 4, window_min=15, button=Button.UNHAPPY)
    presses([Button.UNHAPPY] * 5, at=[NOON - MINUTE] * 5)
    [alert_id] = engine_for(alerts=ALERTS).evaluate(NOON)
    desk = desk_for(places, tmp_path)

    assert desk.notices.deliver_due(NOON) == 1
    [opened] = receiver.at("/cleaner")
    task_id = opened.body["task_id"]
    assert opened.body["reason"] == "opened"
    assert opened.body["location"]["id"] == "gate-a"
    assert (opened.body["negative_share"], opened.body["responses"]) == (1.0, 5)
    with places() as session:
        assert task_view(session, task_id=task_id).alert_id == alert_id

    # nobody acknowledges: escalated once, past the due time, to the escalation contact only
    assert desk.check(NOON + 15 * MINUTE).escalated == []
    assert desk.check(NOON + 15 * MINUTE + SECOND).escalated == [task_id]
    assert desk.check(NOON + 20 * MINUTE).escalated == []
    assert desk.notices.deliver_due(NOON + 20 * MINUTE) == 1
    assert desk.notices.deliver_due(NOON + 60 * MINUTE) == 0
    [escalated] = receiver.at("/duty-manager")
    assert escalated.headers["Idempotency-Key"] == f"task-{task_id}-escalated-{team.members[1].id}"
    assert escalated.body["missed"] == "acknowledge"
    assert len(receiver.at("/cleaner")) == 1

    # resolved at 12:20; the 15 minutes after it are all happy
    with places.begin() as session:
        resolve(session, task_id=task_id, actor="cleaner", now=NOON + 20 * MINUTE)
    presses([Button.HAPPY] * 5, at=[NOON + 25 * MINUTE] * 5)
    assert desk.check(NOON + 35 * MINUTE - SECOND).measured == []
    assert desk.check(NOON + 35 * MINUTE).measured == [task_id]
    assert desk.check(NOON + 36 * MINUTE).measured == []
    with places() as session:
        task = task_view(session, task_id=task_id)
    # before 5/5 unhappy, after 0/5: Wilson (0.566, 1) and (0, 0.434); Newcombe's upper bound
    # -1 + sqrt(0.434² + 0.434²) = -0.386 < 0, so recovered
    assert (task.before, task.after, task.recovery) == ((5, 5), (0, 5), "recovered")


def test_a_running_hub_notifies_by_webhook_and_mqtt_once_across_a_restart(
    embedded_broker: str, start_hub: Callable[..., Hub], receiver: Receiver, tmp_path: Path
) -> None:
    received: list[Message] = []
    # subscriber: SUBSCRIBE seed/tasks/# at QoS 1, before any task exists
    listener = MqttConnection(
        MqttOptions(
            parse_broker_url(embedded_broker), "task-listener", subscriptions=("seed/tasks/#",)
        ),
        on_message=received.append,
    )
    listener.start()
    assert listener.wait_connected(10)
    db = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    groups = {"alerts": AlertSettings(interval_s=0.2, mqtt=False, webhook_allow_private=True)}
    hub = start_hub(embedded_broker, db=db, **groups)
    now = datetime.now(UTC)
    with hub.sessions.begin() as session:
        store.add_location(session, location_id="gate-a", name="Gate A", time_zone="UTC")
        add_team(session, team_id="gate-staff", name="Gate staff", location_id="gate-a", now=now)
        for route, target in ((Route.WEBHOOK, f"{receiver.url}/hook"), (Route.MQTT, "gates")):
            add_member(
                session,
                team_id="gate-staff",
                name=f"By {route}",
                route=route,
                target=target,
                role=Role.MEMBER,
            )
        add_rule(
            session,
            rule=Rule(0, "gate-a", RuleKind.ANSWER_COUNT, 2, 15, button=Button.UNHAPPY),
            created_by="admin",
            now=now,
        )
        store.store_events(
            session,
            events=[press(Button.UNHAPPY, at=now - SECOND, seq=i) for i in (1, 2)],
            received_at=now,
        )
    _wait_for(lambda: len(receiver.posts) >= 1 and len(received) >= 1)
    hub.stop()
    # each notice was marked delivered after the route took it: a restart sends nothing more
    start_hub(embedded_broker, db=db, client_id="test-hub-again", **groups)
    time.sleep(2.5)
    listener.stop()
    assert [p.path for p in receiver.posts] == ["/hook"]
    assert [m.topic for m in received] == ["seed/tasks/gates"]
    assert json.loads(received[0].payload)["task_id"] == receiver.posts[0].body["task_id"]


def test_a_silent_receiver_delays_neither_other_teams_nor_escalations(
    places: sessionmaker[Session],
    teams: TeamMaker,
    receiver: Receiver,
    silent: Silent,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Webhook, "deadline_s", 60)  # longer than this test waits
    teams("cleaning", members=[(Route.WEBHOOK, f"{silent.url}/cleaner")], ack_minutes=15)
    teams("security", members=[(Route.WEBHOOK, f"{receiver.url}/guard")])
    now = utc_now()
    with places.begin() as session:
        # the cleaners' time to acknowledge runs out 2 s after the desk starts
        cleaning = open_by_hand(
            session,
            team_id="cleaning",
            location_id="gate-a",
            title="Bins full",
            by="duty manager",
            now=now - 15 * MINUTE + 2 * SECOND,
        )
        open_by_hand(
            session, team_id="security", location_id="gate-b", title="Queue", by="dm", now=now
        )
    settings = HubSettings(
        data_dir=tmp_path,
        alerts=ALERTS,
        tasks=TaskSettings(public_url="https://hub.example.org", interval_s=0.2),
    )
    desk = TaskDesk(places, settings, lambda _topic, _payload: True)
    desk.start()
    try:
        _wait_for(lambda: _delivered(places) == ["security"], timeout_s=2)
        assert len(receiver.at("/guard")) == 1
        _wait_for(lambda: _escalated(places, cleaning), timeout_s=4)
        assert len(silent.connections) == 1, "the cleaners' receiver still holds its notice"
    finally:
        silent.hang_up()  # its notice fails at once: the desk can stop
        desk.stop()


def _delivered(places: sessionmaker[Session]) -> list[str]:
    """The teams whose notices are marked delivered."""
    with places() as session:
        query = (
            select(Task.team_id)
            .join(TaskNotification, TaskNotification.task_id == Task.id)
            .where(TaskNotification.state == "delivered")
        )
        return list(session.scalars(query))


def _escalated(places: sessionmaker[Session], task_id: int) -> bool:
    with places() as session:
        return task_view(session, task_id=task_id).escalated_at is not None


def _wait_for(condition: Callable[[], bool], timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_check_tells_a_display_kiosk_at_the_place_and_clears_it_once_resolved(
    places: sessionmaker[Session], teams: TeamMaker, tmp_path: Path
) -> None:
    teams(members=[(Route.EMAIL, "cleaners@example.org")])
    with places.begin() as session:
        store.register_device(
            session, device_id="k1", location_id="gate-a", now=NOON
        ).display = True
        task_id = open_by_hand(
            session, team_id="cleaning", location_id="gate-a", title="Wet floor", by="ops", now=NOON
        )
    settings = HubSettings(data_dir=tmp_path, alerts=ALERTS, tasks=TaskSettings(kiosk_notice=True))
    desk = TaskDesk(places, settings, lambda _topic, _payload: True, clock=lambda: NOON)

    def shown() -> list[str]:
        with places() as session:
            device = session.get(Device, "k1")
            assert device is not None and device.desired_config is not None
            notices = decode_remote_config(device.desired_config.encode()).notices or []
            return [f"{n.kind} {n.team}" for n in notices]

    assert desk.check(NOON).kiosks == ["k1"]
    assert shown() == ["requested Cleaning"]
    assert desk.check(NOON + MINUTE).kiosks == []  # unchanged: no new config version
    with places.begin() as session:
        resolve(session, task_id=task_id, actor="ops", now=NOON + 2 * MINUTE)
    assert desk.check(NOON + 3 * MINUTE).kiosks == ["k1"]
    assert shown() == []
