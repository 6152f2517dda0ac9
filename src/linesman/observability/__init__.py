"""Observability: the platform's own figures for Prometheus (`GET /metrics`)."""
