"""Topic layout, broker URLs and event ids."""

import uuid

import pytest

from protocol.broker_url import BrokerAddress, parse_broker_url
from protocol.errors import ConfigError
from protocol.ids import uuid7
from protocol.topics import TOPIC_KINDS, TopicKind, Topics

# --- Topics -----------------------------------------------------------------------------


def test_topics_build_one_subtree_per_device() -> None:
    topics = Topics("seed")

    assert topics.events("k-1") == "seed/devices/k-1/events"
    assert topics.status("k-1") == "seed/devices/k-1/status"
    assert topics.ack("k-1") == "seed/devices/k-1/ack"
    assert topics.device("k-1", "config") == "seed/devices/k-1/config"


def test_default_prefix_is_seed() -> None:
    assert Topics().events("k-1") == "seed/devices/k-1/events"


def test_multi_level_prefix_is_used_as_given() -> None:
    assert Topics("acme/airport").ack("k-1") == "acme/airport/devices/k-1/ack"


def test_every_device_is_a_single_level_wildcard() -> None:
    assert Topics("seed").every_device("events") == "seed/devices/+/events"


@pytest.mark.parametrize("kind", TOPIC_KINDS)
def test_parse_reverses_device(kind: TopicKind) -> None:
    topics = Topics("acme/airport")

    assert topics.parse(topics.device("hel-t2.sec_01", kind)) == ("hel-t2.sec_01", kind)


@pytest.mark.parametrize(
    "topic",
    [
        "other/devices/k-1/events",
        "seedx/devices/k-1/events",
        "xseed/devices/k-1/events",
        "devices/k-1/events",
    ],
)
def test_parse_rejects_other_prefixes(topic: str) -> None:
    assert Topics("seed").parse(topic) is None


@pytest.mark.parametrize(
    "topic",
    [
        "seed/devices/k-1/events/extra",
        "seed/devices/k-1",
        "seed/devices/site/k-1/events",
        "seed/devices/k-1/events/",
    ],
)
def test_parse_rejects_wrong_number_of_levels(topic: str) -> None:
    assert Topics("seed").parse(topic) is None


@pytest.mark.parametrize("kind", ["event", "Events", "commands", ""])
def test_parse_rejects_unknown_kinds(kind: str) -> None:
    assert Topics("seed").parse(f"seed/devices/k-1/{kind}") is None


@pytest.mark.parametrize("device_id", ["", "K-1", "+", "#", "-k1", "k 1", "k" * 65])
def test_parse_rejects_invalid_device_ids(device_id: str) -> None:
    assert Topics("seed").parse(f"seed/devices/{device_id}/events") is None


@pytest.mark.parametrize("prefix", ["", "seed/+", "seed/#", "+", "seed/"])
def test_invalid_prefix_raises_value_error(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        Topics(prefix)


# --- Broker URLs ------------------------------------------------------------------------


def test_mqtt_url_defaults_to_port_1883_without_tls() -> None:
    assert parse_broker_url("mqtt://hub.local") == BrokerAddress("hub.local", 1883, tls=False)


def test_mqtts_url_defaults_to_port_8883_with_tls() -> None:
    assert parse_broker_url("mqtts://hub.local") == BrokerAddress("hub.local", 8883, tls=True)


def test_explicit_port_is_kept() -> None:
    assert parse_broker_url("mqtts://10.0.0.2:18883") == BrokerAddress("10.0.0.2", 18883, tls=True)


def test_broker_address_url_round_trips() -> None:
    address = parse_broker_url("mqtt://hub.local:1884")

    assert address.url == "mqtt://hub.local:1884"
    assert parse_broker_url(address.url) == address


def test_ipv6_broker_address_url_round_trips() -> None:
    address = parse_broker_url("mqtt://[::1]:1884")

    assert parse_broker_url(address.url) == address


@pytest.mark.parametrize(
    "url",
    [
        "http://hub:1883",
        "tcp://hub:1883",
        "hub:1883",
        "mqtt://",
        "mqtt://hub:99999",
        "mqtt://hub:port",
    ],
)
def test_bad_broker_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="broker URL"):
        parse_broker_url(url)


# --- Event ids --------------------------------------------------------------------------


def test_uuid7_has_version_7_and_the_rfc_variant() -> None:
    value = uuid7()

    assert value.version == 7
    assert value.variant == uuid.RFC_4122


def test_uuid7_starts_with_the_given_unix_milliseconds() -> None:
    unix_ms = 1_717_236_000_123

    assert uuid7(unix_ms).int >> 80 == unix_ms


def test_uuid7_is_ordered_by_time() -> None:
    ids = [uuid7(unix_ms) for unix_ms in range(1_717_236_000_000, 1_717_236_000_200)]

    assert ids == sorted(ids)
    assert [str(i) for i in ids] == sorted(str(i) for i in ids)


def test_uuid7_is_unique_within_one_millisecond() -> None:
    ids = {uuid7(1_717_236_000_000) for _ in range(10_000)}

    assert len(ids) == 10_000
