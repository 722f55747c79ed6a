"""MQTT topic layout: one subtree per device so that one ACL pattern fits every kiosk.

<prefix>/devices/<device_id>/events   kiosk -> hub, QoS 1
<prefix>/devices/<device_id>/status   kiosk -> hub, retained; last-will "offline"
<prefix>/devices/<device_id>/ack      hub -> kiosk, QoS 1
<prefix>/devices/<device_id>/config   hub -> kiosk, retained
<prefix>/alerts/<location_id>         hub -> anyone listening, QoS 1
"""

from dataclasses import dataclass
from typing import Literal

from protocol.messages import DEVICE_ID_PATTERN

TopicKind = Literal["events", "status", "ack", "config"]
TOPIC_KINDS: tuple[TopicKind, ...] = ("events", "status", "ack", "config")


@dataclass(frozen=True)
class Topics:
    prefix: str = "seed"

    def __post_init__(self) -> None:
        if not self.prefix or any(c in self.prefix for c in "+#") or self.prefix.endswith("/"):
            raise ValueError(f"invalid MQTT topic prefix {self.prefix!r}")

    def device(self, device_id: str, kind: TopicKind) -> str:
        return f"{self.prefix}/devices/{device_id}/{kind}"

    def events(self, device_id: str) -> str:
        return self.device(device_id, "events")

    def status(self, device_id: str) -> str:
        return self.device(device_id, "status")

    def ack(self, device_id: str) -> str:
        return self.device(device_id, "ack")

    def config(self, device_id: str) -> str:
        return self.device(device_id, "config")

    def alerts(self, location_id: str) -> str:
        return f"{self.prefix}/alerts/{location_id}"

    def every_device(self, kind: TopicKind) -> str:
        """The wildcard subscription for one kind of topic across all devices."""
        return f"{self.prefix}/devices/+/{kind}"

    def parse(self, topic: str) -> tuple[str, TopicKind] | None:
        """(device_id, kind) for a topic of this layout, else None."""
        head = f"{self.prefix}/devices/"
        if not topic.startswith(head):
            return None
        parts = topic[len(head) :].split("/")
        if len(parts) != 2 or not DEVICE_ID_PATTERN.fullmatch(parts[0]):
            return None
        device_id, kind = parts
        for known in TOPIC_KINDS:
            if kind == known:
                return device_id, known
        return None
