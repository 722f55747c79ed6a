"""Home Assistant's MQTT discovery: each location and kiosk as a device there (opt-in, see
docs/homeassistant.md)."""
