"""A kiosk turned hostile: it registers with a valid status, then sends a poison status
every second, retained as statuses are (so the broker replays the last one to a hub that
reconnects), going round the list below.

The poisons, worst first: a NUL in `config_error` and `camera_fault` (PostgreSQL refuses
it), `passersby_total` 2,147,483,647 then 1 (2^31 - 1 more passers-by in one hour); then
control characters and lone surrogates in every text field, the largest integers in every
counter, an infinite uptime, the last representable time, and a status that claims to be
another kiosk's. One at a time: statuses in one batch overwrite each other, so a volley
would hide all but its last.
"""

import itertools
import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from protocol.broker_url import BrokerAddress
from protocol.messages import INT32_MAX, INT64_MAX, DeviceState, DeviceStatus, encode
from protocol.mqtt import Message, MqttConnection, MqttOptions
from protocol.topics import Topics

log = logging.getLogger(__name__)

TEXT_FIELDS = ("config_error", "camera_fault", "version", "location_id")
NUL_TEXT = "nul\x00here"
BAD_TEXTS = (NUL_TEXT, "bell\x07\r\nforged: log line", "\x1b[2J", "lone \ud800 surrogate")
COUNTERS = ("outbox_depth", "outbox_capacity", "outbox_dropped", "config_version")
BIG_INTEGERS = (INT32_MAX, INT32_MAX + 1, INT64_MAX, 2**64)


def poisons(victim_device_id: str) -> Iterator[dict[str, Any]]:
    """Each poison: the fields that replace a valid heartbeat's, worst first."""
    worst: list[dict[str, Any]] = [{"config_error": NUL_TEXT}, {"camera_fault": NUL_TEXT}]
    yield from [*worst, {"passersby_total": INT32_MAX}, {"passersby_total": 1}]
    for bad, field in itertools.product(BAD_TEXTS, TEXT_FIELDS):
        if {field: bad} not in worst:
            yield {field: bad}
    for big, field in itertools.product(BIG_INTEGERS, COUNTERS):
        yield {field: big}
    yield {"passersby_total": INT64_MAX}
    yield {"uptime_s": float("inf")}
    yield {"sent_at": "9999-12-31T23:59:59.999999+00:00"}
    yield {"device_id": victim_device_id}


def _ignore(_message: Message) -> None:
    """The poison kiosk only publishes."""


class PoisonKiosk:
    """`start()` connects and registers it, then poisons until `stop()`."""

    def __init__(
        self,
        address: BrokerAddress,
        *,
        device_id: str,
        location_id: str,
        victim_device_id: str,
        every_s: float = 1.0,
    ) -> None:
        self.device_id = device_id
        self._location_id = location_id
        self._victim = victim_device_id
        self._every_s = every_s
        self._topic = Topics().status(device_id)
        self._connection = MqttConnection(
            MqttOptions(address=address, client_id=device_id, reconnect_max_s=2),
            on_message=_ignore,
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="poison-kiosk", daemon=True)
        self.sent = 0

    def start(self) -> None:
        self._connection.start()
        self._thread.start()

    def stop(self) -> None:
        if self._thread.ident is None:
            return  # never started
        self._stop.set()
        self._thread.join()
        self._connection.stop()

    def _heartbeat(self) -> DeviceStatus:
        return DeviceStatus(
            device_id=self.device_id,
            state=DeviceState.ONLINE,
            sent_at=datetime.now(UTC),
            location_id=self._location_id,
            camera="fault",
        )

    def _run(self) -> None:
        while not self._stop.is_set() and not self._register():
            self._stop.wait(self._every_s)
        for poison in itertools.cycle(list(poisons(self._victim))):
            if self._stop.is_set():
                return
            fields = {**self._heartbeat().model_dump(mode="json"), **poison}
            if self._connection.publish(self._topic, json.dumps(fields).encode(), retain=True):
                self.sent += 1
            self._stop.wait(self._every_s)

    def _register(self) -> bool:
        """A valid status first, so that the hub knows this kiosk as it knows the others."""
        return self._connection.wait_connected(self._every_s) and (
            self._connection.publish_and_wait(self._topic, encode(self._heartbeat()), retain=True)
        )
