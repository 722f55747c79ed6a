"""The observed side of a location: the faces' emotions beside the buttons, and footfall."""

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.ingest import store
from hub.reporting.reports import location_scores
from protocol.emotions import EMOTIC_CATEGORIES
from protocol.messages import Button, ObservedEmotion
from tests.hub.factories import NOON, press, status


def emotion(valence: float, happiness: float) -> ObservedEmotion:
    scores = [0.0] * 26
    scores[EMOTIC_CATEGORIES.index("Happiness")] = happiness
    scores[EMOTIC_CATEGORIES.index("Annoyance")] = 1 - happiness
    return ObservedEmotion(
        emotions=scores, vad=[valence, 0.5, 0.5], face_score=0.9, age_s=0.2, faces=1
    )


def report(sessions: sessionmaker[Session], **period: object) -> dict[str, object]:
    with sessions() as session:
        scores = location_scores(session, **period)  # type: ignore[arg-type]
    (row,) = [s.as_dict() for s in scores if s.location == "gate-a"]
    return row


def test_readings_give_the_observed_index_and_its_gap_to_the_stated_one(
    sessions: sessionmaker[Session],
) -> None:
    events = [
        press(Button.VERY_HAPPY).model_copy(update={"emotion": emotion(0.9, 0.8)}),
        press(Button.VERY_HAPPY).model_copy(update={"emotion": emotion(0.5, 0.4)}),
        press(Button.HAPPY),  # the camera saw no face
    ]
    with sessions.begin() as session:
        store.store_events(session, events=events, received_at=NOON)
        store.store_events(session, events=events[:1], received_at=NOON)  # redelivered: once
    row = report(sessions)
    observed = row["observed"]
    assert isinstance(observed, dict)
    assert observed["readings"] == 2
    assert observed["observed_index"] == pytest.approx(70.0)
    happy = 100 * (3 + 3 + 2) / 9
    assert observed["gap"] == pytest.approx(round(70.0 - round(happy, 1), 1), abs=0.05)
    assert list(observed["emotions"])[:2] == ["Happiness", "Annoyance"]
    assert observed["emotions"]["Happiness"] == pytest.approx(0.6)
    assert report(sessions, since=NOON + timedelta(hours=1))["observed"] is None


def test_footfall_adds_up_across_statuses_and_kiosk_restarts_into_a_response_rate(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        store.add_location(session, location_id="gate-a", name="Gate A", time_zone="UTC")
        store.register_device(session, device_id="k1", location_id="gate-a")
        store.store_events(session, events=[press(), press()], received_at=NOON)
        for minute, total in enumerate((10, 25, 4), start=1):  # 10, +15, then a restart: +4
            live = status().model_copy(update={"passersby_total": total})
            at = NOON + timedelta(minutes=minute)
            store.apply_status(session, status=live, received_at=at)
    row = report(sessions)
    assert row["passersby"] == 29
    assert row["response_rate"] == pytest.approx(2 / 29, abs=1e-4)
