"""What Home Assistant is told, by its MQTT discovery conventions. Pure functions.

One HA device per location (its Happy Index and % positive today, its responses in the last
hour) and one per kiosk, linked to its location's (online, outbox depth). Each entity's config
is retained at `<discovery_prefix>/<component>/<node_id>/<object_id>/config`; each device's
state is one retained JSON document that the entities read with a `value_template`; every
entity is available while the hub is (its availability topic, "online" or "offline").
A JSON null renders as "None", which Home Assistant shows as unknown.
"""

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from hub import __version__
from hub.config import HubSettings

Component = Literal["sensor", "binary_sensor"]
Payload = dict[str, Any]

AVAILABLE = b"online"
NOT_AVAILABLE = b"offline"
MANUFACTURER = "Seed"
ORIGIN: Payload = {"name": "seed-hub", "sw_version": __version__}


def topic_id(text: str) -> str:
    """`text` in the characters HA allows in a node or object id ([a-zA-Z0-9_-]): any other is
    written `_<hex code>_` (`gate.1` -> `gate_2E_1`). One to one for ids, which are lowercase."""
    return re.sub(r"[^A-Za-z0-9_-]", lambda found: f"_{ord(found[0]):02X}_", text)


def encode(document: Payload) -> bytes:
    """Compact, keys sorted: an unchanged document is the same bytes."""
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True)
class HaTopics:
    discovery_prefix: str = "homeassistant"
    state_prefix: str = "seed/ha"
    node_id: str = "seed"
    """Sets this fleet's configs apart from any other's under the same discovery prefix."""

    @classmethod
    def of(cls, settings: HubSettings) -> "HaTopics":
        prefix = settings.mqtt.topic_prefix
        ha = settings.homeassistant
        return cls(ha.discovery_prefix, ha.state_prefix or f"{prefix}/ha", topic_id(prefix))

    @property
    def availability(self) -> str:
        return f"{self.state_prefix}/availability"

    def config(self, component: Component, object_id: str) -> str:
        return f"{self.discovery_prefix}/{component}/{self.node_id}/{object_id}/config"

    def location_state(self, location_id: str) -> str:
        return f"{self.state_prefix}/locations/{location_id}/state"

    def kiosk_state(self, device_id: str) -> str:
        return f"{self.state_prefix}/kiosks/{device_id}/state"

    @property
    def announced(self) -> str:
        """The subscription that replays every config this fleet has announced."""
        return f"{self.discovery_prefix}/+/{self.node_id}/+/config"

    @property
    def states(self) -> tuple[str, ...]:
        """The topics (as filters) the hub writes its states and availability to."""
        return (
            self.availability,
            self.location_state("+"),
            self.kiosk_state("+"),
        )

    def is_announcement(self, topic: str) -> bool:
        """Whether `topic` is one of this fleet's config topics."""
        head = f"{self.discovery_prefix}/"
        if not topic.startswith(head):
            return False
        levels = topic[len(head) :].split("/")
        return len(levels) == 4 and levels[1] == self.node_id and levels[3] == "config"


@dataclass(frozen=True)
class PlaceFigures:
    """A location's figures, its subtree's presses counted, misuse left out."""

    location_id: str
    name: str
    kind: str
    happy_index: float | None
    """Today, the location's local day; None without a response."""
    positive_percent: float | None
    """Today: (very happy + happy) / responses, in %."""
    responses_last_hour: int


@dataclass(frozen=True)
class KioskFigures:
    device_id: str
    location_id: str | None
    """Where it stands, if that place is known."""
    version: str | None
    online: bool
    outbox_depth: int | None


@dataclass(frozen=True)
class Announcement:
    """An entity's config topic and document."""

    topic: str
    config: Payload


def location_device(place: PlaceFigures) -> Payload:
    return {
        "identifiers": [f"seed_location_{place.location_id}"],
        "name": place.name,
        "manufacturer": MANUFACTURER,
        "model": place.kind.capitalize(),
        "sw_version": __version__,
    }


