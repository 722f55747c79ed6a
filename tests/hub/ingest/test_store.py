"""Repository functions against SQLite and PostgreSQL alike (the `db_url` fixture runs both)."""

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hub.camera.governance import set_audience, withdraw_approval
from hub.ingest import store
from hub.models import Audience, DeadLetter, Device, Event, HourlyRollup, Location, observations
from hub.rollups.checks import rollup_press_count
from protocol.errors import ConfigError
from protocol.messages import Button, DeviceState, ObservedEmotion, PressEvent
from tests.hub.camera.factories import approve
from tests.hub.factories import NOON, place, press, status

READING = ObservedEmotion(
    emotions=[0.5] * 26, vad=[0.7, 0.5, 0.5], face_score=0.9, age_s=0, faces=1
)


def test_events_are_stored_once_however_often_they_arrive(
    sessions: sessionmaker[Session],
) -> None:
    events = [press(seq=i) for i in range(1, 6)]
    with sessions.begin() as session:
        first = store.store_events(session, events=events, received_at=NOON)
    with sessions.begin() as session:
        again = store.store_events(session, events=[*events[2:], press(seq=6)], received_at=NOON)
    assert first == {e.event_id for e in events}
    assert len(again) == 1
    with sessions() as session:
        assert store.stored_event_count(session) == 6
        assert rollup_press_count(session) == 6


def test_a_batch_with_the_same_event_twice_counts_it_once(
    sessions: sessionmaker[Session],
) -> None:
    event = press()
    with sessions.begin() as session:
        assert store.store_events(session, events=[event, event], received_at=NOON) == {
            event.event_id
        }
    with sessions() as session:
        assert rollup_press_count(session) == 1


def test_rollups_count_per_location_hour_button_and_misuse(
    sessions: sessionmaker[Session],
) -> None:
    events = [
        press(Button.VERY_HAPPY, at=NOON + timedelta(minutes=1)),
        press(Button.VERY_HAPPY, at=NOON + timedelta(minutes=59)),
        press(Button.UNHAPPY, at=NOON + timedelta(minutes=2), misuse=True),
        press(Button.HAPPY, at=NOON + timedelta(hours=1)),
        press(Button.VERY_UNHAPPY, location_id="washroom-b"),
    ]
    with sessions.begin() as session:
        store.store_events(session, events=events, received_at=NOON)
    with sessions() as session:
        rows = {
            (r.location_id, r.bucket_start, r.misuse): (
                r.very_happy,
                r.happy,
                r.unhappy,
                r.very_unhappy,
            )
            for r in session.scalars(select(HourlyRollup))
        }
    assert rows == {
        ("gate-a", NOON, False): (2, 0, 0, 0),
        ("gate-a", NOON, True): (0, 0, 1, 0),
        ("gate-a", NOON + timedelta(hours=1), False): (0, 1, 0, 0),
        ("washroom-b", NOON, False): (0, 0, 0, 1),
    }


