"""Prometheus metrics (SPEC §8): one registry per app, `GET /metrics`."""
