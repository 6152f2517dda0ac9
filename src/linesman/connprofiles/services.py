"""The values the platform uses for a device type: its connection profile's where set,
else the platform's defaults."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

#: The metrics collection interval when no profile sets one (seconds).
DEFAULT_METRICS_INTERVAL = 900


@dataclass(frozen=True)
class Effective:
    connection_request_methods: tuple[str, ...]
    metrics_interval: int
    log_level: str
    log_retention_days: int


def _type_methods(device_type) -> tuple[str, ...]:
    """The type's own methods (a comma-separated field where the type has one)."""
    own = getattr(device_type, "connection_request_methods", None) if device_type else None
    if isinstance(own, str):
        own = [m.strip() for m in own.split(",") if m.strip()]
    return tuple(own or ("http",))


def effective(device_type) -> Effective:
    """What applies to devices of `device_type` (a DeviceType, or None)."""
    profile = getattr(device_type, "connection_profile", None) if device_type else None
    retention = settings.LINESMAN_DEVICE_LOG_RETENTION_DAYS
    if profile is None:
        return Effective(_type_methods(device_type), DEFAULT_METRICS_INTERVAL, "events", retention)
    return Effective(
        tuple(profile.connection_request_methods or _type_methods(device_type)),
        profile.metrics_interval or DEFAULT_METRICS_INTERVAL,
        profile.log_level,
        profile.log_retention_days or retention,
    )
