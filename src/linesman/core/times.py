"""Timestamps as the API writes them: ISO 8601, UTC as `Z`."""

from __future__ import annotations

from datetime import datetime


def iso_z(value: datetime | None) -> str | None:
    """`2024-01-16T02:00:00Z` for an aware UTC datetime; None stays None."""
    return value.isoformat().replace("+00:00", "Z") if value else None