def kiosk_device(kiosk: KioskFigures) -> Payload:
    device: Payload = {
        "identifiers": [f"seed_kiosk_{kiosk.device_id}"],
        "name": kiosk.device_id,
        "manufacturer": MANUFACTURER,
        "model": "Kiosk",
    }
    if kiosk.version:
        device["sw_version"] = kiosk.version
    if kiosk.location_id:
        device["via_device"] = f"seed_location_{kiosk.location_id}"
    return device


def _entity(
    topics: HaTopics,
    component: Component,
    unique_id: str,
    fields: Payload,
) -> Announcement:
    config = {
        "unique_id": unique_id,
        **fields,
        "availability_topic": topics.availability,
        "payload_available": AVAILABLE.decode(),
        "payload_not_available": NOT_AVAILABLE.decode(),
        "origin": ORIGIN,
    }
    return Announcement(topics.config(component, topic_id(unique_id)), config)


def location_announcements(topics: HaTopics, place: PlaceFigures) -> list[Announcement]:
    """The location's three sensors."""
    base = f"seed_location_{place.location_id}"
    shared: Payload = {
        "state_topic": topics.location_state(place.location_id),
        "state_class": "measurement",
        "device": location_device(place),
    }
    return [
        _entity(
            topics,
            "sensor",
            f"{base}_happy_index",
            {
                "name": "Happy Index",
                "value_template": "{{ value_json.happy_index }}",
                "suggested_display_precision": 0,
                "icon": "mdi:emoticon-happy-outline",
                **shared,
            },
        ),
        _entity(
            topics,
            "sensor",
            f"{base}_positive",
            {
                "name": "Positive",
                "value_template": "{{ value_json.positive_percent }}",
                "unit_of_measurement": "%",
                "suggested_display_precision": 0,
                "icon": "mdi:thumb-up-outline",
                **shared,
            },
        ),
        _entity(
            topics,
            "sensor",
            f"{base}_responses_last_hour",
            {
                "name": "Responses last hour",
                "value_template": "{{ value_json.responses_last_hour }}",
                "unit_of_measurement": "responses",
                "icon": "mdi:counter",
                **shared,
            },
        ),
    ]


def kiosk_announcements(topics: HaTopics, kiosk: KioskFigures) -> list[Announcement]:
    """The kiosk's online state and outbox depth."""
    base = f"seed_kiosk_{kiosk.device_id}"
    state_topic = topics.kiosk_state(kiosk.device_id)
    device = kiosk_device(kiosk)
    return [
        _entity(
            topics,
            "binary_sensor",
            f"{base}_online",
            {
                "name": "Online",
                "device_class": "connectivity",
                "state_topic": state_topic,
                "value_template": "{{ 'ON' if value_json.online else 'OFF' }}",
                "payload_on": "ON",
                "payload_off": "OFF",
                "device": device,
            },
        ),
        _entity(
            topics,
            "sensor",
            f"{base}_outbox_depth",
            {
                "name": "Outbox depth",
                "state_topic": state_topic,
                "value_template": "{{ value_json.outbox_depth }}",
                "state_class": "measurement",
                "unit_of_measurement": "events",
                "entity_category": "diagnostic",
                "icon": "mdi:tray-full",
                "device": device,
            },
        ),
    ]


def location_state(place: PlaceFigures) -> Payload:
    return {
        "happy_index": place.happy_index,
        "positive_percent": place.positive_percent,
        "responses_last_hour": place.responses_last_hour,
    }


def kiosk_state(kiosk: KioskFigures) -> Payload:
    return {"online": kiosk.online, "outbox_depth": kiosk.outbox_depth}


def retained_messages(
    topics: HaTopics, places: list[PlaceFigures], kiosks: list[KioskFigures]
) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """(config topic -> config, state topic -> state) for every location and kiosk."""
    configs: dict[str, bytes] = {}
    states: dict[str, bytes] = {}
    for place in places:
        for announcement in location_announcements(topics, place):
            configs[announcement.topic] = encode(announcement.config)
        states[topics.location_state(place.location_id)] = encode(location_state(place))
    for kiosk in kiosks:
        for announcement in kiosk_announcements(topics, kiosk):
            configs[announcement.topic] = encode(announcement.config)
        states[topics.kiosk_state(kiosk.device_id)] = encode(kiosk_state(kiosk))
    return configs, states