def test_first_event_creates_its_location_and_device(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        store.store_events(
            session, events=[press(device_id="k9", location_id="gate-9")], received_at=NOON
        )
    with sessions() as session:
        location = session.get(Location, "gate-9")
        device = session.get(Device, "k9")
    assert location is not None and location.time_zone == "UTC"
    assert device is not None and device.location_id == "gate-9"
    assert device.last_seen_at == NOON and not device.registered


def test_status_updates_the_registry(sessions: sessionmaker[Session]) -> None:
    received = NOON + timedelta(seconds=2)
    with sessions.begin() as session:
        store.apply_status(session, status=status(outbox_depth=7), received_at=received)
    with sessions.begin() as session:
        device = session.get(Device, "k1")
        assert device is not None
        assert (device.state, device.outbox_depth, device.version) == ("online", 7, "0.1.0")
        assert device.clock_offset_s == pytest.approx(2.0)
        store.apply_status(session, status=status(DeviceState.OFFLINE), received_at=received)
    with sessions() as session:
        device = session.get(Device, "k1")
        assert device is not None and device.state == "offline"
        assert device.outbox_depth == 7  # the last known figure stays for the fleet page


def test_locations_need_a_real_time_zone(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        store.add_location(
            session, location_id="gate-a", name="Gate A", time_zone="Europe/Helsinki"
        )
        with pytest.raises(ConfigError, match="IANA"):
            store.add_location(
                session, location_id="gate-b", name="Gate B", time_zone="Mars/Olympus"
            )


def test_registering_a_device_needs_its_location(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        with pytest.raises(ConfigError, match="locations add"):
            store.register_device(session, device_id="k1", location_id="nowhere")
        store.add_location(session, location_id="gate-a", name="Gate A", time_zone="UTC")
        store.register_device(session, device_id="k1", location_id="gate-a")
    with sessions() as session:
        assert store.registrations(session, device_ids={"k1", "k2"}) == {
            "k1": store.Registration("gate-a", frozenset({"gate-a"}), revoked=False)
        }


def test_a_moved_device_keeps_the_places_it_stood_at(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        for gate in ("gate-a", "gate-b"):
            store.add_location(session, location_id=gate, name=gate, time_zone="UTC")
        store.register_device(session, device_id="k1", location_id="gate-a")
        store.register_device(session, device_id="k1", location_id="gate-b")
    with sessions() as session:
        (registration,) = store.registrations(session, device_ids={"k1"}).values()
    assert registration.location_id == "gate-b"
    assert registration.placements == {"gate-a", "gate-b"}


def test_dead_letters_keep_the_payload_and_count_by_reason(
    sessions: sessionmaker[Session],
) -> None:
    huge = b"x" * (store.MAX_KEPT_PAYLOAD + 10)
    with sessions.begin() as session:
        store.record_dead_letters(
            session,
            letters=[
                store.Rejected("t", "malformed_json", "bad", b"{", NOON),
                store.Rejected("t", "oversized_payload", "big", huge, NOON),
                store.Rejected("t", "malformed_json", "bad", b"[", NOON),
            ],
        )
    with sessions() as session:
        assert store.dead_letter_counts(session) == {"malformed_json": 2, "oversized_payload": 1}
        big = session.scalars(
            select(DeadLetter).where(DeadLetter.reason == "oversized_payload")
        ).one()
    assert big.payload_size == len(huge)
    assert len(big.payload) == store.MAX_KEPT_PAYLOAD


def _read(location_id: str, seq: int) -> PressEvent:
    """A press with the camera's reading."""
    at = NOON + timedelta(minutes=seq)
    event = press(location_id=location_id, device_id=f"k-{location_id}", seq=seq, at=at)
    return event.model_copy(update={"emotion": READING})


def _stored(sessions: sessionmaker[Session]) -> dict[str, tuple[int, int]]:
    """location -> (presses, readings)."""
    with sessions() as session:
        presses = session.execute(
            select(Event.location_id, func.count()).group_by(Event.location_id)
        ).all()
        readings = session.execute(
            select(observations.c.location_id, func.count()).group_by(observations.c.location_id)
        ).all()
    read = {place: int(n) for place, n in readings}
    return {place: (int(n), read.get(place, 0)) for place, n in presses}


def test_a_reading_is_stored_only_where_a_camera_may_be_on(
    sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    """A kiosk may turn its camera on in its own file: its presses are kept, its readings
    only at a public place with an approval."""
    with sessions.begin() as session:
        place(session, "hel", kind="site")
        for touchpoint in ("gate", "staff", "lounge"):
            place(session, touchpoint, parent="hel")
        site = approve(session, "hel")
        set_audience(session, "staff", Audience.EMPLOYEES, actor="test", now=NOON)
    with sessions.begin() as session:
        store.store_events(
            session,
            events=[_read(p, n) for n, p in enumerate(["gate", "staff", "staff", "nowhere"], 1)],
            received_at=NOON,
        )
    assert _stored(sessions) == {"gate": (1, 1), "staff": (2, 0), "nowhere": (1, 0)}
    with sessions.begin() as session:
        approve(session, "lounge")
        withdraw_approval(session, site.approval_id, actor="test", now=NOON)
    with caplog.at_level(logging.WARNING, logger="hub.ingest.store"), sessions.begin() as session:
        store.store_events(
            session,
            events=[_read(p, 10 + n) for n, p in enumerate(["gate", "lounge"])],
            received_at=NOON,
        )
    assert _stored(sessions)["gate"] == (2, 1), "the approval is withdrawn"
    assert _stored(sessions)["lounge"] == (1, 1)
    assert "1 camera readings not stored: no camera may be on at gate" in caplog.text
