"""Drains the outbox to the hub in its order and removes what the hub acknowledges.

Presses and follow-ups go alike, on the device's events topic, and leave the outbox by the
id the hub's ack names (a press's event id, a follow-up's followup id).
Up to `max_in_flight` events are unacknowledged at once. On reconnect, or when the hub
leaves an event unacknowledged for `ack_timeout_s`, sending restarts from the oldest row
still in the outbox: the hub stores each event id once, so resending is always safe.
"""

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from edge import __version__
from edge.config import MqttConfig
from edge.outbox import Outbox
from protocol.broker_url import parse_broker_url
from protocol.errors import ProtocolError
from protocol.messages import DeviceState, DeviceStatus, decode_ack, encode, with_sent_at
from protocol.mqtt import Message, MqttConnection, MqttLinkFactory, MqttOptions, Will
from protocol.topics import Topics

log = logging.getLogger(__name__)

OUTBOX_WARNING_SHARE = 0.8
IDLE_WAIT_S = 1.0
ACK_BACKOFF_MAX = 8  # a silent hub is retried at most every 8 ack timeouts
CLOCK_WAIT_S = 5.0  # after connecting, how long events wait for the hub's clock
MIN_THROTTLE_WAIT_S = 0.005


def kiosk_mqtt_options(
    config: MqttConfig,
    *,
    client_id: str,
    will: Will | None = None,
    subscriptions: tuple[str, ...] = (),
) -> MqttOptions:
    """The kiosk's own broker login, as its config gives it."""
    return MqttOptions(
        address=parse_broker_url(config.url),
        client_id=client_id,
        username=config.username,
        password=config.password.get_secret_value() if config.password else None,
        ca_file=config.ca_file,
        cert_file=config.cert_file,
        key_file=config.key_file,
        keepalive_s=config.keepalive_s,
        reconnect_min_s=config.reconnect_min_s,
        reconnect_max_s=config.reconnect_max_s,
        max_in_flight=config.max_in_flight,
        will=will,
        subscriptions=subscriptions,
    )


