"""Publishes each kiosk's remote config, retained, so a kiosk gets it whenever it connects.

`seed-hub devices configure|move` only write the database; the serving hub publishes what
is new every `config_publish_s`, and everything again after each reconnect (a broker
without persistence forgets retained messages when it restarts).
"""

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.models import Device
from hub.periodic import PeriodicJob, always
from protocol.errors import ConfigError
from protocol.messages import RemoteConfig, decode_remote_config, encode
from protocol.topics import Topics
from protocol.validation import summarise

log = logging.getLogger(__name__)

RetainedPublisher = Callable[[str, bytes], bool]
"""(topic, payload) -> True once the broker has it; an empty payload clears the topic."""


def current_settings(device: Device) -> dict[str, Any]:
    """The settings of the device's latest remote config (none before the first)."""
    if not device.desired_config:
        return {}
    return decode_remote_config(device.desired_config.encode()).settings()


def write_config(
    device: Device, settings: dict[str, Any], *, now: datetime, max_bytes: int
) -> RemoteConfig:
    """Make `settings` the device's remote config under its next version. A config must fit
    the broker's packet limit (SEED_HUB_MAX_PAYLOAD_BYTES and its headroom: the hub sends it
    over the broker's loopback listener, which enforces the same `max_packet_size`), so one
    too big is refused here, not lost at the broker."""
    try:
        config = RemoteConfig.model_validate(
            {
                **settings,
                "device_id": device.device_id,
                "version": (device.desired_config_version or 0) + 1,
                "issued_at": now,
            }
        )
    except ValidationError as exc:
        raise ConfigError(f"config for {device.device_id} refused: {summarise(exc)}") from exc
    payload = encode(config)
    if len(payload) > max_bytes:
        raise ConfigError(
            f"the config of {device.device_id} would be {len(payload)} bytes, more than the "
            f"{max_bytes} the broker passes (SEED_HUB_MAX_PAYLOAD_BYTES): shorten the survey's "
            "texts, give its location fewer languages, or raise that limit (then run "
            "`seed-hub fleet init` again for the broker's max_packet_size)"
        )
    device.desired_config = payload.decode()
    device.desired_config_version = config.version
    return config


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
