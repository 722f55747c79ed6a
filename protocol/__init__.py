"""The wire protocol shared by kiosks and the hub: topics, message schemas, errors.

Nothing here imports hardware, MQTT or database code, so both sides can depend on it.
"""

from protocol.errors import ConfigError, ProtocolError, SeedError
from protocol.messages import (
    BUTTONS,
    SCHEMA_VERSION,
    Ack,
    Button,
    DeviceState,
    DeviceStatus,
    PressEvent,
    Rejection,
    decode_ack,
    decode_event,
    decode_status,
    encode,
)
from protocol.topics import Topics

__all__ = [
    "BUTTONS",
    "SCHEMA_VERSION",
    "Ack",
    "Button",
    "ConfigError",
    "DeviceState",
    "DeviceStatus",
    "PressEvent",
    "ProtocolError",
    "Rejection",
    "SeedError",
    "Topics",
    "decode_ack",
    "decode_event",
    "decode_status",
    "encode",
]
