"""An in-memory `MqttLink` for unit tests, after Home Assistant's MQTT test helpers.

No broker and no network thread: `start()` connects at once (unless `auto_connect` is
off), callbacks run on the calling thread, publishes are recorded in `published`, and
`fire_message` delivers a message as the broker would to this link's subscriptions.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from protocol.mqtt import Message, MessageHandler, MqttOptions


@dataclass(frozen=True)
class Published:
    topic: str
    payload: bytes
    qos: int
    retain: bool


def topic_matches(pattern: str, topic: str) -> bool:
    """MQTT filter matching: `+` one level, `#` the rest; `$share/<group>/` is dropped."""
    if pattern.startswith("$share/"):
        pattern = pattern.split("/", 2)[2]
    wanted, levels = pattern.split("/"), topic.split("/")
    for i, part in enumerate(wanted):
        if part == "#":
            return True
        if i >= len(levels) or (part != "+" and part != levels[i]):
            return False
    return len(wanted) == len(levels)


def _nothing() -> None:
    """Default for the connection callbacks."""


class FakeMqtt:
    def __init__(
        self,
        options: MqttOptions,
        *,
        on_message: MessageHandler,
        on_connected: Callable[[], None] = _nothing,
        on_disconnected: Callable[[], None] = _nothing,
        auto_connect: bool = True,
    ) -> None:
        self.options = options
        self._on_message = on_message
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self.auto_connect = auto_connect
        self.published: list[Published] = []
        self.started = False
        self.stopped = False
        self._connected = False

    # the MqttLink interface

    @property
    def connected(self) -> bool:
        return self._connected

    def wait_connected(self, timeout_s: float | None = None) -> bool:
        return self._connected

    def start(self) -> None:
        self.started = True
        if self.auto_connect:
            self.connect()

    def stop(self) -> None:
        self.stopped = True
        self._connected = False

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> bool:
        if not self._connected:
            return False
        self.published.append(Published(topic, payload, qos, retain))
        return True

    def publish_and_wait(
        self, topic: str, payload: bytes, *, retain: bool = False, timeout_s: float = 5
    ) -> bool:
        return self.publish(topic, payload, qos=1, retain=retain)

    # what the broker does

    def connect(self) -> None:
        self._connected = True
        self._on_connected()

    def disconnect(self) -> None:
        self._connected = False
        self._on_disconnected()

    def fire_message(self, topic: str, payload: bytes, *, retained: bool = False) -> bool:
        """Deliver a message if this link subscribes to its topic; True if it did."""
        if not any(topic_matches(p, topic) for p in self.options.subscriptions):
            return False
        self._on_message(Message(topic, payload, retained))
        return True

    def published_to(self, topic: str) -> list[bytes]:
        return [p.payload for p in self.published if p.topic == topic]

    def clear(self) -> None:
        self.published.clear()


@dataclass
class FakeMqttFactory:
    """An `MqttLinkFactory` that keeps the links it made."""

    auto_connect: bool = True
    links: list[FakeMqtt] = field(default_factory=list)

    def __call__(
        self,
        options: MqttOptions,
        *,
        on_message: MessageHandler,
        on_connected: Callable[[], None] = _nothing,
        on_disconnected: Callable[[], None] = _nothing,
    ) -> FakeMqtt:
        link = FakeMqtt(
            options,
            on_message=on_message,
            on_connected=on_connected,
            on_disconnected=on_disconnected,
            auto_connect=self.auto_connect,
        )
        self.links.append(link)
        return link

    @property
    def link(self) -> FakeMqtt:
        """The one link made (most tests make exactly one)."""
        assert len(self.links) == 1, f"{len(self.links)} links made"
        return self.links[0]
