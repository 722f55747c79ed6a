"""The MQTT seam: the only module that imports paho-mqtt, for the kiosk and the hub alike.

Callers see plain callables (topic, payload); reconnecting with backoff, resubscribing,
TLS and credentials live here. `MqttLink` is the interface callers depend on and
`MqttLinkFactory` how they make one (`MqttConnection` is both), so tests can inject an
in-memory link instead of a broker. An exception raised by a caller's callback is reported
through `threading.excepthook` (so tests fail on it and production logs it) and the
network loop keeps running.
"""

import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from protocol.broker_url import BrokerAddress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    retained: bool = False
    """True when the broker replays a retained message on subscribe: old news, not live."""


MessageHandler = Callable[[Message], None]


def _nothing() -> None:
    """Default for the connection callbacks."""


@dataclass(frozen=True)
class Will:
    topic: str
    payload: bytes
    retain: bool = True


@dataclass(frozen=True)
class MqttOptions:
    address: BrokerAddress
    client_id: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    keepalive_s: int = 30
    reconnect_min_s: float = 1
    reconnect_max_s: float = 60
    clean_session: bool = True
    max_in_flight: int = 200
    will: Will | None = None
    subscriptions: tuple[str, ...] = field(default=())


def _log_in_as(client: paho.Client, options: MqttOptions) -> None:
    """Username and password, and TLS (with a client certificate if given)."""
    if options.username is not None:
        client.username_pw_set(options.username, options.password)
    if options.address.tls:
        client.tls_set(
            ca_certs=str(options.ca_file) if options.ca_file else None,
            certfile=str(options.cert_file) if options.cert_file else None,
            keyfile=str(options.key_file) if options.key_file else None,
        )


class MqttLink(Protocol):
    """A connection to a broker as callers use it: it subscribes to `MqttOptions.subscriptions`
    at each connect, then calls `on_connected`, `on_message` and `on_disconnected`."""

    @property
    def connected(self) -> bool: ...

    def wait_connected(self, timeout_s: float | None = None) -> bool: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def publish(
        self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False
    ) -> bool: ...

    def publish_and_wait(
        self, topic: str, payload: bytes, *, retain: bool = False, timeout_s: float = 5
    ) -> bool: ...


class MqttLinkFactory(Protocol):
    """Makes an `MqttLink`; `MqttConnection` itself is one."""

    def __call__(
        self,
        options: MqttOptions,
        *,
        on_message: MessageHandler,
        on_connected: Callable[[], None] = ...,
        on_disconnected: Callable[[], None] = ...,
    ) -> MqttLink: ...


class MqttConnection:
    def __init__(
        self,
        options: MqttOptions,
        *,
        on_message: MessageHandler,
        on_connected: Callable[[], None] = _nothing,
        on_disconnected: Callable[[], None] = _nothing,
    ) -> None:
        self._options = options
        self._on_message = on_message
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._connected = threading.Event()
        self._stopping = False
        self._client = self._build_client(options)

    def _build_client(self, options: MqttOptions) -> paho.Client:
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=options.client_id,
            clean_session=options.clean_session,
            protocol=paho.MQTTv311,
        )
        _log_in_as(client, options)
        if options.will is not None:
            client.will_set(
                options.will.topic, options.will.payload, qos=1, retain=options.will.retain
            )
        # paho doubles the delay from min to max; a delay below 1 s would round to 0 for good
        low = max(1, round(options.reconnect_min_s))
        client.reconnect_delay_set(low, max(low, round(options.reconnect_max_s)))
        client.max_inflight_messages_set(options.max_in_flight)
        client.on_connect = self._handle_connect
        client.on_disconnect = self._handle_disconnect
        client.on_message = self._handle_message
        return client

    @property
    def address(self) -> BrokerAddress:
        return self._options.address

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout_s: float | None = None) -> bool:
        return self._connected.wait(timeout_s)

    def start(self) -> None:
        """Connect in the background; keeps retrying while the broker is unreachable."""
        address = self._options.address
        log.info("connecting to %s as %s", address.url, self._options.client_id)
        self._client.connect_async(address.host, address.port, self._options.keepalive_s)
        self._client.loop_start()

    def stop(self) -> None:
        self._stopping = True
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> bool:
        """Queue a message for sending; False when not connected (nothing is queued then)."""
        if not self._connected.is_set():
            return False
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        return info.rc == paho.MQTT_ERR_SUCCESS

    def publish_and_wait(
        self, topic: str, payload: bytes, *, retain: bool = False, timeout_s: float = 5
    ) -> bool:
        """Publish at QoS 1 and wait for the broker's PUBACK."""
        if not self._connected.is_set():
            return False
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        try:
            info.wait_for_publish(timeout_s)
        except (ValueError, RuntimeError):
            return False
        return info.is_published()

    def _handle_connect(
        self, client: paho.Client, _userdata: Any, _flags: Any, reason_code: Any, _properties: Any
    ) -> None:
        if reason_code.is_failure:
            log.warning(
                "broker %s refused the connection: %s", self._options.address.url, reason_code
            )
            return
        # Subscribe before announcing the connection, so no reply can race past us.
        for topic in self._options.subscriptions:
            client.subscribe(topic, qos=1)
        self._connected.set()
        log.info("connected to %s", self._options.address.url)
        self._guarded(self._on_connected)

    def _handle_disconnect(
        self, _client: paho.Client, _userdata: Any, _flags: Any, reason_code: Any, _properties: Any
    ) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()
        if was_connected and not self._stopping:
            log.warning(
                "disconnected from %s (%s); reconnecting with backoff",
                self._options.address.url,
                reason_code,
            )
        self._guarded(self._on_disconnected)

    def _handle_message(
        self, _client: paho.Client, _userdata: Any, message: paho.MQTTMessage
    ) -> None:
        self._guarded(
            self._on_message, Message(message.topic, bytes(message.payload), message.retain)
        )

    @staticmethod
    def _guarded(callback: Callable[..., None], *args: Any) -> None:
        try:
            callback(*args)
        except Exception:
            exc_type, exc, tb = sys.exc_info()
            threading.excepthook(
                threading.ExceptHookArgs([exc_type, exc, tb, threading.current_thread()])
            )


