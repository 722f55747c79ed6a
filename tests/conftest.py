"""Shared fixtures: real brokers, real databases, and no silent errors in threads."""

import os
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from edge.app import Kiosk
from edge.config import KioskConfig
from edge.panel import mock_pin_factory
from hub.app import Hub
from hub.config import HubSettings, MqttSettings
from hub.db import make_engine, migrate, session_factory
from hub.ingest.broker import EmbeddedBroker
from lab.mosquitto import MosquittoProcess, mosquitto_binary
from lab.scratch_postgres import SCRATCH_POSTGRES_URL, scratch_postgres_database
from protocol.errors import StoreError
from tests.helpers import service_missing

POSTGRES_URL = os.environ.get("SEED_TEST_POSTGRES_URL", SCRATCH_POSTGRES_URL)


pytest_plugins = ["tests.camera_fixtures"]


@pytest.fixture(autouse=True)
def thread_errors(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """An exception in any background thread (MQTT, GPIO, workers) fails the test."""
    errors: list[Any] = []
    monkeypatch.setattr(threading, "excepthook", errors.append)
    yield errors
    if errors:
        details = "\n".join(
            "".join(traceback.format_exception(e.exc_type, e.exc_value, e.exc_traceback))
            for e in errors
        )
        pytest.fail(f"{len(errors)} exception(s) in background threads:\n{details}")


@pytest.fixture
def mosquitto() -> Iterator[MosquittoProcess]:
    if mosquitto_binary() is None:
        service_missing("mosquitto binary not found (apt-get install mosquitto)")
    with MosquittoProcess() as broker:
        yield broker


@pytest.fixture
def embedded_broker() -> Iterator[str]:
    broker = EmbeddedBroker(preferred_port=0)
    address = broker.start()
    yield address.url
    broker.stop()


@pytest.fixture(params=["mosquitto", "embedded"])
def broker_url(request: pytest.FixtureRequest) -> str:
    """The URL of a running broker: a private Mosquitto, then the hub's embedded one."""
    if request.param == "mosquitto":
        broker: MosquittoProcess = request.getfixturevalue("mosquitto")
        return broker.url
    url: str = request.getfixturevalue("embedded_broker")
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    try:
        with scratch_postgres_database(POSTGRES_URL, prefix="seed_test") as url:
            yield url
    except StoreError as exc:
        service_missing(str(exc))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: SQLite in WAL mode, then PostgreSQL."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def start_hub(tmp_path: Path) -> Iterator[Callable[..., Hub]]:
    """start_hub(broker_url, db=..., client_id=..., **groups) -> a running Hub, stopped afterwards.

    `groups` are settings groups by name: `ingest=IngestSettings(min_press_interval_s=0)`.
    """
    hubs: list[Hub] = []

    def start(
        broker: str, db: str | None = None, client_id: str | None = None, **groups: Any
    ) -> Hub:
        mqtt = MqttSettings(broker=broker, client_id=client_id or f"test-hub-{len(hubs)}")
        hub = Hub(
            HubSettings(
                db=db or f"sqlite:///{tmp_path / 'hub.sqlite3'}",
                data_dir=tmp_path,
                mqtt=mqtt,
                **groups,
            )
        )
        hub.start()
        hubs.append(hub)
        return hub

    yield start
    for hub in hubs:
        hub.stop()


@pytest.fixture
def start_kiosk(tmp_path: Path) -> Iterator[Callable[..., Kiosk]]:
    """start_kiosk(device_id, location_id, broker_url, **config) -> a running Kiosk on mock pins."""
    kiosks: list[Kiosk] = []

    def start(device_id: str, location_id: str, broker: str, **config: Any) -> Kiosk:
        mqtt = {
            "url": broker,
            "reconnect_min_s": 1,
            "reconnect_max_s": 2,
            "max_send_per_s": 10_000,
            **config.pop("mqtt", {}),
        }
        kiosk_config = KioskConfig.model_validate(
            {
                "device_id": device_id,
                "location_id": location_id,
                "data_dir": tmp_path / device_id,
                "mqtt": mqtt,
                **config,
            }
        )
        kiosk = Kiosk(kiosk_config, pin_factory=mock_pin_factory())
        kiosk.start()
        kiosks.append(kiosk)
        return kiosk

    yield start
    for kiosk in kiosks:
        kiosk.stop()
