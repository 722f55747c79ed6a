"""Alerts: rules watched at each location, a CUSUM on the unhappy share, device health,
and a delivery queue that sends each alert once to MQTT, a webhook and e-mail."""
