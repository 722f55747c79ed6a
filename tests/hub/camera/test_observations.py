"""The cameras' readings go after their retention, in batches; the presses and counts stay."""

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hub.camera.observations import ObservationRetention, delete_old_observations
from hub.config import CameraSettings, HubSettings
from hub.ingest import store
from hub.models import observations
from hub.reporting.reports import location_scores
from protocol.messages import Button, ObservedEmotion, PressEvent
from tests.hub.camera.factories import approve_places
from tests.hub.factories import NOON, press

READING = ObservedEmotion(
    emotions=[0.5] * 26, vad=[0.7, 0.5, 0.5], face_score=0.9, age_s=0, faces=1
)
CAMERA = CameraSettings(min_readings=10, observation_retention_days=30)


def read_presses(count: int, *, days_ago: float, first_seq: int) -> list[PressEvent]:
    at = NOON - timedelta(days=days_ago)
    return [
        press(Button.HAPPY, seq=seq, at=at + timedelta(minutes=seq)).model_copy(
            update={"emotion": READING}
        )
        for seq in range(first_seq, first_seq + count)
    ]


@pytest.fixture
def readings(sessions: sessionmaker[Session]) -> None:
    """Twelve readings 31 days before NOON, twelve a day before, at an approved place."""
    with sessions.begin() as session:
        approve_places(session, ["gate-a"])
        old = read_presses(12, days_ago=31, first_seq=1)
        store.store_events(session, events=old, received_at=old[-1].occurred_at)
        recent = read_presses(12, days_ago=1, first_seq=100)
        store.store_events(session, events=recent, received_at=recent[-1].occurred_at)


def stored_readings(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(observations)) or 0)


def test_retention_deletes_old_readings_in_batches_and_keeps_the_counts(
    sessions: sessionmaker[Session], readings: None, caplog: pytest.LogCaptureFixture
) -> None:
    with sessions() as session:
        (before,) = location_scores(session, camera=CAMERA)
    assert before.as_dict()["observed"]["readings"] == 24

    job = ObservationRetention(
        sessions, HubSettings(camera=CAMERA), batch_rows=5, clock=lambda: NOON
    )
    with caplog.at_level(logging.INFO, logger="hub.camera.observations"):
        assert job.step() == 12
    assert "deleted 12 camera readings older than 30 days" in caplog.text
    assert job.step() == 0
    assert stored_readings(sessions) == 12

    with sessions() as session:
        (after,) = location_scores(session, camera=CAMERA)
        (old,) = location_scores(session, camera=CAMERA, until=NOON - timedelta(days=30))
    assert after.as_dict()["responses"] == before.as_dict()["responses"] == 24
    assert after.counts == before.counts
    assert after.as_dict()["observed"]["readings"] == 12
    assert old.as_dict()["responses"] == 12, "the presses stay"
    assert (old.as_dict()["observed"], old.as_dict()["observed_suppressed"]) == (None, False)


def test_one_batch_deletes_no_more_than_its_limit(
    sessions: sessionmaker[Session], readings: None
) -> None:
    with sessions.begin() as session:
        assert delete_old_observations(session, older_than=NOON - timedelta(days=30), limit=5) == 5
    assert stored_readings(sessions) == 19
