"""Discovery payloads held to Home Assistant's documented format (integrations/mqtt, sensor.mqtt,
binary_sensor.mqtt): topics, keys each component takes, the device and origin blocks, and the
value templates rendered as Home Assistant renders them (Jinja, `value_json`)."""

import json
import re
from typing import Any

import pytest
from jinja2.sandbox import SandboxedEnvironment

from hub.config import HomeAssistantSettings, HubSettings, MqttSettings
from hub.homeassistant.discovery import (
    Announcement,
    HaTopics,
    KioskFigures,
    PlaceFigures,
    kiosk_announcements,
    kiosk_state,
    location_announcements,
    location_state,
    retained_messages,
    topic_id,
)

# From Home Assistant's MQTT docs: the options every MQTT entity takes, then each component's.
ENTITY_KEYS = {
    "availability",
    "availability_mode",
    "availability_template",
    "availability_topic",
    "default_entity_id",
    "device",
    "enabled_by_default",
    "encoding",
    "entity_category",
    "entity_picture",
    "icon",
    "json_attributes_template",
    "json_attributes_topic",
    "name",
    "object_id",
    "origin",
    "payload_available",
    "payload_not_available",
    "platform",
    "qos",
    "state_topic",
    "unique_id",
    "value_template",
}
COMPONENT_KEYS = {
    "sensor": ENTITY_KEYS
    | {
        "device_class",
        "expire_after",
        "force_update",
        "last_reset_value_template",
        "options",
        "state_class",
        "suggested_display_precision",
        "unit_of_measurement",
    },
    "binary_sensor": ENTITY_KEYS
    | {"device_class", "expire_after", "force_update", "off_delay", "payload_off", "payload_on"},
}
REQUIRED_KEYS = {"sensor": {"state_topic"}, "binary_sensor": {"state_topic"}}
DEVICE_KEYS = {
    "configuration_url",
    "connections",
    "hw_version",
    "identifiers",
    "manufacturer",
    "model",
    "model_id",
    "name",
    "serial_number",
    "suggested_area",
    "sw_version",
    "via_device",
}
ORIGIN_KEYS = {"name", "sw_version", "support_url"}
STATE_CLASSES = {"measurement", "measurement_angle", "total", "total_increasing"}
ENTITY_CATEGORIES = {"config", "diagnostic"}
BINARY_SENSOR_CLASSES_USED = {"connectivity"}
TOPIC_ID = re.compile(r"[a-zA-Z0-9_-]+")
DISCOVERY_TOPIC = re.compile(
    r"(?P<prefix>.+)/(?P<component>[a-z_]+)/(?P<node>[^/]+)/(?P<object>[^/]+)/config"
)

TOPICS = HaTopics("homeassistant", "seed/ha", "seed")
SITE = PlaceFigures("hel", "Helsinki Airport", "site", 71.2, 60.0, 12)
GATE = PlaceFigures("hel.gate-1", "Gate 1", "touchpoint", None, None, 0)
KIOSK = KioskFigures("k-1", "hel.gate-1", "0.1.0", True, 3)
LOOSE_KIOSK = KioskFigures("k.2", None, None, False, None)


def _all() -> list[Announcement]:
    return [
        *location_announcements(TOPICS, SITE),
        *location_announcements(TOPICS, GATE),
        *kiosk_announcements(TOPICS, KIOSK),
        *kiosk_announcements(TOPICS, LOOSE_KIOSK),
    ]


@pytest.mark.parametrize("announcement", _all(), ids=lambda a: a.topic)
def test_each_config_has_the_documented_shape(announcement: Announcement) -> None:
    found = DISCOVERY_TOPIC.fullmatch(announcement.topic)
    assert found, announcement.topic
    component = found["component"]
    assert component in COMPONENT_KEYS
    assert found["prefix"] == "homeassistant"
    assert TOPIC_ID.fullmatch(found["node"]) and TOPIC_ID.fullmatch(found["object"])
    config = announcement.config
    assert set(config) <= COMPONENT_KEYS[component], set(config) - COMPONENT_KEYS[component]
    assert REQUIRED_KEYS[component] <= set(config)
    assert found["object"] == topic_id(config["unique_id"]), "object id = unique id (HA advice)"
    device = config["device"]
    assert set(device) <= DEVICE_KEYS and device["identifiers"] and device["name"]
    assert set(config["origin"]) <= ORIGIN_KEYS and config["origin"]["name"]
    assert config["availability_topic"] == "seed/ha/availability"
    assert (config["payload_available"], config["payload_not_available"]) == ("online", "offline")
    assert config.get("state_class", "measurement") in STATE_CLASSES
    assert config.get("entity_category", "config") in ENTITY_CATEGORIES
    if component == "binary_sensor":
        assert config["device_class"] in BINARY_SENSOR_CLASSES_USED
    assert json.loads(json.dumps(config)) == config, "plain JSON"


def test_one_device_per_location_with_its_three_sensors() -> None:
    configs = {a.config["unique_id"]: a.config for a in location_announcements(TOPICS, SITE)}
    assert set(configs) == {
        "seed_location_hel_happy_index",
        "seed_location_hel_positive",
        "seed_location_hel_responses_last_hour",
    }
    devices = [config["device"] for config in configs.values()]
    assert all(device == devices[0] for device in devices)
    assert devices[0]["identifiers"] == ["seed_location_hel"]
    assert devices[0]["name"] == "Helsinki Airport"
    assert configs["seed_location_hel_positive"]["unit_of_measurement"] == "%"
    assert {c["state_topic"] for c in configs.values()} == {"seed/ha/locations/hel/state"}