class TokenBucket:
    """At most `rate_per_s` on average, in bursts of at most `burst` (thread-confined)."""

    def __init__(
        self, rate_per_s: float, *, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate_per_s
        self._burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._at = clock()

    def available(self) -> int:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        return int(self._tokens)

    def take(self, n: int) -> None:
        self._tokens -= n

    def wait_s(self) -> float:
        """Seconds until one more token is due (0 if one is there)."""
        return max(0.0, (1 - self._tokens) / self._rate)


class Uplink:
    def __init__(
        self,
        config: MqttConfig,
        *,
        device_id: str,
        location_id: str,
        outbox: Outbox,
        heartbeat_s: float,
        link: MqttLinkFactory = MqttConnection,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`link` makes the broker connection and `clock` is the monotonic time source of
        the ack timeouts, the clock wait, the heartbeat and the send rate (tests fake both)."""
        self._config = config
        self._clock = clock
        self._device_id = device_id
        self._location_id = location_id
        self._outbox = outbox
        self._heartbeat_s = heartbeat_s
        self._topics = Topics(config.topic_prefix)
        self._started = clock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._in_flight: dict[str, float] = {}  # message id -> monotonic time sent
        self._cursor = 0  # highest outbox position published since the last restart of sending
        self._round = 0  # bumped at each restart of sending, so a stale loop stops
        self._next_heartbeat = 0.0
        self._clock_offset_s: float | None = None  # hub minus kiosk, from the latest ack
        self._ack_timeout_s = config.ack_timeout_s
        self._connected_at = 0.0
        self._config_version: int | None = None
        self._config_error: str | None = None
        self._on_config: Callable[[bytes], None] = lambda _payload: None
        self._configs: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self._status_extras: Callable[[], dict[str, Any]] = dict
        self._connection = link(
            kiosk_mqtt_options(
                config,
                client_id=f"kiosk-{device_id}",
                will=Will(
                    self._topics.status(device_id), encode(self._status(DeviceState.OFFLINE))
                ),
                subscriptions=(self._topics.ack(device_id), self._topics.config(device_id)),
            ),
            on_message=self._route,
            on_connected=self._handle_connected,
        )
        self._rate = TokenBucket(config.max_send_per_s, burst=config.max_in_flight, clock=clock)
        self._thread = threading.Thread(target=self._run, name="uplink", daemon=True)

    @property
    def connected(self) -> bool:
        return self._connection.connected

    def start(self) -> None:
        self._connection.start()
        self._thread.start()

    def on_config(self, handler: Callable[[bytes], None]) -> None:
        """`handler` gets each remote config the hub publishes (retained: also at connect)."""
        self._on_config = handler

    def add_to_status(self, fields: Callable[[], dict[str, Any]]) -> None:
        """`fields()` is merged into every live status (the camera's health, say)."""
        self._status_extras = fields

    def retune(self, *, location_id: str, heartbeat_s: float) -> None:
        self._location_id = location_id
        self._heartbeat_s = heartbeat_s

    def report_config(self, version: int | None, error: str | None) -> None:
        """Put the applied config version and the latest refusal in the next status, now."""
        self._config_version, self._config_error = version, error
        self._next_heartbeat = 0.0
        self._wake.set()

    def wake(self, *_: object) -> None:
        """Tell the sender that the outbox has a new row."""
        self._wake.set()

    def drain(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for the hub to acknowledge everything; True if it did."""
        deadline = time.monotonic() + timeout_s  # real time: this waits
        while self._outbox.depth() and time.monotonic() < deadline:
            if not self._connection.connected:
                return False
            self._wake.set()
            time.sleep(0.05)
        return self._outbox.depth() == 0

    def stop(self) -> None:
        """Announce `offline` (a clean disconnect sends no last-will) and disconnect."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()
        self._connection.publish_and_wait(
            self._topics.status(self._device_id),
            encode(self._status(DeviceState.OFFLINE)),
            retain=True,
            timeout_s=2,
        )
        self._connection.stop()

    def _status(self, state: DeviceState) -> DeviceStatus:
        online = state is DeviceState.ONLINE
        return DeviceStatus(
            device_id=self._device_id,
            state=state,
            sent_at=datetime.now(UTC),
            location_id=self._location_id,
            version=__version__,
            uptime_s=round(self._clock() - self._started, 1) if online else None,
            outbox_depth=self._outbox.depth() if online else None,
            outbox_capacity=self._outbox.capacity if online else None,
            outbox_dropped=self._outbox.dropped() if online else None,
            config_version=self._config_version,
            config_error=self._config_error if online else None,
            **(self._status_extras() if online else {}),
        )

    def _handle_connected(self) -> None:
        self._connected_at = self._clock()
        with self._lock:
            self._restart_sending()
        self._next_heartbeat = 0.0
        self._wake.set()

    def _route(self, message: Message) -> None:
        if message.topic == self._topics.config(self._device_id):
            if message.payload:  # an empty retained message is the hub clearing the topic
                # applied on the sender's thread: saving it (an fsync) must not hold up
                # the network loop
                self._configs.put(message.payload)
                self._wake.set()
        else:
            self._handle_ack(message)

    def _handle_ack(self, message: Message) -> None:
        try:
            ack = decode_ack(message.payload)
        except ProtocolError as exc:
            log.error("ignored an unreadable ack on %s: %s", message.topic, exc)
            return
        for rejection in ack.rejected:
            log.error(
                "hub refused event %s for good: %s (kept in its dead letters)",
                rejection.event_id,
                rejection.reason,
            )
        if ack.hub_time is not None:
            # fresh: acks are not queued for a kiosk (clean session), so the error is the
            # one-way delivery time, well below any skew worth correcting
            self._clock_offset_s = (ack.hub_time - datetime.now(UTC)).total_seconds()
        self._ack_timeout_s = self._config.ack_timeout_s  # the hub is answering again
        done = ack.stored + [r.event_id for r in ack.rejected]
        self._outbox.remove(done)
        with self._lock:
            for event_id in done:
                self._in_flight.pop(event_id, None)
        self._wake.set()

    def _run(self) -> None:
        idle_s = IDLE_WAIT_S
        while not self._stopping.is_set():
            self._wake.wait(timeout=idle_s)
            self._wake.clear()
            idle_s = self._tick()

    def _tick(self) -> float:
        """One round of the sender; returns how long to wait for the next one at most."""
        self._apply_configs()
        if not self._connection.connected:
            return IDLE_WAIT_S
        self._maybe_heartbeat()
        self._resend_if_ack_overdue()
        if self._send_pending() == "throttled":
            return max(MIN_THROTTLE_WAIT_S, self._rate.wait_s())
        return IDLE_WAIT_S

    def _apply_configs(self) -> None:
        while not self._configs.empty():
            try:
                self._on_config(self._configs.get_nowait())
            except Exception:  # the sender must outlive any config
                log.exception("applying a remote config failed; the kiosk keeps its last one")

    def _maybe_heartbeat(self) -> None:
        now = self._clock()
        if now >= self._next_heartbeat:
            self._next_heartbeat = now + self._heartbeat_s
            status = self._status(DeviceState.ONLINE)
            if (status.outbox_depth or 0) >= OUTBOX_WARNING_SHARE * self._outbox.capacity:
                log.warning(
                    "outbox %d of %d rows full; the oldest go first when it is full",
                    status.outbox_depth,
                    self._outbox.capacity,
                )
            self._connection.publish(
                self._topics.status(self._device_id), encode(status), retain=True
            )

    def _resend_if_ack_overdue(self) -> None:
        """Resend after the ack timeout, backing off while the hub stays silent."""
        deadline = self._clock() - self._ack_timeout_s
        with self._lock:
            if any(sent < deadline for sent in self._in_flight.values()):
                log.warning(
                    "hub left %d events unacknowledged for %.0f s; resending",
                    len(self._in_flight),
                    self._ack_timeout_s,
                )
                self._restart_sending()
                self._ack_timeout_s = min(
                    self._ack_timeout_s * 2, self._config.ack_timeout_s * ACK_BACKOFF_MAX
                )

    def _restart_sending(self) -> None:
        self._in_flight.clear()
        self._cursor = 0
        self._round += 1

    def _send_pending(self) -> Literal["sent", "throttled", "idle"]:
        """Send what the in-flight window and the rate allow."""
        awaiting_clock = self._clock() - self._connected_at < CLOCK_WAIT_S
        if self._clock_offset_s is None and awaiting_clock:
            return "idle"  # the hub's answer to our status will tell us our clock's offset
        with self._lock:
            window = self._config.max_in_flight - len(self._in_flight)
            cursor, sending_round = self._cursor, self._round
        room = min(window, self._rate.available())
        if room <= 0:
            return "throttled" if window > 0 else "idle"  # a full window waits for acks
        rows = self._outbox.pending(after_position=cursor, limit=room)
        self._rate.take(len(rows))
        topic = self._topics.events(self._device_id)
        for row in rows:
            with self._lock:
                if self._round != sending_round:
                    return "idle"
                # in flight before it is sent, so an ack racing back finds it
                self._in_flight[row.message_id] = self._clock()
                self._cursor = row.position
            payload = with_sent_at(row.payload, clock_offset_s=self._clock_offset_s)
            if not self._connection.publish(topic, payload, qos=1):
                with self._lock:
                    self._restart_sending()
                return "idle"
        if len(rows) == room:
            self._wake.set()
        return "sent" if rows else "idle"
