"""Publishes each kiosk's remote config, retained, so a kiosk gets it whenever it connects.

`seed-hub devices configure|move` only write the database; the serving hub publishes what
is new every `config_publish_s`, and everything again after each reconnect (a broker
without persistence forgets retained messages when it restarts).
"""

import logging
import threading
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.models import Device
from hub.periodic import PeriodicJob, always
from protocol.topics import Topics

log = logging.getLogger(__name__)

RetainedPublisher = Callable[[str, bytes], bool]
"""(topic, payload) -> True once the broker has it; an empty payload clears the topic."""


class ConfigPublisher:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        topics: Topics,
        publish: RetainedPublisher,
        *,
        interval_s: float,
        may_run: Callable[[], bool] = always,
    ) -> None:
        self._sessions = sessions
        self._topics = topics
        self._publish = publish
        self._interval_s = interval_s
        self._published: dict[str, int] = {}  # device id -> version; 0 = cleared (revoked)
        self._lock = threading.Lock()
        self._job = PeriodicJob("config-publisher", self.publish_due, interval_s, may_run=may_run)

    def start(self) -> None:
        self._job.start()

    def stop(self) -> None:
        self._job.stop()

    def forget(self) -> None:
        """After a reconnect: publish everything again."""
        with self._lock:
            self._published.clear()

    def publish_due(self) -> int:
        """Publish configs this process has not published yet; returns how many."""
        with self._sessions() as session:
            rows = session.execute(
                select(
                    Device.device_id,
                    Device.desired_config,
                    Device.desired_config_version,
                    Device.revoked_at,
                ).where(Device.desired_config_version.is_not(None))
            ).all()
        published = 0
        for device_id, document, version, revoked_at in rows:
            wanted = 0 if revoked_at is not None or document is None else version or 0
            with self._lock:
                if self._published.get(device_id) == wanted:
                    continue
            payload = document.encode() if wanted and document else b""
            if not self._publish(self._topics.config(device_id), payload):
                break  # not connected: try again at the next round
            with self._lock:
                self._published[device_id] = wanted
            published += 1
            if wanted:
                log.info("config v%d published to %s", wanted, device_id)
            else:
                log.info("config of revoked %s cleared", device_id)
        return published
