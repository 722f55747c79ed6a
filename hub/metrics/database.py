"""Figures read from the database at scrape time: the fleet's health, alert deliveries and
task notifications waiting or given up. Read at most once per `CACHE_S`, however many
scrapers ask; the device ids are the fleet's own, a bounded set, so they may be labels."""

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, load_only, sessionmaker

from hub.clock import Clock, utc_now
from hub.models import AlertDelivery, Device, TaskNotification
from hub.reporting.analytics import is_online

log = logging.getLogger(__name__)

CACHE_S = 5.0
QUEUE_STATES = ("pending", "failed")
"""The states of a delivery or notification worth watching (delivered ones only grow)."""


@dataclass(frozen=True)
class _Kiosk:
    device_id: str
    online: bool
    outbox_events: int | None
    clock_offset_s: float | None
    last_seen_age_s: float | None


def _families() -> dict[str, GaugeMetricFamily]:
    return {
        "up": GaugeMetricFamily(
            "seed_hub_database_up", "1 if the last read of the database for metrics worked."
        ),
        "devices": GaugeMetricFamily(
            "seed_hub_devices",
            "Kiosks online (heard from within 3 minutes) and offline; revoked ones left out.",
            labels=["state"],
        ),
        "outbox": GaugeMetricFamily(
            "seed_hub_device_outbox_events",
            "Events waiting in a kiosk's outbox, at its last heartbeat.",
            labels=["device"],
        ),
        "offset": GaugeMetricFamily(
            "seed_hub_device_clock_offset_seconds",
            "Hub time minus the kiosk's clock, at its last heartbeat.",
            labels=["device"],
        ),
        "age": GaugeMetricFamily(
            "seed_hub_device_last_seen_age_seconds",
            "Seconds since the hub last heard from a kiosk (a press or a heartbeat).",
            labels=["device"],
        ),
        "deliveries": GaugeMetricFamily(
            "seed_hub_alert_deliveries",
            "Alert deliveries waiting to be tried again (pending) or given up (failed).",
            labels=["state"],
        ),
        "notifications": GaugeMetricFamily(
            "seed_hub_task_notifications",
            "Task notifications to staff waiting (pending) or given up (failed).",
            labels=["state"],
        ),
    }


class DatabaseCollector(Collector):
    def __init__(
        self, sessions: sessionmaker[Session], *, clock: Clock = utc_now, cache_s: float = CACHE_S
    ) -> None:
        """`clock` is the hub's "now", for the last-seen ages."""
        self._sessions = sessions
        self._clock = clock
        self._cache_s = cache_s
        self._lock = threading.Lock()
        self._read_at = -float("inf")
        self._cached: list[Metric] = []

    def describe(self) -> Iterable[Metric]:
        """The names, without touching the database (it may not be migrated yet)."""
        return list(_families().values())

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            if time.monotonic() - self._read_at >= self._cache_s:
                self._cached = self._read()
                self._read_at = time.monotonic()
            return self._cached

    def _read(self) -> list[Metric]:
        families = _families()
        try:
            with self._sessions() as session:
                kiosks = self._kiosks(session)
                deliveries = _by_state(session, AlertDelivery)
                notifications = _by_state(session, TaskNotification)
        except SQLAlchemyError as exc:
            log.warning("metrics could not read the database: %s", exc)
            families["up"].add_metric([], 0)
            return [families["up"]]
        families["up"].add_metric([], 1)
        _add_kiosks(families, kiosks)
        for state in QUEUE_STATES:
            families["deliveries"].add_metric([state], deliveries.get(state, 0))
            families["notifications"].add_metric([state], notifications.get(state, 0))
        return list(families.values())

    def _kiosks(self, session: Session) -> list[_Kiosk]:
        now = self._clock()
        needed = (
            Device.state,
            Device.last_seen_at,
            Device.last_status_at,
            Device.outbox_depth,
            Device.clock_offset_s,
        )
        devices = session.scalars(
            select(Device)
            .options(load_only(*needed))
            .where(Device.revoked_at.is_(None))
            .order_by(Device.device_id)
        )
        kiosks = []
        for device in devices:
            heard = max(filter(None, (device.last_seen_at, device.last_status_at)), default=None)
            kiosks.append(
                _Kiosk(
                    device.device_id,
                    is_online(device, now),
                    device.outbox_depth,
                    device.clock_offset_s,
                    None if heard is None else (now - heard).total_seconds(),
                )
            )
        return kiosks


def _by_state(session: Session, model: type[AlertDelivery | TaskNotification]) -> dict[str, int]:
    rows = session.execute(
        select(model.state, func.count()).where(model.state.in_(QUEUE_STATES)).group_by(model.state)
    )
    return {state: count for state, count in rows}


def _add_kiosks(families: dict[str, GaugeMetricFamily], kiosks: Sequence[_Kiosk]) -> None:
    online = sum(kiosk.online for kiosk in kiosks)
    families["devices"].add_metric(["online"], online)
    families["devices"].add_metric(["offline"], len(kiosks) - online)
    for kiosk in kiosks:
        for name, value in (
            ("outbox", kiosk.outbox_events),
            ("offset", kiosk.clock_offset_s),
            ("age", kiosk.last_seen_age_s),
        ):
            if value is not None:
                families[name].add_metric([kiosk.device_id], value)
