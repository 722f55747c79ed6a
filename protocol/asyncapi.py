"""The AsyncAPI 3.0 document of the wire protocol, from the kiosk's point of view: a kiosk
(or any terminal) sends on `events` and `status` and receives on `ack` and `config`.

Message payloads reference the per-message JSON Schemas beside the document.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from protocol.catalogue import JsonObject, WireMessage
from protocol.messages import SCHEMA_VERSION
from protocol.topics import TOPIC_KINDS, TopicKind

ASYNCAPI_VERSION = "3.0.0"
MQTT_BINDING_VERSION = "0.2.0"
SCHEMA_FORMAT = "application/schema+json;version=draft-2020-12"
KEEPALIVE_S = 30

CHANNELS: dict[TopicKind, str] = {
    "events": "Presses and follow-ups, each stored once by its id and acknowledged on `ack`.",
    "status": "Retained: birth and heartbeat (`online`), last will and clean stop (`offline`).",
    "ack": "The hub's answer to each batch of events and to each live status.",
    "config": "Retained: the hub's latest settings for the terminal (apply a higher version).",
}


@dataclass(frozen=True)
class Operation:
    action: Literal["send", "receive"]
    topic: TopicKind
    retain: bool
    summary: str
    reply: TopicKind | None = None


OPERATIONS: dict[str, Operation] = {
    "sendEvents": Operation(
        "send",
        "events",
        False,
        "Publish each outbox row at QoS 1; delete it once an ack names it, resend it if none "
        "does within the ack timeout.",
        reply="ack",
    ),
    "sendStatus": Operation(
        "send",
        "status",
        True,
        "Publish `online` at connect and at each heartbeat (at most 3 minutes apart), "
        "retained; set the `offline` last will at connect.",
        reply="ack",
    ),
    "receiveAck": Operation(
        "receive", "ack", False, "Subscribe before sending anything: acks are not queued."
    ),
    "receiveConfig": Operation(
        "receive",
        "config",
        True,
        "Subscribe at connect: the broker replays the retained config; an empty payload clears it.",
    ),
}

DESCRIPTION = """\
Smiley-button terminals publish presses to a hub over MQTT and delete each press from \
their outbox only when the hub's ack names it. Every message is a JSON object whose `v` \
is the schema version (1). docs/protocol.md explains the rules: acks and resending, clock \
correction, limits, refusal reasons, TLS and logins, and versioning.\
"""

LAST_WILL_EXAMPLE = '{"v":1,"device_id":"<device_id>","state":"offline","sent_at":"<connect time>"}'


def asyncapi_document(
    catalogue: Sequence[WireMessage], schema_path: Callable[[WireMessage], str]
) -> JsonObject:
    """The document; `schema_path` gives each message's schema file relative to it."""
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Seed kiosk protocol",
            "version": str(SCHEMA_VERSION),
            "description": DESCRIPTION,
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": "application/json",
        "servers": _servers(),
        "channels": {topic: _channel(topic, catalogue) for topic in TOPIC_KINDS},
        "operations": {
            name: _operation(operation, catalogue) for name, operation in OPERATIONS.items()
        },
        "components": {
            "messages": {wire.name: _message(wire, schema_path(wire)) for wire in catalogue},
            "securitySchemes": {
                "password": {
                    "type": "userPassword",
                    "description": "Username: the device id. Password: the one "
                    "`seed-hub devices add --auth password` wrote into the terminal's bundle.",
                },
                "certificate": {
                    "type": "X509",
                    "description": "A client certificate signed by the fleet CA, its common "
                    "name the device id (`seed-hub devices add --auth certificate`).",
                },
            },
        },
    }


def _mqtt(**fields: Any) -> JsonObject:
    return {"mqtt": {**fields, "bindingVersion": MQTT_BINDING_VERSION}}


def _servers() -> JsonObject:
    host = {"host": {"description": "the hub's broker, as the terminal's bundle names it"}}
    will = {
        "topic": "{prefix}/devices/{device_id}/status",
        "qos": 1,
        "retain": True,
        "message": LAST_WILL_EXAMPLE,
    }
    session = _mqtt(cleanSession=True, keepAlive=KEEPALIVE_S, lastWill=will)
    return {
        "password": {
            "host": "{host}:8883",
            "protocol": "secure-mqtt",
            "protocolVersion": "3.1.1",
            "description": "TLS (1.2 or later) against the fleet CA; username and password.",
            "variables": host,
            "security": [{"$ref": "#/components/securitySchemes/password"}],
            "bindings": session,
        },
        "certificate": {
            "host": "{host}:8884",
            "protocol": "secure-mqtt",
            "protocolVersion": "3.1.1",
            "description": "TLS (1.2 or later) against the fleet CA; a client certificate.",
            "variables": host,
            "security": [{"$ref": "#/components/securitySchemes/certificate"}],
            "bindings": session,
        },
        "embedded": {
            "host": "127.0.0.1:1883",
            "protocol": "mqtt",
            "protocolVersion": "3.1.1",
            "description": "The hub's own broker on a one-box install: loopback, no login.",
            "bindings": session,
        },
    }


def _channel(topic: TopicKind, catalogue: Sequence[WireMessage]) -> JsonObject:
    return {
        "address": "{prefix}/devices/{device_id}/" + topic,
        "description": CHANNELS[topic],
        "messages": {
            wire.name: {"$ref": f"#/components/messages/{wire.name}"}
            for wire in catalogue
            if wire.topic == topic
        },
        "parameters": {
            "prefix": {
                "default": "seed",
                "description": "The fleet's topic prefix (SEED_HUB_TOPIC_PREFIX); may hold "
                "slashes, never `+` or `#`.",
            },
            "device_id": {
                "description": "The terminal's id: 1 to 64 of a-z 0-9 . _ -, starting with a "
                "letter or digit; its MQTT username.",
                "examples": ["hel-t2-sec-1"],
            },
        },
    }


def _operation(operation: Operation, catalogue: Sequence[WireMessage]) -> JsonObject:
    document: JsonObject = {
        "action": operation.action,
        "channel": {"$ref": f"#/channels/{operation.topic}"},
        "summary": operation.summary,
        "messages": _message_refs(operation.topic, catalogue),
        "bindings": _mqtt(qos=1, retain=operation.retain),
    }
    if operation.reply is not None:
        document["reply"] = {
            "channel": {"$ref": f"#/channels/{operation.reply}"},
            "messages": _message_refs(operation.reply, catalogue),
        }
    return document


def _message_refs(topic: TopicKind, catalogue: Sequence[WireMessage]) -> list[JsonObject]:
    return [
        {"$ref": f"#/channels/{topic}/messages/{wire.name}"}
        for wire in catalogue
        if wire.topic == topic
    ]


def _message(wire: WireMessage, schema_path: str) -> JsonObject:
    return {
        "name": wire.name,
        "title": wire.model.__name__,
        "summary": wire.summary,
        "contentType": "application/json",
        "payload": {"schemaFormat": SCHEMA_FORMAT, "schema": {"$ref": schema_path}},
        "examples": [
            {"name": example.name, "summary": example.summary, "payload": example.payload}
            for example in wire.examples
        ],
    }
