"""The kiosk runtime: smiley panel -> press recorder -> outbox -> MQTT uplink."""

__version__ = "0.1.0"