@dataclass(frozen=True)
class AccessProbe:
    """What a broker let one set of credentials do (for `seed-kiosk selftest`)."""

    connected: bool
    reason: str
    """The broker's answer to the connect ("Success", "Not authorized") or the error."""
    foreign_publish_refused: bool | None = None
    """None when the broker did not answer the publish."""


@contextmanager
def _one_shot(options: MqttOptions, timeout_s: float) -> Iterator[tuple[paho.Client, str | None]]:
    """An MQTT 5 client for a single check (v5 brokers say why they refuse a publish),
    connected: yields it and None, or why it could not connect. Disconnects at the end."""
    client = paho.Client(
        CallbackAPIVersion.VERSION2, client_id=options.client_id, protocol=paho.MQTTv5
    )
    _log_in_as(client, options)
    try:
        yield client, _connect_once(client, options, timeout_s)
    finally:
        client.disconnect()
        client.loop_stop()


def _connect_once(client: paho.Client, options: MqttOptions, timeout_s: float) -> str | None:
    """Connect and wait for the broker's answer; None on success, else why not."""
    answered = threading.Event()
    outcome: list[str] = []

    def on_connect(*args: Any) -> None:
        reason_code = args[3]
        outcome.append("" if not reason_code.is_failure else str(reason_code))
        answered.set()

    def on_disconnect(*args: Any) -> None:
        outcome.append(f"disconnected: {args[3]}")
        answered.set()

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    try:
        client.connect(options.address.host, options.address.port, options.keepalive_s)
    except (OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    client.loop_start()
    if not answered.wait(timeout_s):
        return f"no answer within {timeout_s:.0f} s"
    return outcome[0] or None


def probe_access(options: MqttOptions, *, foreign_topic: str, timeout_s: float = 10) -> AccessProbe:
    """Connect with these credentials and try to publish where they must not."""
    with _one_shot(options, timeout_s) as (client, failure):
        if failure is not None:
            return AccessProbe(connected=False, reason=failure)
        answered = threading.Event()
        refused: list[bool] = []

        def on_publish(*args: Any) -> None:
            refused.append(bool(args[3].is_failure))
            answered.set()

        client.on_publish = on_publish
        client.publish(foreign_topic, b'{"probe":"seed-kiosk selftest"}', qos=1)
        return AccessProbe(
            connected=True,
            reason="Success",
            foreign_publish_refused=refused[0] if answered.wait(timeout_s) else None,
        )


def request_reply(
    options: MqttOptions, *, topic: str, payload: bytes, reply_topic: str, timeout_s: float = 10
) -> bytes | None:
    """Subscribe to `reply_topic`, publish once, and return the first reply (None: none)."""
    replies: list[bytes] = []
    answered = threading.Event()

    def on_message(*args: Any) -> None:
        if not args[2].retain:
            replies.append(bytes(args[2].payload))
            answered.set()

    with _one_shot(options, timeout_s) as (client, failure):
        if failure is not None:
            return None
        client.on_message = on_message
        client.subscribe(reply_topic, qos=1)
        client.publish(topic, payload, qos=1)
        return replies[0] if answered.wait(timeout_s) else None


def take_over_session(options: MqttOptions, *, timeout_s: float = 10) -> bool:
    """Connect with another client's id, so the broker drops that client, then leave.

    Used on revocation: a broker re-reads its CRL for new connections only, so a revoked
    kiosk still connected by certificate is put out this way.
    """
    with _one_shot(options, timeout_s) as (_client, failure):
        return failure is None
