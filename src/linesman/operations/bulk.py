"""Bulk jobs across many devices (see the headless operation endpoints)."""

from __future__ import annotations


def on_operation_finished(op) -> None:
    """A device operation of a bulk job ended; the job's progress counts it."""
    from linesman.operations.models import Operation  # noqa: F401  (job model comes next)
