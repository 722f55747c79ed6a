"""The hub: MQTT ingest -> store -> acknowledgement, rollups and per-location scores."""

__version__ = "0.1.0"
