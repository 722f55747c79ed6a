"""A site -> area -> two touchpoints in Helsinki, helpers to press and to make rules, and a
real SMTP server (aiosmtpd)."""

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session, sessionmaker

from hub.alerts.engine import AlertEngine
from hub.alerts.records import add_rule
from hub.alerts.rules import Rule, RuleKind
from hub.config import HubSettings
from hub.ingest import store
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
    def make(**groups: Any) -> AlertEngine:
        """`groups`: settings groups by name, `alerts=AlertSettings(mqtt=False)`."""
        hub_settings = HubSettings(data_dir=tmp_path, **groups)
        return AlertEngine(places, hub_settings, lambda _topic, _payload: True)

    return make


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope.content)
        return "250 OK"


@contextmanager
def smtp_inbox() -> Iterator[tuple[int, Inbox]]:
    """An SMTP server on a free local port: (port, what it received)."""
    inbox = Inbox()
    with socket.socket() as probe:  # aiosmtpd cannot be given port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()
