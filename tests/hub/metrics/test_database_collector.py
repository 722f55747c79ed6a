"""Figures read from the database at scrape time: kiosks online and offline, each kiosk's
outbox, clock offset and last-seen age, alert deliveries and task notifications waiting or
given up; read at most once per cache period."""

from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session, sessionmaker

from hub.db import make_engine, session_factory
from hub.ingest import store
from hub.metrics.database import DatabaseCollector
from hub.models import Alert, AlertDelivery, Device, Task, TaskNotification, Team, TeamMember
from protocol.messages import DeviceState
from tests.hub.factories import NOON, place, status

NOW = NOON + timedelta(seconds=30)


def _read(collector: DatabaseCollector) -> dict[tuple[str, tuple[str, ...]], float]:
    registry = CollectorRegistry()
    registry.register(collector)
    return {
        (sample.name, tuple(sample.labels.values())): sample.value
        for family in registry.collect()
        for sample in family.samples
    }


def _heard(session: Session, device_id: str, *, at: timedelta, depth: int, late_s: float) -> None:
    """A kiosk's heartbeat, sent `late_s` before the hub got it."""
    sent = NOON + at
    store.apply_status(
        session,
        status=status(device_id=device_id, sent_at=sent, outbox_depth=depth),
        received_at=sent + timedelta(seconds=late_s),
    )


def _alert_deliveries(session: Session, states: list[str]) -> None:
    alert = Alert(
        location_id="gate-a",
        subject="gate-a",
        kind="negative_share",
        rule_text="rule",
        message="sour",
        opened_at=NOON,
    )
    session.add(alert)
    session.flush()
    for channel, state in zip(("mqtt", "webhook", "email"), states, strict=False):
        session.add(
            AlertDelivery(
                alert_id=alert.id, channel=channel, state=state, attempts=1, next_attempt_at=NOON
            )
        )


def _task_notifications(session: Session, states: list[str]) -> None:
    session.add(
        Team(
            team_id="t",
            name="T",
            location_id="gate-a",
            ack_minutes=5,
            resolve_minutes=30,
            created_at=NOON,
        )
    )
    session.flush()
    task = Task(
        team_id="t",
        location_id="gate-a",
        title="queue",
        window_min=15,
        state="open",
        opened_at=NOON,
        opened_by="x",
        ack_due_at=NOON,
        resolve_due_at=NOON,
    )
    session.add(task)
    session.flush()
    for index, state in enumerate(states):
        member = TeamMember(
            team_id="t", name=f"m{index}", role="member", route="email", target="a@b.org"
        )
        session.add(member)
        session.flush()
        session.add(
            TaskNotification(
                task_id=task.id,
                member_id=member.id,
                reason="opened",
                state=state,
                attempts=1,
                created_at=NOON,
                next_attempt_at=NOON,
            )
        )


def test_the_fleet_and_the_queues_as_the_database_has_them(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        place(session, "gate-a")
        _heard(session, "k1", at=timedelta(seconds=0), depth=7, late_s=2.5)
        _heard(session, "k2", at=-timedelta(minutes=10), depth=0, late_s=-1)
        _heard(session, "k3", at=timedelta(seconds=10), depth=3, late_s=0)
        store.apply_status(
            session,
            status=status(DeviceState.OFFLINE, device_id="k3", sent_at=NOON),
            received_at=NOON + timedelta(seconds=20),
        )
        _alert_deliveries(session, ["pending", "failed", "delivered"])
        _task_notifications(session, ["pending", "pending", "delivered"])
    samples = _read(DatabaseCollector(sessions, clock=lambda: NOW))
    assert samples[("seed_hub_database_up", ())] == 1
    assert samples[("seed_hub_devices", ("online",))] == 1  # k1; k2 unheard for 10 min
    assert samples[("seed_hub_devices", ("offline",))] == 2  # k2, and k3 said goodbye
    assert samples[("seed_hub_device_outbox_events", ("k1",))] == 7
    assert samples[("seed_hub_device_clock_offset_seconds", ("k1",))] == 2.5
    assert samples[("seed_hub_device_clock_offset_seconds", ("k2",))] == -1
    assert samples[("seed_hub_device_last_seen_age_seconds", ("k1",))] == 27.5
    assert samples[("seed_hub_device_last_seen_age_seconds", ("k2",))] == 631
    assert samples[("seed_hub_device_last_seen_age_seconds", ("k3",))] == 10  # its goodbye
    assert samples[("seed_hub_alert_deliveries", ("pending",))] == 1
    assert samples[("seed_hub_alert_deliveries", ("failed",))] == 1
    assert samples[("seed_hub_task_notifications", ("pending",))] == 2
    assert samples[("seed_hub_task_notifications", ("failed",))] == 0


def test_a_revoked_kiosk_is_left_out(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        place(session, "gate-a")
        _heard(session, "k1", at=timedelta(0), depth=1, late_s=0)
        _heard(session, "k2", at=timedelta(0), depth=1, late_s=0)
        revoked = session.get(Device, "k2")
        assert revoked is not None
        revoked.revoked_at = NOON
    samples = _read(DatabaseCollector(sessions, clock=lambda: NOW))
    assert samples[("seed_hub_devices", ("online",))] == 1
    assert ("seed_hub_device_outbox_events", ("k2",)) not in samples


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_scrapes_within_the_cache_period_read_the_database_once(
    sessions: sessionmaker[Session],
) -> None:
    collector = DatabaseCollector(sessions, clock=lambda: NOW, cache_s=60)
    with sessions.begin() as session:
        place(session, "gate-a")
        _heard(session, "k1", at=timedelta(0), depth=1, late_s=0)
    assert _read(collector)[("seed_hub_devices", ("online",))] == 1
    with sessions.begin() as session:
        _heard(session, "k2", at=timedelta(0), depth=1, late_s=0)
    assert _read(collector)[("seed_hub_devices", ("online",))] == 1  # cached
    fresh = DatabaseCollector(sessions, clock=lambda: NOW, cache_s=0)
    assert _read(fresh)[("seed_hub_devices", ("online",))] == 2


def test_a_database_it_cannot_read_says_so_and_spoils_no_scrape(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'never-migrated.sqlite3'}")
    try:
        samples = _read(DatabaseCollector(session_factory(engine)))
    finally:
        engine.dispose()
    assert samples == {("seed_hub_database_up", ()): 0}
