"""What kiosks and the hub share: the wire protocol (topics, message schemas), the MQTT
connection, the one exception hierarchy and small helpers (broker URLs, event ids, logs,
atomic files, untrusted text).

`protocol.mqtt` is the only module that imports paho-mqtt (benchmarks aside, whose baseline
is bare paho on purpose); the kiosk and the hub both connect through it. Importing this
package does not import it, and nothing here imports hardware or database code, so both
sides can depend on it.
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
