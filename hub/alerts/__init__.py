"""Alerts: rules watched at each location, a CUSUM on the unhappy share, device health,
and an outbox that delivers each alert once to MQTT, a webhook and e-mail."""
