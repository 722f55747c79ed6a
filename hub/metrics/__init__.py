"""Prometheus metrics: what the hub records as it works, what the database says at scrape
time, and where both are served (docs/metrics.md)."""