def test_a_kiosk_is_its_own_device_reached_via_its_location() -> None:
    configs = {a.config["unique_id"]: a for a in kiosk_announcements(TOPICS, KIOSK)}
    online = configs["seed_kiosk_k-1_online"]
    assert online.topic == "homeassistant/binary_sensor/seed/seed_kiosk_k-1_online/config"
    assert online.config["device_class"] == "connectivity"
    depth = configs["seed_kiosk_k-1_outbox_depth"]
    assert depth.topic.startswith("homeassistant/sensor/")
    device = online.config["device"]
    assert device == depth.config["device"]
    assert device["identifiers"] == ["seed_kiosk_k-1"]
    location = location_announcements(TOPICS, GATE)[0].config["device"]
    assert device["via_device"] in location["identifiers"]
    assert device["sw_version"] == "0.1.0"
    loose = kiosk_announcements(TOPICS, LOOSE_KIOSK)[0].config["device"]
    assert "via_device" not in loose and "sw_version" not in loose


def _render(template: str, state: dict[str, Any]) -> str:
    """As Home Assistant renders a value template: Jinja, the payload parsed as `value_json`."""
    payload = json.dumps(state)
    return SandboxedEnvironment().from_string(template).render(value_json=json.loads(payload))


def test_the_templates_read_each_figure_and_unknown_as_none() -> None:
    site = {a.config["unique_id"]: a.config for a in location_announcements(TOPICS, SITE)}
    state = location_state(SITE)
    assert _render(site["seed_location_hel_happy_index"]["value_template"], state) == "71.2"
    assert _render(site["seed_location_hel_positive"]["value_template"], state) == "60.0"
    responses = site["seed_location_hel_responses_last_hour"]["value_template"]
    assert _render(responses, state) == "12"
    gate = location_announcements(TOPICS, GATE)[0].config
    # HA's PAYLOAD_NONE: a sensor whose template renders "None" is unknown, not an error
    assert _render(gate["value_template"], location_state(GATE)) == "None"
    online, depth = (a.config for a in kiosk_announcements(TOPICS, KIOSK))
    assert _render(online["value_template"], kiosk_state(KIOSK)) == online["payload_on"]
    assert _render(depth["value_template"], kiosk_state(KIOSK)) == "3"
    offline = kiosk_announcements(TOPICS, LOOSE_KIOSK)[0].config
    assert _render(offline["value_template"], kiosk_state(LOOSE_KIOSK)) == offline["payload_off"]


def test_every_entity_of_a_fleet_has_its_own_unique_id_and_topic() -> None:
    announcements = _all()
    assert len({a.config["unique_id"] for a in announcements}) == len(announcements)
    assert len({a.topic for a in announcements}) == len(announcements)
    configs, states = retained_messages(TOPICS, [SITE, GATE], [KIOSK, LOOSE_KIOSK])
    assert set(configs) == {a.topic for a in announcements}
    assert set(states) == {
        "seed/ha/locations/hel/state",
        "seed/ha/locations/hel.gate-1/state",
        "seed/ha/kiosks/k-1/state",
        "seed/ha/kiosks/k.2/state",
    }


@pytest.mark.parametrize(
    ("one", "other"), [("gate.1", "gate_1"), ("gate.1", "gate_2e_1"), ("a-b", "a_b")]
)
def test_ids_become_distinct_topic_ids(one: str, other: str) -> None:
    assert TOPIC_ID.fullmatch(topic_id(one)) and TOPIC_ID.fullmatch(topic_id(other))
    assert topic_id(one) != topic_id(other)


def test_topics_follow_the_settings() -> None:
    settings = HubSettings(
        mqtt=MqttSettings(topic_prefix="fleet/eu"),
        homeassistant=HomeAssistantSettings(enabled=True, discovery_prefix="ha"),
    )
    topics = HaTopics.of(settings)
    assert topics == HaTopics("ha", "fleet/eu/ha", "fleet_2F_eu")
    assert topics.announced == "ha/+/fleet_2F_eu/+/config"
    assert topics.is_announcement("ha/sensor/fleet_2F_eu/x/config")
    assert not topics.is_announcement("ha/sensor/other/x/config")
    assert not topics.is_announcement("fleet/eu/devices/k-1/config")
    explicit = HomeAssistantSettings(state_prefix="building/seed")
    assert HaTopics.of(HubSettings(homeassistant=explicit)).availability == (
        "building/seed/availability"
    )


@pytest.mark.parametrize("prefix", ["", "ha/#", "ha/+/x", "/ha", "ha/"])
def test_a_prefix_with_wildcards_or_empty_levels_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="no topic prefix"):
        HomeAssistantSettings(discovery_prefix=prefix)


def test_home_assistant_is_off_unless_turned_on() -> None:
    assert HomeAssistantSettings().enabled is False
    assert HomeAssistantSettings().discovery_prefix == "homeassistant"
    assert HomeAssistantSettings().publish_s == 60
