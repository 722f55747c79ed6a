"""A site -> area -> two touchpoints in Helsinki, and helpers to press and to make rules."""

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub import store
from hub.alerts.engine import AlertEngine
from hub.alerts.records import add_rule
from hub.alerts.rules import Rule, RuleKind
from hub.config import HubSettings
from hub.models import Location
from protocol.messages import Button
from tests.hub.factories import NOON, press


@pytest.fixture
def places(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with sessions.begin() as session:
        for location_id, kind, parent in (
            ("hel", "site", None),
            ("t2", "area", "hel"),
            ("gate-a", "touchpoint", "t2"),
            ("gate-b", "touchpoint", "t2"),
        ):
            store.add_location(
                session,
                location_id=location_id,
                name=location_id.upper(),
                time_zone="Europe/Helsinki",
            )
            session.flush()
            location = session.get(Location, location_id)
            assert location is not None
            location.kind, location.parent_id = kind, parent
    return sessions


Presser = Callable[..., None]


@pytest.fixture
def presses(places: sessionmaker[Session]) -> Presser:
    """presses([Button, ...], at=[datetime, ...], location_id=...) stores them."""

    def add(buttons: list[Button], at: list[datetime], **kwargs: Any) -> None:
        with places.begin() as session:
            store.store_events(
                session,
                events=[press(b, at=t, **kwargs) for b, t in zip(buttons, at, strict=True)],
                received_at=NOON,
            )

    return add


@pytest.fixture
def make_rule(places: sessionmaker[Session]) -> Callable[..., int]:
    def make(kind: RuleKind, threshold: float, window_min: int = 15, **kwargs: Any) -> int:
        rule = Rule(0, kwargs.pop("location_id", "hel"), kind, threshold, window_min, **kwargs)
        with places.begin() as session:
            return add_rule(session, rule=rule, created_by="admin", now=NOON).id

    return make


@pytest.fixture
def engine_for(places: sessionmaker[Session], tmp_path: Path) -> Callable[..., AlertEngine]:
    def make(**settings: Any) -> AlertEngine:
        hub_settings = HubSettings(data_dir=tmp_path, **settings)
        return AlertEngine(places, hub_settings, lambda _topic, _payload: True)

    return make
